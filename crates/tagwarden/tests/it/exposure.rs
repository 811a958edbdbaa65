//! `tagwarden exposure` end to end: `hunt` over the CI logs of two jobs, one inside the window
//! and one after it, then `exposure --hunt` over their repository (a fixture of
//! `tagwarden-exposure`), in every format, and `hunt --report` with the repository.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::common::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tagwarden-exposure/tests/fixtures")
}

/// The planted values of the fixtures (`planted = [...]` in expected.toml).
fn planted() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("expected.toml")).unwrap();
    let block = text
        .split("planted = [")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    block
        .lines()
        .filter_map(|l| l.split('"').nth(1))
        .map(str::to_string)
        .collect()
}

fn copy(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy(&p, &target);
        } else {
            std::fs::write(&target, std::fs::read(&p).unwrap()).unwrap();
        }
    }
}

/// `gh run view --log` lines of a job that pulls the scanner.
fn run_log(job: &str, step: &str, ts: &str) -> String {
    format!(
        "{job}\tSet up job\t{ts} Current runner version: '2.329.0'\n\
         {job}\t{step}\t{ts} ##[command]/usr/bin/docker pull checkmarx/kics:latest\n\
         {job}\t{step}\t{ts} Status: Downloaded newer image for checkmarx/kics:latest\n"
    )
}

fn no_secret_in(outputs: &[(&str, &str)]) {
    for value in planted() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&value);
        for (name, out) in outputs {
            assert!(
                !out.contains(&value),
                "the {name} output holds a planted value"
            );
            assert!(
                !out.contains(&encoded),
                "the {name} output holds a planted value's base64"
            );
        }
    }
}

#[test]
fn a_hunt_names_the_exposed_job_and_sets_the_later_one_apart() {
    let tree = Tree::new()
        .file(
            "logs/run-1.log",
            run_log("Scan IaC", "KICS", "2026-04-22T12:40:01.2000000Z"),
        )
        .file(
            "logs/run-2.log",
            run_log(
                "nightly-scan",
                "Run docker://checkmarx/kics:latest",
                "2026-04-23T03:00:05.2000000Z",
            ),
        );
    std::fs::create_dir_all(tree.join("repo")).unwrap();
    copy(&fixtures().join("payments"), &tree.join("repo"));

    let hunt = tagwarden(
        &[
            "hunt",
            "--no-files",
            "--no-engine",
            "--ci-logs",
            "logs",
            "--format",
            "json",
            "--output",
            "hunt.json",
        ],
        tree.path(),
    );
    assert_eq!(hunt.status, 1, "{}{}", hunt.stdout, hunt.stderr);

    let json = tagwarden(
        &[
            "exposure",
            "repo",
            "--hunt",
            "hunt.json",
            "--format",
            "json",
        ],
        tree.path(),
    );
    assert_eq!(
        json.status, 1,
        "credentials exposed: exit 1\n{}",
        json.stderr
    );
    let doc = json.json();
    assert_eq!(doc["version"], 1);
    let names = |list: &str| -> Vec<String> {
        doc[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{} {}",
                    i["kind"].as_str().unwrap(),
                    i["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    let exposed = names("exposed");
    for want in [
        "secret DOCKERHUB_TOKEN",
        "secret NPM_TOKEN",
        "secret SENTRY_DSN",
        "secret-set production",
        "job-token GITHUB_TOKEN",
        "cloud-role arn:aws:iam::123456789012:role/ci-terraform-plan",
        "file-secret Stripe live secret or restricted key",
        "file-secret Value of a Kubernetes Secret",
    ] {
        assert!(
            exposed.contains(&want.to_string()),
            "{want} missing from {exposed:?}"
        );
    }
    assert!(
        !exposed.iter().any(|e| e.contains("SLACK_WEBHOOK_URL")),
        "{exposed:?}"
    );
    assert!(
        !exposed.iter().any(|e| e.contains("LINT_LICENSE")),
        "a job nobody ran: {exposed:?}"
    );
    assert_eq!(names("not_exposed"), ["secret SLACK_WEBHOOK_URL"]);
    // Reasons name the job, why, and the definition; the time comes from the hunt.
    let npm = doc["exposed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "NPM_TOKEN")
        .unwrap();
    assert_eq!(npm["reasons"][0]["job"], ".github/workflows/ci.yml:scan");
    assert_eq!(npm["reasons"][0]["at"]["path"], ".github/workflows/ci.yml");
    assert_eq!(npm["reasons"][0]["at"]["line"], 34);
    assert_eq!(npm["first"], "2026-04-22T12:40:01.2Z");
    assert!(
        npm["rotation"]["revoke"]
            .as_str()
            .unwrap()
            .contains("npm token revoke")
    );
    let slack = &doc["not_exposed"][0];
    assert!(
        slack["not_exposed"][0]
            .as_str()
            .unwrap()
            .contains("outside the exposure window"),
        "{slack}"
    );
    let jobs: Vec<(String, bool)> = doc["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["key"].as_str().unwrap().to_string(),
                j["exposed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        jobs,
        [
            (".github/workflows/ci.yml:scan".to_string(), true),
            (
                ".github/workflows/nightly.yml:nightly-scan".to_string(),
                false
            )
        ]
    );

    let human = tagwarden(&["exposure", "repo", "--hunt", "hunt.json"], tree.path());
    assert!(human.stdout.contains("DOCKERHUB_TOKEN"), "{}", human.stdout);
    let md = tagwarden(
        &[
            "exposure",
            "repo",
            "--hunt",
            "hunt.json",
            "--format",
            "markdown",
        ],
        tree.path(),
    );
    assert!(
        md.stdout.contains("## Credentials to rotate"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("- [ ] Revoke:"), "{}", md.stdout);

    // `hunt --report` with the repository gains the checklist.
    let report = tagwarden(
        &[
            "hunt",
            "repo",
            "--no-engine",
            "--ci-logs",
            "logs",
            "--report",
            "report.md",
        ],
        tree.path(),
    );
    assert_eq!(report.status, 1, "{}", report.stderr);
    let report_md = std::fs::read_to_string(tree.join("report.md")).unwrap();
    assert!(
        report_md.contains("## Credentials to rotate"),
        "{report_md}"
    );
    assert!(report_md.contains("`SLACK_WEBHOOK_URL`"), "{report_md}");

    no_secret_in(&[
        ("json", &json.stdout),
        ("human", &human.stdout),
        ("markdown", &md.stdout),
        ("hunt report", &report_md),
        ("stderr", &(json.stderr + &human.stderr + &md.stderr)),
    ]);
}

#[test]
fn without_a_hunt_the_jobs_using_an_affected_image_are_exposed() {
    let tree = Tree::new();
    copy(&fixtures().join("legacy"), tree.path());
    let run = tagwarden(&["exposure", "--format", "json"], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["jobs"][0]["key"], "Jenkinsfile:pipeline");
    assert!(
        doc["jobs"][0]["why"][0]
            .as_str()
            .unwrap()
            .contains("checkmarx/kics:latest")
    );
    assert_eq!(doc["summary"]["exposed"], 5);

    // A job named by hand that does not exist is an error, said so.
    let bad = tagwarden(&["exposure", "--job", "Jenkinsfile:nope"], tree.path());
    assert_eq!(bad.status, 2, "{}", bad.stdout);
    assert!(
        bad.stdout.contains("--job Jenkinsfile:nope: no such job"),
        "{}",
        bad.stdout
    );

    // A hunt that names no CI job says so, rather than listing nothing silently.
    let clean = tagwarden(
        &[
            "hunt",
            "--no-files",
            "--no-engine",
            "--format",
            "json",
            "--output",
            "clean.json",
        ],
        tree.path(),
    );
    assert_eq!(clean.status, 0, "{}", clean.stderr);
    let none = tagwarden(&["exposure", "--hunt", "clean.json"], tree.path());
    assert_eq!(none.status, 0, "{}", none.stderr);
    assert!(
        none.stdout.contains("the hunt names no CI job"),
        "{}",
        none.stdout
    );

    // A hunt document that is not one is refused with its reason.
    std::fs::write(tree.join("hunt.json"), "{\"version\": 9}").unwrap();
    let refused = tagwarden(&["exposure", "--hunt", "hunt.json"], tree.path());
    assert_eq!(refused.status, 2);
    assert!(refused.stderr.contains("version 9"), "{}", refused.stderr);
}
