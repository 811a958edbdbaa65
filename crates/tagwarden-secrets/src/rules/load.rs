//! Rule files: TOML into raw spanned structs, then validation into [`Rule`]s. Every error
//! carries the position of the value it is about.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use tagwarden_text::LineIndex;
use toml::Spanned;

use super::{
    AssignmentRule, Confidence, Example, Matcher, Pair, Rotation, Rule, RuleError, Source,
};

/// Removed from examples before they are scanned: it splits a token that looks real so that
/// secret scanning of this repository does not flag the rule files themselves.
pub(crate) const SPLIT_MARKER: &str = "{split}";

/// The longest a pattern may be, and the most memory its compiled form may take.
const MAX_PATTERN_LEN: usize = 4096;
const REGEX_SIZE_LIMIT: usize = 1 << 22;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rotation: Vec<Spanned<RawRotation>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRotation {
    id: Spanned<String>,
    docs: Spanned<String>,
    revoke: Spanned<String>,
    reissue: Spanned<String>,
    update: Spanned<String>,
    confirm: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    name: Spanned<String>,
    provider: Spanned<String>,
    kind: Spanned<String>,
    confidence: Spanned<String>,
    rotation: Spanned<String>,
    #[serde(default)]
    keywords: Vec<Spanned<String>>,
    pattern: Option<Spanned<String>>,
    assignment: Option<Spanned<RawAssignment>>,
    entropy: Option<Spanned<f64>>,
    pair: Option<Spanned<RawPair>>,
    #[serde(default)]
    examples: Vec<Spanned<RawExample>>,
    #[serde(default)]
    negative_examples: Vec<Spanned<RawExample>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssignment {
    name: Spanned<String>,
    not_name: Option<Spanned<String>>,
    #[serde(default)]
    sources: Vec<Spanned<String>>,
    #[serde(default)]
    declared: bool,
    value: Option<Spanned<String>>,
    min_length: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPair {
    rule: Spanned<String>,
    within_lines: Spanned<i64>,
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawExample {
    Text(String),
    File { path: String, text: String },
}

struct Ctx<'a> {
    path: &'a str,
    index: LineIndex,
    text: &'a str,
    errors: Vec<RuleError>,
}

impl Ctx<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = self.index.line_col(self.text, span.start);
        self.errors.push(RuleError {
            path: self.path.to_string(),
            line,
            column,
            message: message.into(),
        });
    }

    fn position(&self, at: usize) -> String {
        let (line, column) = self.index.line_col(self.text, at);
        format!("{}:{line}:{column}", self.path)
    }

    fn regex(&mut self, s: &Spanned<String>, what: &str) -> Option<Regex> {
        if s.get_ref().len() > MAX_PATTERN_LEN {
            self.error(
                s.span(),
                format!("{what} is longer than {MAX_PATTERN_LEN} bytes"),
            );
            return None;
        }
        match regex::RegexBuilder::new(s.get_ref())
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(r) => Some(r),
            Err(e) => {
                let msg = e.to_string().replace('\n', " ");
                self.error(
                    s.span(),
                    format!("{what} is not a valid regular expression: {msg}"),
                );
                None
            }
        }
    }

    fn nonempty(&mut self, s: &Spanned<String>, what: &str) -> String {
        if s.get_ref().trim().is_empty() {
            self.error(s.span(), format!("{what} must not be empty"));
        }
        s.get_ref().clone()
    }
}

/// The rules in file order, and every rotation by id (rules share them; a file may define
/// rotations that no rule uses, for credentials found by other means than a rule).
pub(crate) type Loaded = (Vec<Arc<Rule>>, HashMap<String, Arc<Rotation>>);

/// Loads every file; the rules come out in file order. Any error anywhere fails the whole set.
pub(crate) fn load(files: &[(&str, &str)]) -> Result<Loaded, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut rotations: HashMap<String, Arc<Rotation>> = HashMap::new();
    let mut parsed = Vec::new();
    for &(path, text) in files {
        let mut ctx = Ctx {
            path,
            index: LineIndex::new(text),
            text,
            errors: Vec::new(),
        };
        match toml::from_str::<RawFile>(text) {
            Err(e) => {
                let at = e.span().map_or(0, |s| s.start);
                ctx.error(at..at, e.message().trim_end().to_string());
            }
            Ok(raw) => {
                for r in &raw.rotation {
                    let rot = rotation(&mut ctx, r.get_ref());
                    if rotations.contains_key(&rot.id) {
                        ctx.error(
                            r.get_ref().id.span(),
                            format!("rotation {:?} is defined twice", rot.id),
                        );
                    }
                    rotations.insert(rot.id.clone(), Arc::new(rot));
                }
                parsed.push((ctx, raw.rule));
                continue;
            }
        }
        errors.append(&mut ctx.errors);
    }

    let mut rules: Vec<Arc<Rule>> = Vec::new();
    let mut ids = HashSet::new();
    let mut pairs = Vec::new();
    for (mut ctx, raw_rules) in parsed {
        for raw in raw_rules {
            let at = raw.span().start;
            let raw = raw.into_inner();
            if !ids.insert(raw.id.get_ref().clone()) {
                ctx.error(
                    raw.id.span(),
                    format!("rule {:?} is defined twice", raw.id.get_ref()),
                );
            }
            if let Some(p) = &raw.pair {
                pairs.push((
                    ctx.position(p.span().start),
                    p.get_ref().rule.get_ref().clone(),
                ));
            }
            if let Some(rule) = rule(&mut ctx, raw, at, &rotations) {
                rules.push(Arc::new(rule));
            }
        }
        errors.append(&mut ctx.errors);
    }
    for (at, partner) in pairs {
        if !ids.contains(&partner) {
            errors.push(error_at(
                &at,
                format!("pair names unknown rule {partner:?}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok((rules, rotations))
    } else {
        Err(errors)
    }
}

/// An error at a `path:line:column` position string.
fn error_at(position: &str, message: String) -> RuleError {
    let mut parts = position.rsplitn(3, ':');
    let column = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
    let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(1);
    let path = parts.next().unwrap_or("").to_string();
    RuleError {
        path,
        line,
        column,
        message,
    }
}

fn rotation(ctx: &mut Ctx<'_>, raw: &RawRotation) -> Rotation {
    let docs = raw.docs.get_ref();
    if !docs.starts_with("https://") {
        ctx.error(
            raw.docs.span(),
            "docs must be an https:// link to the provider's documentation",
        );
    }
    Rotation {
        id: ctx.nonempty(&raw.id, "id"),
        docs: docs.clone(),
        revoke: ctx.nonempty(&raw.revoke, "revoke"),
        reissue: ctx.nonempty(&raw.reissue, "reissue"),
        update: ctx.nonempty(&raw.update, "update"),
        confirm: ctx.nonempty(&raw.confirm, "confirm"),
    }
}

fn is_rule_id(s: &str) -> bool {
    s.len() <= 100
        && s.contains('.')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn rule(
    ctx: &mut Ctx<'_>,
    raw: RawRule,
    at: usize,
    rotations: &HashMap<String, Arc<Rotation>>,
) -> Option<Rule> {
    let id = raw.id.get_ref().clone();
    if !is_rule_id(&id) {
        ctx.error(
            raw.id.span(),
            "id must be `provider.kind`: lower-case letters, digits, `.`, `_`, `-`",
        );
    }
    let confidence = match raw.confidence.get_ref().as_str() {
        "high" => Confidence::High,
        "medium" => Confidence::Medium,
        "low" => Confidence::Low,
        other => {
            ctx.error(
                raw.confidence.span(),
                format!("confidence {other:?}: expected high, medium or low"),
            );
            Confidence::Low
        }
    };
    let rotation = rotations.get(raw.rotation.get_ref()).cloned();
    if rotation.is_none() {
        ctx.error(
            raw.rotation.span(),
            format!(
                "unknown rotation {:?} (define it under [[rotation]])",
                raw.rotation.get_ref()
            ),
        );
    }
    let mut keywords = Vec::new();
    for k in &raw.keywords {
        if k.get_ref().len() < 3 {
            ctx.error(k.span(), "a keyword must have at least 3 characters");
        }
        keywords.push(k.get_ref().to_ascii_lowercase());
    }
    let matcher = match (&raw.pattern, &raw.assignment) {
        (Some(p), None) => {
            if keywords.is_empty() {
                ctx.error(
                    raw.id.span(),
                    "a pattern rule needs keywords (its prefilter)",
                );
            }
            let re = ctx.regex(p, "pattern")?;
            if !re.capture_names().any(|n| n == Some("secret")) {
                ctx.error(p.span(), "pattern needs a capture group named `secret`");
            }
            Matcher::Pattern(re)
        }
        (None, Some(a)) => Matcher::Assignment(assignment(ctx, a.get_ref(), &keywords, a.span())?),
        _ => {
            ctx.error(
                raw.id.span(),
                "a rule has either `pattern` or `[rule.assignment]`, not both",
            );
            return None;
        }
    };
    let entropy = raw.entropy.as_ref().map(|e| {
        let v = *e.get_ref();
        if !(0.0..=8.0).contains(&v) {
            ctx.error(
                e.span(),
                "entropy is in bits per character, between 0 and 8",
            );
        }
        v
    });
    let pair = raw.pair.as_ref().map(|p| {
        let p = p.get_ref();
        let n = *p.within_lines.get_ref();
        if !(0..=1000).contains(&n) {
            ctx.error(
                p.within_lines.span(),
                "within_lines must be between 0 and 1000",
            );
        }
        Pair {
            rule: p.rule.get_ref().clone(),
            within_lines: n.clamp(0, 1000) as usize,
            required: p.required,
        }
    });
    let examples = raw.examples.iter().map(example).collect::<Vec<_>>();
    if examples.is_empty() {
        ctx.error(
            raw.id.span(),
            "a rule needs at least one example it must match",
        );
    }
    let negative_examples = raw.negative_examples.iter().map(example).collect();
    Some(Rule {
        name: ctx.nonempty(&raw.name, "name"),
        provider: ctx.nonempty(&raw.provider, "provider"),
        kind: ctx.nonempty(&raw.kind, "kind"),
        id,
        confidence,
        rotation: rotation?,
        keywords,
        matcher,
        entropy,
        pair,
        examples,
        negative_examples,
        origin: ctx.position(at),
    })
}

fn assignment(
    ctx: &mut Ctx<'_>,
    raw: &RawAssignment,
    keywords: &[String],
    span: Range<usize>,
) -> Option<AssignmentRule> {
    let mut sources = Vec::new();
    for s in &raw.sources {
        match Source::parse(s.get_ref()) {
            Some(k) => sources.push(k),
            None => {
                let known: Vec<_> = Source::ALL.iter().map(|k| k.as_str()).collect();
                ctx.error(
                    s.span(),
                    format!(
                        "unknown source {:?}: expected one of {}",
                        s.get_ref(),
                        known.join(", ")
                    ),
                );
            }
        }
    }
    // The line reader only looks at lines with a keyword, so a rule it serves needs some.
    if keywords.is_empty() && (sources.is_empty() || sources.contains(&Source::Text)) {
        ctx.error(span, "an assignment rule read from text needs keywords");
    }
    let min_length = match &raw.min_length {
        None => 1,
        Some(m) if (1..=4096).contains(m.get_ref()) => *m.get_ref() as usize,
        Some(m) => {
            ctx.error(m.span(), "min_length must be between 1 and 4096");
            1
        }
    };
    Some(AssignmentRule {
        name: ctx.regex(&raw.name, "name")?,
        not_name: match &raw.not_name {
            Some(n) => Some(ctx.regex(n, "not_name")?),
            None => None,
        },
        sources,
        declared: raw.declared,
        value: match &raw.value {
            Some(v) => Some(ctx.regex(v, "value")?),
            None => None,
        },
        min_length,
    })
}

fn example(raw: &Spanned<RawExample>) -> Example {
    let (path, text) = match raw.get_ref() {
        RawExample::Text(t) => ("example.txt", t.as_str()),
        RawExample::File { path, text } => (path.as_str(), text.as_str()),
    };
    Example {
        path: path.to_string(),
        text: text.replace(SPLIT_MARKER, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> Vec<String> {
        match load(&[("r.toml", text)]) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    const ROT: &str = "[[rotation]]\nid = \"x\"\ndocs = \"https://example.com\"\nrevoke = \"r\"\nreissue = \"r\"\nupdate = \"u\"\nconfirm = \"c\"\n";

    #[test]
    fn errors_point_at_values() {
        let text = format!(
            "{ROT}[[rule]]\nid = \"a.b\"\nname = \"n\"\nprovider = \"p\"\nkind = \"k\"\nconfidence = \"sure\"\nrotation = \"x\"\nkeywords = [\"abc\"]\npattern = '(?P<secret>abc['\nexamples = [\"abc\"]\n"
        );
        let e = err(&text);
        assert!(
            e.iter()
                .any(|m| m.starts_with("r.toml:13:14: confidence \"sure\"")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("r.toml:16:11: pattern is not a valid")),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_keys_rotations_and_pairs() {
        let e = err("[[rule]]\nid = \"a.b\"\nbogus = 1\n");
        assert!(
            e[0].starts_with("r.toml:3:1: unknown field `bogus`"),
            "{e:?}"
        );
        let text = format!(
            "{ROT}[[rule]]\nid = \"a.b\"\nname = \"n\"\nprovider = \"p\"\nkind = \"k\"\nconfidence = \"low\"\nrotation = \"y\"\nkeywords = [\"abc\"]\npattern = '(?P<secret>abc)'\nexamples = [\"abc\"]\npair = {{ rule = \"nope\", within_lines = 2 }}\n"
        );
        let e = err(&text);
        assert!(
            e.iter().any(|m| m.contains("unknown rotation \"y\"")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("pair names unknown rule \"nope\"")),
            "{e:?}"
        );
    }

    #[test]
    fn split_marker_is_removed_from_examples() {
        let ex = example(&Spanned::new(0..0, RawExample::Text("gh{split}p_x".into())));
        assert_eq!(ex.text, "ghp_x");
    }
}
