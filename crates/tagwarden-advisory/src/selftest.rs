//! Each advisory carries references it must and must not match; this checks them, the way
//! noseyparker checks a rule against its examples.

use tagwarden_reference::Reference;

use crate::action_ref;
use crate::matching::{ActionVerdict, AdvisorySet, ImageVerdict};
use crate::model::ExpectedVerdict;

/// An example that did not behave as its advisory says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfTestFailure {
    pub advisory_id: String,
    pub example: String,
    /// True for a must-match example, false for a must-not-match one.
    pub must_match: bool,
    pub message: String,
}

/// Runs every advisory's examples against the set; an empty result means all passed.
pub fn self_test(set: &AdvisorySet) -> Vec<SelfTestFailure> {
    let mut failures = Vec::new();
    for a in set.advisories() {
        let fail = |example: &str, must_match: bool, message: String| SelfTestFailure {
            advisory_id: a.id.clone(),
            example: example.to_string(),
            must_match,
            message,
        };
        let image_kinds = |example: &str| -> Result<Vec<ExpectedVerdict>, String> {
            let r = Reference::parse(example).map_err(|e| format!("not a reference: {e}"))?;
            Ok(set
                .match_image(&r)
                .into_iter()
                .filter(|m| m.advisory_id == a.id)
                .map(|m| image_kind(&m.verdict))
                .collect())
        };
        let action_kinds = |example: &str| -> Result<Vec<ExpectedVerdict>, String> {
            let (repo, git_ref) =
                action_ref::split(example).ok_or("not an owner/repo@ref action reference")?;
            Ok(set
                .match_action(repo, git_ref)
                .into_iter()
                .filter(|m| m.advisory_id == a.id)
                .map(|m| action_kind(&m.verdict))
                .collect())
        };

        let ex = &a.examples;
        let positives = ex
            .images_must_match
            .iter()
            .map(|e| (e, image_kinds(&e.reference)))
            .chain(
                ex.actions_must_match
                    .iter()
                    .map(|e| (e, action_kinds(&e.reference))),
            );
        for (e, kinds) in positives {
            match kinds {
                Err(m) => failures.push(fail(&e.reference, true, m)),
                Ok(k) if !k.contains(&e.verdict) => failures.push(fail(
                    &e.reference,
                    true,
                    format!("expected {}, got {}", e.verdict.as_str(), describe(&k)),
                )),
                Ok(_) => {}
            }
        }

        let negatives = ex
            .images_must_not_match
            .iter()
            .map(|e| (e, image_kinds(e)))
            .chain(
                ex.actions_must_not_match
                    .iter()
                    .map(|e| (e, action_kinds(e))),
            );
        for (e, kinds) in negatives {
            match kinds {
                Err(m) => failures.push(fail(e, false, m)),
                Ok(k) if k.iter().any(|v| *v != ExpectedVerdict::KnownGood) => failures.push(fail(
                    e,
                    false,
                    format!("must not match, got {}", describe(&k)),
                )),
                Ok(_) => {}
            }
        }
    }
    failures
}

fn image_kind(v: &ImageVerdict) -> ExpectedVerdict {
    match v {
        ImageVerdict::MaliciousDigest { .. } => ExpectedVerdict::MaliciousDigest,
        ImageVerdict::AffectedTag { .. } => ExpectedVerdict::AffectedTag,
        ImageVerdict::KnownGood { .. } => ExpectedVerdict::KnownGood,
    }
}

fn action_kind(v: &ActionVerdict) -> ExpectedVerdict {
    match v {
        ActionVerdict::MaliciousCommit { .. } => ExpectedVerdict::MaliciousCommit,
        ActionVerdict::AffectedTag { .. } => ExpectedVerdict::AffectedTag,
        ActionVerdict::KnownGood { .. } => ExpectedVerdict::KnownGood,
    }
}

fn describe(kinds: &[ExpectedVerdict]) -> String {
    if kinds.is_empty() {
        return "no match".to_string();
    }
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
