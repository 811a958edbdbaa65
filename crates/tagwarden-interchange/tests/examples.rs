//! The example documents of `testdata/formats/` are what they claim to be: each validates against
//! its format's official schema (SARIF, CSAF with FIRST's CVSS, OpenVEX, OSV, from
//! `testdata/schemas/`) or reference validator (stix2-validator, PyMISP), so the importers are
//! tested on documents real tools accept.
//!
//! Runs `tests/validate.py` from the Python named by `TAGWARDEN_PYTHON`, as the export tests do.

mod validator;

use serde_json::json;
use tagwarden_testbed::testdata;

/// Every example, and the schema it is checked against (`None`: a reference validator).
const EXAMPLES: [(&str, Option<&str>); 12] = [
    ("stix_bundle.json", None),
    ("stix_minimal.json", None),
    ("stix_known_good.json", None),
    ("misp_event.json", None),
    ("misp_known_good.json", None),
    ("osv_action.json", Some("osv-schema.json")),
    ("osv_vulnerability.json", Some("osv-schema.json")),
    ("osv_minimal.json", Some("osv-schema.json")),
    ("openvex.json", Some("openvex.json")),
    ("csaf_vex.json", Some("csaf_2.0.json")),
    ("csaf_minimal.json", Some("csaf_2.0.json")),
    ("sarif_min.json", Some("sarif-schema-2.1.0.json")),
];

#[test]
fn every_example_is_listed() {
    let mut on_disk: Vec<String> = std::fs::read_dir(testdata("formats"))
        .expect("testdata/formats")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXAMPLES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn examples_validate_against_the_official_schemas_and_validators() {
    let Some(python) = validator::python() else {
        return;
    };
    let work = validator::work_dir("interchange-examples");
    let mut documents = serde_json::Map::new();
    for (name, schema) in EXAMPLES {
        let path = testdata(&format!("formats/{name}"));
        match schema {
            Some(schema) => {
                documents.insert(path.display().to_string(), json!(schema));
            }
            None => {
                let folder = if name.starts_with("stix") {
                    "stix"
                } else {
                    "misp"
                };
                std::fs::create_dir_all(work.join(folder)).expect("work dir");
                std::fs::copy(&path, work.join(folder).join(name)).expect("copy");
            }
        }
    }
    let expectations = json!({
        "schemas": { "folder": testdata("schemas").display().to_string(), "documents": documents },
    });
    std::fs::write(work.join("expectations.json"), expectations.to_string()).expect("write");
    validator::validate(&python, &work, None);
}
