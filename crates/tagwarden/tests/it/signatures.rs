//! The signature policy end to end: `pin` refuses what it rejects, `verify --signatures` reports
//! it, `resolve --signatures` says who signed; images in a real loopback registry, signed by
//! the testbed's own Sigstore.

use std::ffi::OsString;
use std::path::Path;

use tagwarden_testbed::sigstore::{GITHUB_ISSUER, Sigstore, T0, attach_bundles, attach_sig_tag};
use tagwarden_testbed::{OciLayout, Registry, RegistryOptions, real_registry_available};

use crate::common::{Run, Tree};
use crate::env::tagwarden_env;

const RELEASE: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1";

/// `signed:1` (signed by the release workflow, `.sig` tag), `forked:1` (signed by another
/// workflow, as a referrer), `unsigned:1`, and `multi:1` (an index signed, its children not).
struct Bed {
    registry: Registry,
    signed: String,
    forked: String,
    unsigned: String,
    multi: OciLayout,
    home: tempfile::TempDir,
    sigstore: Sigstore,
}

impl Bed {
    fn new() -> Option<Bed> {
        if !real_registry_available() {
            return None;
        }
        let registry = Registry::start(RegistryOptions::default());
        let host = registry.host();
        let sigstore = Sigstore::new();
        let push = |name: &str| {
            let layout = OciLayout::image(name);
            layout.push(&format!("{host}/{name}:1"), None);
            layout.digest
        };
        let (signed, forked, unsigned) = (push("signed"), push("forked"), push("unsigned"));
        let release = sigstore.keyless(RELEASE, GITHUB_ISSUER, T0 - 60, T0 + 540);
        let repo = format!("{host}/signed");
        attach_sig_tag(
            &registry,
            "signed",
            &signed,
            &[sigstore.sign_simple(&release, &repo, &signed, T0)],
        );
        let fork = sigstore.keyless(
            "https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1",
            GITHUB_ISSUER,
            T0 - 60,
            T0 + 540,
        );
        let bundle = sigstore.sign_dsse(&fork, &forked, T0).bundle();
        attach_bundles(
            &registry,
            "forked",
            &forked,
            "application/vnd.oci.image.manifest.v1+json",
            &[bundle],
        );
        let multi = OciLayout::multi_arch("multi");
        multi.push(&format!("{host}/multi:1"), None);
        let repo = format!("{host}/multi");
        let signed_index = sigstore.sign_simple(&release, &repo, &multi.digest, T0);
        attach_sig_tag(&registry, "multi", &multi.digest, &[signed_index]);
        let home = tempfile::tempdir().expect("home");
        Some(Bed {
            registry,
            signed,
            forked,
            unsigned,
            multi,
            home,
            sigstore,
        })
    }

    fn tree(&self, mode: &str, dockerfile: &str) -> Tree {
        Tree::new()
            .file("trust/trusted_root.json", self.sigstore.trusted_root_json())
            .file(
                "tagwarden.toml",
                format!(
                    "[signatures]\nmode = \"{mode}\"\ntrust-root = \"trust/trusted_root.json\"\n\n[[signatures.require]]\nimages = [\"{}/*\"]\nkeyless = [{{ identity = \"https://github.com/acme/app/.github/workflows/release.yml@refs/tags/*\", issuer = \"{GITHUB_ISSUER}\" }}]\n",
                    self.registry.host()
                ),
            )
            .file("Dockerfile", dockerfile)
    }

    fn run(&self, args: &[&str], cwd: &Path) -> Run {
        let host = self.registry.host();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--insecure-registry", &host]);
        let env: Vec<(&str, OsString)> = vec![
            ("HOME", self.home.path().into()),
            ("DOCKER_CONFIG", self.home.path().join(".docker").into()),
        ];
        tagwarden_env(&all, cwd, &env)
    }
}

#[test]
fn pin_refuses_and_verify_reports_what_the_policy_rejects() {
    let Some(bed) = Bed::new() else { return };
    let host = bed.registry.host();
    let dockerfile =
        format!("FROM {host}/signed:1\nFROM {host}/forked:1\nFROM {host}/unsigned:1\n");
    let tree = bed.tree("enforce", &dockerfile);

    let run = bed.run(&["pin", "."], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    let written = std::fs::read_to_string(tree.join("Dockerfile")).unwrap();
    assert!(
        written.contains(&format!("{host}/signed:1@{}", bed.signed)),
        "{written}"
    );
    assert!(
        written.contains(&format!("FROM {host}/forked:1\n")),
        "{written}"
    );
    assert!(
        written.contains(&format!("FROM {host}/unsigned:1\n")),
        "{written}"
    );
    assert!(run.stderr.contains("refusing to pin"), "{}", run.stderr);
    assert!(run.stderr.contains("no signature found"), "{}", run.stderr);
    assert!(run.stderr.contains("https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1, which is not an identity the policy accepts"), "{}", run.stderr);

    // The same images pinned by hand: verify reports each.
    let pinned = format!(
        "FROM {host}/signed:1@{}\nFROM {host}/forked:1@{}\nFROM {host}/unsigned:1@{}\n",
        bed.signed, bed.forked, bed.unsigned
    );
    let tree = bed.tree("enforce", &pinned);
    let run = bed.run(
        &["verify", "--signatures", "--format", "json", "."],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let json = run.json();
    let findings: Vec<(String, String, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        vec![
            ("signature-invalid".to_string(), "high".to_string(), 2),
            ("signature-missing".to_string(), "high".to_string(), 3)
        ],
        "{}",
        run.stdout
    );

    // A platform manifest of a signed index is not signed by the index's signature.
    let arm64 = bed.multi.platform_digest("linux/arm64");
    let tree = bed.tree(
        "enforce",
        &format!(
            "FROM {host}/multi:1@{}\nFROM {host}/multi:1@{arm64}\n",
            bed.multi.digest
        ),
    );
    let run = bed.run(
        &["verify", "--signatures", "--format", "json", "."],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let json = run.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{}", run.stdout);
    assert_eq!(findings[0]["line"], 2);
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("cosign sign --recursive"),
        "{}",
        run.stdout
    );

    // Warn mode: reported at medium, so the default threshold passes.
    let tree = bed.tree("warn", &pinned);
    let run = bed.run(&["verify", "--signatures", "."], tree.path());
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("signature-missing"), "{}", run.stdout);

    // Without --signatures, verify does not look.
    let tree = bed.tree("enforce", &pinned);
    let run = bed.run(&["verify", "--format", "json", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);

    // resolve says who signed.
    let run = bed.run(
        &[
            "resolve",
            "--signatures",
            &format!("{host}/signed:1"),
            &format!("{host}/unsigned:1"),
        ],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("signed by {RELEASE} (issuer {GITHUB_ISSUER})")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("no signature found (enforce policy)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_bad_policy_is_reported_at_its_line_and_column() {
    let tree = Tree::new()
        .file("tagwarden.toml", "[signatures]\nmode = \"loud\"\n[[signatures.require]]\nimages = [\"a\"]\nkeys = [\"k.pub\"]\n")
        .file("Dockerfile", "FROM alpine:3\n");
    let run = tagwarden_env(&["verify", "--signatures", "."], tree.path(), &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("tagwarden.toml:2:8: unknown signature mode \"loud\""),
        "{}",
        run.stderr
    );
    let tree = Tree::new()
        .file(
            "tagwarden.toml",
            "[signatures]\n[[signatures.require]]\nimages = [\"a\"]\nkeys = [\"missing.pub\"]\n",
        )
        .file("Dockerfile", "FROM alpine:3\n");
    let run = tagwarden_env(&["pin", "--check", "."], tree.path(), &[]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("tagwarden.toml:4:9: cannot read key file"),
        "{}",
        run.stderr
    );
}
