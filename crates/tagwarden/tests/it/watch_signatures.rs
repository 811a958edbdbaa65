//! `watch` checks every new digest of a watched tag against the `[signatures]` policy: a tag
//! moved to an unsigned image or to one signed by the wrong key alerts (`enforce`: high, not
//! accepted; `warn`: medium), one signed by the release key does not. Real loopback registry,
//! signatures made by the testbed's own Sigstore.

use std::path::Path;

use serde_json::Value;
use tagwarden_testbed::sigstore::{Key, Signer, Sigstore, T0, attach_sig_tag};
use tagwarden_testbed::{OciLayout, Registry, RegistryOptions, real_registry_available};

use crate::env::tagwarden_env;

/// One `watch --once` cycle: exit status and the events printed.
fn once(dir: &Path, host: &str) -> (i32, Vec<Value>, String) {
    let db = format!("sqlite:{}", dir.join("w.db").display());
    let run = tagwarden_env(
        &[
            "watch",
            "--config",
            "watch.toml",
            "--db",
            &db,
            "--once",
            "--insecure-registry",
            host,
        ],
        dir,
        &[("HOME", dir.as_os_str().to_owned())],
    );
    let events = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (run.status, events, run.stderr)
}

fn kinds(events: &[Value]) -> Vec<(String, String)> {
    let mut k: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("").to_string(),
                e["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    k.sort();
    k
}

fn pair(kind: &str, severity: &str) -> (String, String) {
    (kind.to_string(), severity.to_string())
}

#[test]
fn watch_accepts_a_new_digest_only_when_its_signer_is_right() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let host = registry.host();
    let sigstore = Sigstore::new();
    let release = Key::p256();
    let release_pem = release.public_pem();
    let release = Signer::Key(release);
    let stranger = Signer::Key(Key::p256());
    let repo = format!("{host}/app");
    // Pushes an image to the tag, signed by `by` (or not).
    let push = |name: &str, by: Option<&Signer>| {
        let layout = OciLayout::image(name);
        layout.push(&format!("{repo}:v1.0.0"), None);
        if let Some(signer) = by {
            let signed = sigstore.sign_simple(signer, &repo, &layout.digest, T0);
            attach_sig_tag(&registry, "app", &layout.digest, &[signed]);
        }
        layout.digest
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("root.json"), sigstore.trusted_root_json()).unwrap();
    std::fs::write(dir.path().join("release.pub"), &release_pem).unwrap();
    let config = |mode: &str| {
        std::fs::write(
            dir.path().join("watch.toml"),
            format!(
                "images = [\"{repo}:v1.0.0\"]\n\n[signatures]\nmode = \"{mode}\"\ntrust-root = \"root.json\"\n\n[[signatures.require]]\nimages = [\"{repo}\"]\nkeys = [\"release.pub\"]\n"
            ),
        )
        .unwrap();
    };
    config("enforce");

    // Signed by the release key: accepted, and the first sighting is a baseline.
    let good = push("good", Some(&release));
    let (status, events, stderr) = once(dir.path(), &host);
    assert_eq!((status, events.len()), (0, 0), "{events:?}\n{stderr}");

    // Moved to an unsigned image: not accepted.
    let unsigned = push("unsigned", None);
    let (status, events, stderr) = once(dir.path(), &host);
    assert_eq!(status, 1, "{stderr}");
    assert_eq!(
        kinds(&events),
        [pair("signature-missing", "high"), pair("tag-moved", "high")]
    );
    let missing = events
        .iter()
        .find(|e| e["kind"] == "signature-missing")
        .unwrap();
    assert_eq!(missing["digest_after"], unsigned.as_str());
    assert_eq!(missing["detail"]["accepted"], false);
    assert!(
        missing["message"]
            .as_str()
            .is_some_and(|m| m.contains("not accepted") && m.contains("no signature found")),
        "{missing}"
    );
    // Polled again unchanged: no second alert.
    let (status, events, _) = once(dir.path(), &host);
    assert_eq!((status, events.len()), (0, 0), "{events:?}");

    // Moved to an image signed by a key the policy does not name.
    push("stranger", Some(&stranger));
    let (status, events, stderr) = once(dir.path(), &host);
    assert_eq!(status, 1, "{stderr}");
    assert_eq!(
        kinds(&events),
        [pair("signature-invalid", "high"), pair("tag-moved", "high")]
    );
    let invalid = events
        .iter()
        .find(|e| e["kind"] == "signature-invalid")
        .unwrap();
    assert!(
        invalid["detail"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("no valid signature")),
        "{invalid}"
    );

    // Moved to another image signed by the release key: the move, no signature alert.
    let good2 = push("good2", Some(&release));
    let (_, events, _) = once(dir.path(), &host);
    assert_eq!(kinds(&events), [pair("tag-moved", "high")], "{events:?}");
    assert_ne!(good, good2);

    // In warn mode an unsigned digest is accepted, with a medium alert.
    config("warn");
    push("unsigned2", None);
    let (_, events, _) = once(dir.path(), &host);
    let warned = events
        .iter()
        .find(|e| e["kind"] == "signature-missing")
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(warned["severity"], "medium");
    assert_eq!(warned["detail"]["accepted"], true);

    // A mistake in the section is reported at its line and column.
    std::fs::write(
        dir.path().join("watch.toml"),
        format!("images = [\"{repo}:v1.0.0\"]\n[signatures]\nmode = \"maybe\"\n"),
    )
    .unwrap();
    let (status, _, stderr) = once(dir.path(), &host);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("watch.toml:3:8"), "{stderr}");
}
