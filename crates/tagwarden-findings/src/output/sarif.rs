//! SARIF 2.1.0 output, in the shape GitHub code scanning accepts: one run, every rule described
//! with its help and `security-severity`, results with relative URIs against `%SRCROOT%`, and a
//! stable fingerprint so that alerts survive unrelated edits.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::{Finding, Note, Rule, ScanReport, Severity, rules};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/tagwarden/tagwarden";
/// The `uriBaseId` every artifact location is relative to.
pub const SRCROOT: &str = "%SRCROOT%";
/// The key of our fingerprint in `partialFingerprints`; bump the suffix if the hash changes.
pub const FINGERPRINT_KEY: &str = "tagwarden/v1";

/// Writes the report as an indented SARIF 2.1.0 log followed by a newline.
pub fn render(report: &ScanReport, w: &mut dyn Write, tool_version: &str) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &Log::new(report, tool_version))?;
    writeln!(w)
}

/// The SARIF `level` for a severity: critical and high are errors, medium a warning, the rest
/// notes.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score (critical > 9.0, high 7.0–8.9, medium 4.0–6.9, low
/// 0.1–3.9). `None` for info: such findings are coverage notes, not security alerts.
pub fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

/// A relative path as a URI reference: `/` kept, every byte outside RFC 3986 unreserved
/// characters percent-encoded (so spaces, `%`, `#`, `?` and a `:` that would read as a scheme
/// are safe).
pub fn path_to_uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 64-bit FNV-1a: tiny, stable across platforms and releases, enough to tell alerts apart.
pub fn fnv1a64(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // A separator so that ("ab", "c") and ("a", "bc") differ.
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        for &b in part.as_bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The fingerprint of a finding without its occurrence counter: rule, path and the trimmed
/// source line (the message when there is no snippet), so moving a line keeps the alert.
fn fingerprint_base(f: &Finding) -> u64 {
    let text = f
        .snippet
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&f.message);
    fnv1a64(&[f.rule.id, &f.location.path, text])
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation; 1],
    original_uri_base_ids: BTreeMap<&'static str, BaseUri>,
    results: Vec<SarifResult>,
    column_kind: &'static str,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    information_uri: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    semantic_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    rules: Vec<RuleDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<SarifLocation>,
}

#[derive(Serialize)]
struct BaseUri {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [SarifLocation; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_offset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_length: Option<usize>,
}

#[derive(Serialize)]
struct ResultProperties {
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advisory: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    files_scanned: usize,
    files_skipped: usize,
    references: usize,
    pinned_references: usize,
    actions: usize,
    pinned_actions: usize,
    advisories: &'a [String],
}

impl<'a> Log<'a> {
    fn new(report: &'a ScanReport, tool_version: &'a str) -> Self {
        let findings = report.sorted_findings();

        // Built-in rules first, in their stable order; then any other rule a command used.
        let mut all_rules: Vec<&'static Rule> = rules::ALL.to_vec();
        for f in &findings {
            if !all_rules.iter().any(|r| r.id == f.rule.id) {
                all_rules.push(f.rule);
            }
        }

        let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
        let results = findings
            .iter()
            .map(|f| {
                let base = fingerprint_base(f);
                let occurrence = seen.entry(base).or_insert(0);
                *occurrence += 1;
                let fingerprint = format!("{base:016x}:{occurrence}");
                let rule_index = all_rules
                    .iter()
                    .position(|r| r.id == f.rule.id)
                    .unwrap_or_default();
                result(f, rule_index, fingerprint)
            })
            .collect();

        let version = Some(tool_version).filter(|v| !v.is_empty());
        Log {
            schema: SCHEMA_URI,
            version: "2.1.0",
            runs: [Run {
                tool: Tool {
                    driver: Driver {
                        name: "tagwarden",
                        information_uri: INFORMATION_URI,
                        semantic_version: version,
                        version,
                        rules: all_rules.into_iter().map(descriptor).collect(),
                    },
                },
                invocations: [Invocation {
                    execution_successful: true,
                    tool_execution_notifications: report.notes.iter().map(notification).collect(),
                }],
                original_uri_base_ids: BTreeMap::from([(
                    SRCROOT,
                    BaseUri {
                        description: Text {
                            text:
                                "The directory tagwarden scanned; result paths are relative to it."
                                    .into(),
                        },
                    },
                )]),
                results,
                column_kind: "unicodeCodePoints",
                properties: RunProperties {
                    files_scanned: report.files_scanned,
                    files_skipped: report.files_skipped,
                    references: report.references.len(),
                    pinned_references: report.pinned_references(),
                    actions: report.actions.len(),
                    pinned_actions: report.pinned_actions(),
                    advisories: &report.advisories,
                },
            }],
        }
    }
}

fn descriptor(rule: &'static Rule) -> RuleDescriptor {
    RuleDescriptor {
        id: rule.id,
        name: rule.name,
        short_description: Text {
            text: rule.summary.into(),
        },
        full_description: Text {
            text: rule.description(),
        },
        help: Help {
            text: rule.help,
            markdown: rule.help,
        },
        default_configuration: Configuration {
            level: level(rule.default_severity),
        },
        properties: RuleProperties {
            tags: ["security", "supply-chain"],
            security_severity: security_severity(rule.default_severity),
        },
    }
}

fn result(f: &Finding, rule_index: usize, fingerprint: String) -> SarifResult {
    let loc = &f.location;
    let start_line = loc.line.max(1);
    let start_column = loc.column.max(1);
    let end_line = loc.end_line.max(start_line);
    let end_column = if end_line == start_line {
        loc.end_column.max(start_column)
    } else {
        loc.end_column.max(1)
    };
    let mut text = f.message.clone();
    for note in &f.notes {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    SarifResult {
        rule_id: f.rule.id,
        rule_index,
        level: level(f.severity),
        message: Text { text },
        locations: [SarifLocation {
            physical_location: PhysicalLocation {
                artifact_location: artifact(&loc.path),
                region: Some(Region {
                    start_line,
                    start_column,
                    end_line,
                    end_column,
                    byte_offset: loc.span.map(|s| s.start),
                    byte_length: loc.span.map(|s| s.end.saturating_sub(s.start)),
                }),
            },
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
        properties: ResultProperties {
            severity: f.severity,
            image: f.image.clone(),
            advisory: f.advisory.clone(),
        },
    }
}

fn artifact(path: &str) -> ArtifactLocation {
    ArtifactLocation {
        uri: path_to_uri(path),
        uri_base_id: SRCROOT,
    }
}

fn notification(note: &Note) -> Notification {
    Notification {
        level: "note",
        message: Text {
            text: note.message.clone(),
        },
        locations: note
            .path
            .iter()
            .map(|p| SarifLocation {
                physical_location: PhysicalLocation {
                    artifact_location: artifact(p),
                    region: None,
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixture;
    use crate::{Location, rules};
    use serde_json::Value;

    fn to_value(report: &ScanReport) -> Value {
        let mut out = Vec::new();
        render(report, &mut out, "0.1.0").unwrap();
        assert!(out.ends_with(b"}\n"));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn log_shape() {
        let v = to_value(&fixture::report());
        assert_eq!(v["$schema"], SCHEMA_URI);
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "tagwarden");
        assert_eq!(driver["semanticVersion"], "0.1.0");
        let rules_json = driver["rules"].as_array().unwrap();
        assert_eq!(rules_json.len(), rules::ALL.len());
        let digest_rule = &rules_json[0];
        assert_eq!(digest_rule["id"], "compromised-digest");
        assert_eq!(digest_rule["name"], "CompromisedDigest");
        assert_eq!(digest_rule["defaultConfiguration"]["level"], "error");
        assert_eq!(digest_rule["properties"]["security-severity"], "9.5");
        assert_eq!(
            digest_rule["properties"]["tags"],
            serde_json::json!(["security", "supply-chain"])
        );
        assert!(
            digest_rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## How to fix")
        );
        let unresolvable = rules_json
            .iter()
            .find(|r| r["id"] == "unresolvable-reference")
            .unwrap();
        assert!(
            unresolvable["properties"]
                .get("security-severity")
                .is_none()
        );

        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        let first = &results[0];
        assert_eq!(first["ruleId"], "compromised-digest");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(first["level"], "error");
        let physical = &first["locations"][0]["physicalLocation"];
        assert_eq!(
            physical["artifactLocation"]["uri"],
            ".github/workflows/scan.yml"
        );
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(physical["region"]["startLine"], 4);
        assert_eq!(physical["region"]["startColumn"], 14);
        assert_eq!(physical["region"]["endColumn"], 100);
        assert!(
            first["message"]["text"]
                .as_str()
                .unwrap()
                .contains("\nnote: this digest")
        );
        for r in results {
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules_json[idx]["id"], r["ruleId"]);
        }
        assert_eq!(results[1]["level"], "warning");
        assert_eq!(results[2]["level"], "note");
        assert!(run["originalUriBaseIds"]["%SRCROOT%"].is_object());
        let notifications = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert_eq!(notifications.len(), 4);
        assert!(notifications[3].get("locations").is_none());
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let make = |line| {
            crate::Finding::new(
                &rules::UNPINNED_IMAGE,
                Location::point("a b.yml", line, 3),
                "m",
            )
            .with_snippet("  image: alpine:3.20")
        };
        let report = ScanReport {
            findings: vec![make(10), make(2)],
            ..ScanReport::default()
        };
        let v = to_value(&report);
        let results = v["runs"][0]["results"].as_array().unwrap();
        let fp = |i: usize| {
            results[i]["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let base = format!(
            "{:016x}",
            fnv1a64(&["unpinned-image", "a b.yml", "image: alpine:3.20"])
        );
        assert_eq!(fp(0), format!("{base}:1"));
        assert_eq!(fp(1), format!("{base}:2"));
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "a%20b.yml"
        );
        // Known FNV-1a test vectors.
        assert_eq!(fnv1a64(&[""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a64(&["ab", "c"]), fnv1a64(&["a", "bc"]));
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(path_to_uri("ci/scan.yml"), "ci/scan.yml");
        assert_eq!(path_to_uri("./a/b c.yml"), "a/b%20c.yml");
        assert_eq!(path_to_uri("c:x/100%#?.yml"), "c%3Ax/100%25%23%3F.yml");
        assert_eq!(path_to_uri("é.yml"), "%C3%A9.yml");
    }

    #[test]
    fn unknown_rules_are_appended() {
        static CUSTOM: Rule = Rule {
            id: "custom-rule",
            name: "CustomRule",
            default_severity: Severity::High,
            summary: "Custom",
            label: "here",
            fix: "fix it",
            help: "## What it does\n\nSomething.\n",
        };
        let report = ScanReport {
            findings: vec![crate::Finding::new(
                &CUSTOM,
                Location::point("x", 1, 1),
                "m",
            )],
            ..ScanReport::default()
        };
        let v = to_value(&report);
        let run = &v["runs"][0];
        assert_eq!(run["results"][0]["ruleIndex"], rules::ALL.len());
        assert_eq!(
            run["tool"]["driver"]["rules"][rules::ALL.len()]["fullDescription"]["text"],
            "Something."
        );
    }

    #[test]
    fn empty_version_is_omitted() {
        let mut out = Vec::new();
        render(&ScanReport::default(), &mut out, "").unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert!(v["runs"][0]["tool"]["driver"].get("version").is_none());
        assert_eq!(v["runs"][0]["results"], serde_json::json!([]));
    }

    /// Validates SARIF documents against the official 2.1.0 schema with Python's `jsonschema`
    /// (the Rust `jsonschema` crate costs minutes of build). Skips loudly when Python or the
    /// schema is missing, unless `TAGWARDEN_REQUIRE_SCHEMA_CHECK` is set.
    mod schema {
        use super::*;
        use std::process::{Command, Stdio};

        const SCHEMA: &str = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/schemas/sarif-schema-2.1.0.json"
        );
        const EXAMPLE: &str = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/formats/sarif_min.json"
        );
        const VALIDATE: &str = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
instance = json.load(sys.stdin)
validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
errors = list(validator.iter_errors(instance))
for e in errors:
    print(e.json_path, e.message)
sys.exit(1 if errors else 0)
"#;

        fn skip(reason: &str) -> bool {
            if std::env::var_os("TAGWARDEN_REQUIRE_SCHEMA_CHECK").is_some() {
                panic!("SARIF schema check required but unavailable: {reason}");
            }
            eprintln!();
            eprintln!("!!!!!!!! SKIPPED: SARIF schema validation: {reason} !!!!!!!!");
            eprintln!("!!!!!!!! install it with `python3 -m pip install jsonschema` !!!!!!!!");
            eprintln!();
            true
        }

        fn unavailable() -> bool {
            if !std::path::Path::new(SCHEMA).exists() {
                return skip("schema file not found at testdata/schemas");
            }
            let probe = Command::new("python3")
                .args(["-c", "import jsonschema"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            match probe {
                Ok(status) if status.success() => false,
                Ok(_) => skip("the Python module `jsonschema` is not installed"),
                Err(_) => skip("python3 is not installed"),
            }
        }

        /// `Ok(())` when valid, else the validator's messages.
        fn validate(document: &[u8]) -> Result<(), String> {
            let mut child = Command::new("python3")
                .args(["-c", VALIDATE, SCHEMA])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(document).unwrap();
            let out = child.wait_with_output().unwrap();
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        }

        fn render_bytes(report: &ScanReport) -> Vec<u8> {
            let mut out = Vec::new();
            render(report, &mut out, "0.1.0").unwrap();
            out
        }

        #[test]
        fn output_matches_the_official_schema() {
            if unavailable() {
                return;
            }
            // The validator itself: accepts a known-good log, rejects a broken one.
            validate(&std::fs::read(EXAMPLE).unwrap()).unwrap();
            assert!(validate(br#"{"version":"2.1.0","runs":[{"results":[]}]}"#).is_err());

            let mut multi_line = Location::point("dir with space/values.yaml", 3, 5);
            multi_line.end_line = 9;
            multi_line.end_column = 1;
            let reports = [
                fixture::report(),
                ScanReport::default(),
                ScanReport {
                    findings: vec![
                        crate::Finding::new(&rules::PARSE_ERROR, multi_line, "bad YAML")
                            .with_note("second\nline"),
                        crate::Finding::new(
                            &rules::UNRESOLVABLE_REFERENCE,
                            Location::point("Dockerfile", 1, 6),
                            "${BASE}",
                        ),
                    ],
                    ..ScanReport::default()
                },
            ];
            for report in &reports {
                let document = render_bytes(report);
                if let Err(errors) = validate(&document) {
                    panic!(
                        "SARIF output fails the schema:\n{errors}\n{}",
                        String::from_utf8_lossy(&document)
                    );
                }
            }
        }
    }
}
