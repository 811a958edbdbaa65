//! Each rule carries texts it must and must not match; this checks them, the way noseyparker
//! checks a rule against its examples.

use crate::Scanner;

/// An example that did not behave as its rule says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfTestFailure {
    pub rule_id: String,
    /// `path:line:column` of the rule.
    pub origin: String,
    /// True for a must-match example, false for a must-not-match one.
    pub must_match: bool,
    /// The example's file name and what went wrong (never the example's text: it may hold a
    /// token that looks real).
    pub message: String,
}

/// Runs every rule's examples through `scanner` (which holds the rules); an empty result means
/// all passed. A must-match example must yield a match of its rule before overlapping matches
/// are resolved; a must-not-match example must yield none.
pub fn self_test(scanner: &Scanner) -> Vec<SelfTestFailure> {
    let mut failures = Vec::new();
    for rule in scanner.rules().rules() {
        let fail = |must_match: bool, message: String| SelfTestFailure {
            rule_id: rule.id.clone(),
            origin: rule.origin.clone(),
            must_match,
            message,
        };
        for (i, ex) in rule.examples.iter().enumerate() {
            let found = scanner.candidates(&ex.path, ex.text.as_bytes());
            if !found.iter().any(|id| *id == rule.id) {
                failures.push(fail(
                    true,
                    format!(
                        "example {} ({}) does not match; matched: [{}]",
                        i + 1,
                        ex.path,
                        found.join(", ")
                    ),
                ));
            }
        }
        for (i, ex) in rule.negative_examples.iter().enumerate() {
            let found = scanner.candidates(&ex.path, ex.text.as_bytes());
            if found.iter().any(|id| *id == rule.id) {
                failures.push(fail(
                    false,
                    format!("negative example {} ({}) matches", i + 1, ex.path),
                ));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use crate::Scanner;

    #[test]
    fn builtin_rules_pass_their_examples() {
        let scanner = match Scanner::builtin() {
            Ok(s) => s,
            Err(errors) => panic!(
                "{}",
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        };
        let failures = super::self_test(&scanner);
        let report: Vec<String> = failures
            .iter()
            .map(|f| format!("{} {}: {}", f.origin, f.rule_id, f.message))
            .collect();
        assert!(
            failures.is_empty(),
            "{} self-test failures:\n{}",
            failures.len(),
            report.join("\n")
        );
    }
}
