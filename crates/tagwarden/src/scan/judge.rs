//! Judgement: turns each reference into a record and its findings.
//!
//! A malicious digest is critical whatever the time (caches and pins outlive the registry fix);
//! an unpinned reference to an affected tag was exposed if pulled in the window; anything else
//! unpinned can be moved under you by whoever holds the publisher's credentials.

use tagwarden_advisory::{ActionVerdict, ImageVerdict, Window};
use tagwarden_extract::{ActionUse, Form, ImageOccurrence};
use tagwarden_findings::{ActionRecord, ByteSpan, Finding, Location, ReferenceRecord, Rule, rules};
use tagwarden_reference::Reference;

use super::file::FileText;
use super::{Context, FileOutcome};

pub(super) fn image(
    file: &FileText<'_>,
    occ: &ImageOccurrence,
    ctx: &Context<'_>,
    out: &mut FileOutcome,
) {
    let loc = file.location(occ.span.start, occ.span.end);
    let parsed = occ.image.as_ref().map(|s| (s, Reference::parse(s)));
    let record = |image: Option<String>, pinned: bool| ReferenceRecord {
        path: loc.path.clone(),
        line: loc.line,
        column: loc.column,
        span: ByteSpan {
            start: occ.span.start,
            end: occ.span.end,
        },
        text: occ.text.clone(),
        image,
        source: occ.source.as_str().to_string(),
        pinned,
        context: occ.context.clone(),
        alias_sites: occ
            .alias_sites
            .iter()
            .map(|s| file.location(s.start, s.end))
            .collect(),
    };
    let finding = |rule: &'static Rule, message: String, image: Option<String>| Finding {
        rule,
        severity: rule.default_severity,
        location: loc.clone(),
        message,
        image,
        advisory: None,
        snippet: Some(file.line(loc.line)),
        notes: Vec::new(),
    };

    let (written, r) = match parsed {
        Err(unresolved) => {
            out.references.push(record(None, false));
            let mut f = finding(
                &rules::UNRESOLVABLE_REFERENCE,
                format!(
                    "cannot tell which image `{}` is: {}",
                    occ.text, unresolved.reason
                ),
                None,
            );
            f.notes.push(
                "pin the value where it is defined, or ignore this line if it is set at run time"
                    .into(),
            );
            out.findings.push(f);
            return;
        }
        Ok((written, Err(e))) => {
            out.references.push(record(None, false));
            // Point at the offending byte when the text is the reference itself.
            let mut f = finding(
                &rules::INVALID_REFERENCE,
                format!("`{written}` is not a valid image reference: {}", e.kind()),
                None,
            );
            if occ.exact && matches!(occ.form, Form::Literal) {
                let at = occ.span.start + e.offset().min(occ.span.len());
                f.location = file.location(at, occ.span.end.max(at));
            }
            out.findings.push(f);
            return;
        }
        Ok((written, Ok(r))) => (written, r),
    };

    let image = r.to_string();
    out.references
        .push(record(Some(image.clone()), r.is_pinned()));
    // An ignored image is still judged for compromise when the config is guarded.
    let ignored = ctx.config.ignores_image(&r);
    if ignored && !ctx.config.is_guarded() {
        return;
    }

    let mut flagged = false;
    for m in ctx.advisories.match_image(&r) {
        if ignored && !matches!(m.verdict, ImageVerdict::MaliciousDigest { .. }) {
            continue;
        }
        let (rule, message, note) = match &m.verdict {
            ImageVerdict::MaliciousDigest {
                digest,
                kind,
                platform,
                tags,
                confidence,
                disputed,
            } => (
                &rules::COMPROMISED_DIGEST,
                format!(
                    "`{written}` is pinned to a malicious {kind}{} digest ({})",
                    platform
                        .as_ref()
                        .map(|p| format!(" {p}"))
                        .unwrap_or_default(),
                    m.advisory_title
                ),
                format!(
                    "{digest} was pushed as {} (confidence {confidence}{}); treat every machine that pulled it as compromised",
                    if tags.is_empty() {
                        "an attacker tag".to_string()
                    } else {
                        tags.join(", ")
                    },
                    if *disputed { ", disputed" } else { "" }
                ),
            ),
            ImageVerdict::AffectedTag {
                repository,
                tag,
                window,
                disputed_window,
            } => (
                &rules::AFFECTED_TAG,
                format!(
                    "`{written}` follows {repository}:{tag}, a tag overwritten in {}",
                    m.advisory_title
                ),
                format!(
                    "exposed if pulled {}{}; pin a known-good digest",
                    window.describe(),
                    disputed_window
                        .as_ref()
                        .map(|d| if d.end == Window::OPEN.end {
                            format!(" (disputed: {})", d.describe())
                        } else {
                            format!(" (disputed until {})", d.end)
                        })
                        .unwrap_or_default()
                ),
            ),
            ImageVerdict::KnownGood { .. } => continue,
        };
        let mut f = finding(rule, message, Some(image.clone()));
        f.advisory = Some(m.advisory_id.clone());
        f.notes.push(note);
        out.findings.push(f);
        flagged = true;
    }

    // One finding about pinning per reference: an affected tag already says it is unpinned; a
    // name the file builds is not pulled, so it has no digest to pin.
    if !r.is_pinned() && !flagged && !occ.built_locally() && !ignored {
        let (rule, message) = if r.is_latest() {
            (
                &rules::FLOATING_LATEST,
                format!("`{written}` floats on `latest`: every pull may get a different image"),
            )
        } else {
            (
                &rules::UNPINNED_IMAGE,
                format!(
                    "`{written}` is not pinned to a digest: whoever can push the tag decides what runs"
                ),
            )
        };
        out.findings.push(finding(rule, message, Some(image)));
    }
}

pub(super) fn action(
    file: &FileText<'_>,
    action: &ActionUse,
    ctx: &Context<'_>,
    out: &mut FileOutcome,
) {
    let loc: Location = file.location(action.span.start, action.span.end);
    out.actions.push(ActionRecord {
        path: loc.path.clone(),
        line: loc.line,
        column: loc.column,
        span: ByteSpan {
            start: action.span.start,
            end: action.span.end,
        },
        text: action.text.clone(),
        repository: action.repository.clone(),
        git_ref: action.git_ref.clone(),
        pinned: action.pinned,
    });
    let finding = |rule: &'static Rule, message: String| Finding {
        rule,
        severity: rule.default_severity,
        location: loc.clone(),
        message,
        image: None,
        advisory: None,
        snippet: Some(file.line(loc.line)),
        notes: Vec::new(),
    };
    let mut flagged = false;
    for m in ctx
        .advisories
        .match_action(&action.repository, &action.git_ref)
    {
        let (rule, message, note) = match &m.verdict {
            ActionVerdict::MaliciousCommit { sha, confidence } => (
                &rules::COMPROMISED_ACTION,
                format!(
                    "`{}` is pinned to a malicious commit ({})",
                    action.text, m.advisory_title
                ),
                format!(
                    "{sha} is an imposter commit (confidence {confidence}); secrets of every job that ran it are exposed"
                ),
            ),
            ActionVerdict::AffectedTag { tag, window } => (
                &rules::AFFECTED_ACTION,
                format!(
                    "`{}` uses tag {tag}, force-pushed in {}",
                    action.text, m.advisory_title
                ),
                format!(
                    "runs {} executed the attacker's code; pin a known-good commit SHA",
                    window.describe()
                ),
            ),
            ActionVerdict::KnownGood { .. } => continue,
        };
        let mut f = finding(rule, message);
        f.advisory = Some(m.advisory_id.clone());
        f.notes.push(note);
        out.findings.push(f);
        flagged = true;
    }
    if !action.pinned && !flagged {
        out.findings.push(finding(
            &rules::UNPINNED_ACTION,
            format!(
                "`{}` is not pinned to a commit SHA: a force-pushed tag runs new code",
                action.text
            ),
        ));
    }
}
