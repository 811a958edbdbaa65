//! Signatures made by the tests' own Sigstore (CA, Rekor and CT keys), attached to images in a
//! real loopback registry both ways cosign stores them, and judged through the registry client.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions.

use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{Client, ClientConfig};
use tagwarden_signature::{
    Decision, Identity, Mode, NamedKey, Policy, PublicKey, TrustRoot, Verdict,
};
use tagwarden_testbed::sigstore::{
    GITHUB_ISSUER, Key, Signed, Signer, Sigstore, T0, attach_bundles, attach_sig_tag,
};
use tagwarden_testbed::{OciLayout, Registry, RegistryOptions};

const RELEASE: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0";
const RELEASE_GLOB: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/*";

struct Bed {
    registry: Registry,
    client: Client,
    sigstore: Sigstore,
}

impl Bed {
    fn start() -> Option<Bed> {
        if !tagwarden_testbed::real_registry_available() {
            return None;
        }
        let registry = Registry::start(RegistryOptions::default());
        let client = Client::new(ClientConfig {
            insecure_registries: vec![registry.host()],
            ..ClientConfig::default()
        })
        .unwrap();
        Some(Bed {
            registry,
            client,
            sigstore: Sigstore::new(),
        })
    }

    /// Pushes a single-platform image; returns its repository (`host/name`) and digest.
    fn image(&self, name: &str) -> (String, String) {
        let layout = OciLayout::image(name);
        let repo = format!("{}/{name}", self.registry.host());
        layout.push(&format!("{repo}:1"), None);
        (repo, layout.digest.clone())
    }

    fn root(&self) -> TrustRoot {
        TrustRoot::from_json(&self.sigstore.trusted_root_json()).unwrap()
    }

    fn keyless_policy(&self, identity: &str, issuer: &str) -> Policy {
        Policy::single(
            &["**"],
            Mode::Enforce,
            Vec::new(),
            vec![Identity::new(identity, issuer).unwrap()],
            self.root(),
        )
        .unwrap()
    }

    fn key_policy(&self, keys: &[&Key]) -> Policy {
        let keys = keys
            .iter()
            .enumerate()
            .map(|(i, k)| NamedKey {
                name: format!("key{i}.pub"),
                key: PublicKey::from_pem_or_der(k.public_pem().as_bytes()).unwrap(),
            })
            .collect();
        Policy::single(&["**"], Mode::Enforce, keys, Vec::new(), self.root()).unwrap()
    }

    fn release_signer(&self) -> Signer {
        self.sigstore
            .keyless(RELEASE, GITHUB_ISSUER, T0 - 60, T0 + 540)
    }

    fn path(repo: &str) -> &str {
        repo.split_once('/').map_or(repo, |(_, p)| p)
    }

    /// Attaches simple-signing signatures under the `.sig` tag.
    fn sig_tag(&self, repo: &str, digest: &str, signatures: &[Signed]) {
        attach_sig_tag(&self.registry, Self::path(repo), digest, signatures);
    }

    /// Attaches bundles as referrers (tag schema).
    fn referrers(&self, repo: &str, digest: &str, signatures: &[Signed]) {
        let bundles: Vec<String> = signatures.iter().map(Signed::bundle).collect();
        attach_bundles(
            &self.registry,
            Self::path(repo),
            digest,
            "application/vnd.oci.image.manifest.v1+json",
            &bundles,
        );
    }

    fn check(&self, policy: &Policy, repo: &str, digest: &str) -> Decision {
        self.check_child(policy, repo, digest, None)
    }

    fn check_child(
        &self,
        policy: &Policy,
        repo: &str,
        digest: &str,
        index: Option<&str>,
    ) -> Decision {
        let image = Reference::parse(repo).unwrap();
        let digest = Digest::parse(digest).unwrap();
        let index = index.map(|d| Digest::parse(d).unwrap());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(tagwarden_signature::check(
            &self.client,
            policy,
            &image,
            &digest,
            index.as_ref(),
        ))
    }
}

fn assert_verified(d: &Decision, who: &str) {
    match &d.verdict {
        Verdict::Verified(v) => assert!(
            v.iter().any(|s| s.to_string().contains(who)),
            "{}",
            d.reason()
        ),
        _ => panic!("expected a verified signature by {who}: {}", d.reason()),
    }
    assert!(d.acceptable());
}

fn assert_refused(d: &Decision, why: &str) {
    assert!(matches!(d.verdict, Verdict::Invalid(_)), "{:?}", d.verdict);
    assert!(!d.acceptable(), "{}", d.reason());
    assert!(
        d.reason().contains(why),
        "expected {why:?} in: {}",
        d.reason()
    );
}

#[test]
fn keyless_signatures_are_accepted_in_both_storage_styles() {
    let Some(bed) = Bed::start() else { return };
    let policy = bed.keyless_policy(RELEASE_GLOB, GITHUB_ISSUER);
    let signer = bed.release_signer();

    let (repo, digest) = bed.image("keyless-tag");
    assert!(matches!(
        bed.check(&policy, &repo, &digest).verdict,
        Verdict::Missing { note: None }
    ));
    bed.sig_tag(
        &repo,
        &digest,
        &[bed.sigstore.sign_simple(&signer, &repo, &digest, T0)],
    );
    let d = bed.check(&policy, &repo, &digest);
    assert_verified(&d, RELEASE);
    assert!(
        d.reason().contains("rekor.tagwarden.test entry 1"),
        "{}",
        d.reason()
    );

    let (repo, digest) = bed.image("keyless-bundle");
    bed.referrers(
        &repo,
        &digest,
        &[bed.sigstore.sign_dsse(&signer, &digest, T0)],
    );
    assert_verified(&bed.check(&policy, &repo, &digest), RELEASE);
}

#[test]
fn keyed_signatures_of_every_key_type_are_accepted() {
    let Some(bed) = Bed::start() else { return };
    let (p256, ed, rsa) = (Key::p256(), Key::ed25519(), Key::rsa());
    let policy = bed.key_policy(&[&p256, &ed, &rsa]);
    for (i, key) in [p256, ed, rsa].into_iter().enumerate() {
        let signer = Signer::Key(key);
        let (repo, digest) = bed.image(&format!("keyed-{i}"));
        bed.sig_tag(
            &repo,
            &digest,
            &[bed.sigstore.sign_simple(&signer, &repo, &digest, T0)],
        );
        assert_verified(&bed.check(&policy, &repo, &digest), &format!("key{i}.pub"));
        let (repo, digest) = bed.image(&format!("keyed-bundle-{i}"));
        bed.referrers(
            &repo,
            &digest,
            &[bed.sigstore.sign_dsse(&signer, &digest, T0)],
        );
        assert_verified(&bed.check(&policy, &repo, &digest), &format!("key{i}.pub"));
    }
}

#[test]
fn wrong_signers_are_refused_with_the_reason() {
    let Some(bed) = Bed::start() else { return };
    // Another key than the policy's.
    let (repo, digest) = bed.image("wrong-key");
    let good = Key::p256();
    bed.sig_tag(
        &repo,
        &digest,
        &[bed
            .sigstore
            .sign_simple(&Signer::Key(Key::p256()), &repo, &digest, T0)],
    );
    assert_refused(
        &bed.check(&bed.key_policy(&[&good]), &repo, &digest),
        "does not verify with any key of the policy",
    );

    // Another workflow (the attacker's fork), and the right workflow through another issuer.
    let (repo, digest) = bed.image("wrong-identity");
    let fork = bed.sigstore.keyless(
        "https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1.0.0",
        GITHUB_ISSUER,
        T0 - 60,
        T0 + 540,
    );
    bed.sig_tag(
        &repo,
        &digest,
        &[bed.sigstore.sign_simple(&fork, &repo, &digest, T0)],
    );
    let policy = bed.keyless_policy(RELEASE_GLOB, GITHUB_ISSUER);
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "which is not an identity the policy accepts",
    );

    let (repo, digest) = bed.image("wrong-issuer");
    let other = bed
        .sigstore
        .keyless(RELEASE, "https://accounts.example.com", T0 - 60, T0 + 540);
    bed.referrers(
        &repo,
        &digest,
        &[bed.sigstore.sign_dsse(&other, &digest, T0)],
    );
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "but the policy wants issuer https://token.actions.githubusercontent.com",
    );

    // A keyed signature where only keyless signers are accepted.
    let (repo, digest) = bed.image("keyed-for-keyless");
    bed.sig_tag(
        &repo,
        &digest,
        &[bed
            .sigstore
            .sign_simple(&Signer::Key(good), &repo, &digest, T0)],
    );
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "accepts only keyless signers",
    );
}

#[test]
fn a_signature_binds_its_digest_and_repository() {
    let Some(bed) = Bed::start() else { return };
    let policy = bed.keyless_policy(RELEASE_GLOB, GITHUB_ISSUER);
    let signer = bed.release_signer();
    // A valid signature of another image, copied under this image's .sig tag.
    let (repo, digest) = bed.image("other-digest");
    let (_, other) = bed.image("other-digest-source");
    bed.sig_tag(
        &repo,
        &digest,
        &[bed.sigstore.sign_simple(&signer, &repo, &other, T0)],
    );
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        &format!("the signature is for {other}, not for {digest}"),
    );
    let (repo, digest) = bed.image("other-digest-dsse");
    bed.referrers(
        &repo,
        &digest,
        &[bed.sigstore.sign_dsse(&signer, &other, T0)],
    );
    assert_refused(&bed.check(&policy, &repo, &digest), "not for");

    // The same digest signed for another repository (cosign itself would accept it).
    let (repo, digest) = bed.image("elsewhere");
    bed.sig_tag(
        &repo,
        &digest,
        &[bed
            .sigstore
            .sign_simple(&signer, "docker.io/acme/other", &digest, T0)],
    );
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "names repository docker.io/acme/other",
    );
}

#[test]
fn log_and_certificate_problems_are_refused() {
    let Some(bed) = Bed::start() else { return };
    let policy = bed.keyless_policy(RELEASE_GLOB, GITHUB_ISSUER);
    let signer = bed.release_signer();

    // Logged after the ten-minute certificate had expired.
    let (repo, digest) = bed.image("expired");
    bed.sig_tag(
        &repo,
        &digest,
        &[bed.sigstore.sign_simple(&signer, &repo, &digest, T0 + 3600)],
    );
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "had expired at the log's time",
    );

    // The entry's time moved (to bring it inside the certificate's life) without the log.
    let (repo, digest) = bed.image("tampered-time");
    let mut s = bed.sigstore.sign_simple(&signer, &repo, &digest, T0 + 3600);
    s.entry.as_mut().unwrap().integrated_time = T0;
    bed.sig_tag(&repo, &digest, &[s]);
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "signed entry timestamp does not verify",
    );

    // A tampered bundle: the statement altered after signing.
    let (repo, digest) = bed.image("tampered-bundle");
    let mut s = bed.sigstore.sign_dsse(&signer, &digest, T0);
    s.payload = String::from_utf8(s.payload)
        .unwrap()
        .replace("\"predicate\":{}", "\"predicate\":{\"x\":1}")
        .into_bytes();
    bed.referrers(&repo, &digest, &[s]);
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "does not verify with its certificate's key",
    );

    // An inclusion proof that leads elsewhere (the SET re-signed, so only the proof is wrong).
    let (repo, digest) = bed.image("bad-proof");
    let mut s = bed.sigstore.sign_dsse(&signer, &digest, T0);
    s.entry.as_mut().unwrap().proof.as_mut().unwrap().hashes[0][0] ^= 1;
    bed.referrers(&repo, &digest, &[s]);
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "inclusion proof does not lead to the tree's root hash",
    );

    // A checkpoint not signed by the log.
    let (repo, digest) = bed.image("bad-checkpoint");
    let mut s = bed.sigstore.sign_dsse(&signer, &digest, T0);
    let proof = s.entry.as_mut().unwrap().proof.as_mut().unwrap();
    proof.checkpoint = Sigstore::new().checkpoint(proof.tree_size, &proof.root_hash);
    bed.referrers(&repo, &digest, &[s]);
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "checkpoint's signature does not verify",
    );

    // A Rekor v2 entry: said to be unsupported, not mistaken for a broken one.
    let (repo, digest) = bed.image("rekor-v2");
    let bundle = bed
        .sigstore
        .sign_dsse(&signer, &digest, T0)
        .bundle()
        .replace("\"version\":\"0.0.1\"", "\"version\":\"0.0.2\"");
    attach_bundles(
        &bed.registry,
        Bed::path(&repo),
        &digest,
        "application/vnd.oci.image.manifest.v1+json",
        &[bundle],
    );
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "a Rekor v2 entry (dsse 0.0.2)",
    );

    // No SET: the time is unproven.
    let (repo, digest) = bed.image("no-set");
    let mut s = bed.sigstore.sign_simple(&signer, &repo, &digest, T0);
    s.entry.as_mut().unwrap().set = None;
    bed.sig_tag(&repo, &digest, &[s]);
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "no signed entry timestamp",
    );

    // No log entry at all for a keyless signature.
    let (repo, digest) = bed.image("no-entry");
    let mut s = bed.sigstore.sign_simple(&signer, &repo, &digest, T0);
    s.entry = None;
    bed.sig_tag(&repo, &digest, &[s]);
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "without a transparency-log entry",
    );

    // A certificate from another CA, logged in the test's log.
    let (repo, digest) = bed.image("foreign-ca");
    let stranger = Sigstore::new().keyless(RELEASE, GITHUB_ISSUER, T0 - 60, T0 + 540);
    bed.sig_tag(
        &repo,
        &digest,
        &[bed.sigstore.sign_simple(&stranger, &repo, &digest, T0)],
    );
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "does not chain to a certificate authority of the trust root",
    );

    // A log entry for another signature (replayed).
    let (repo, digest) = bed.image("replayed-entry");
    let mut s = bed.sigstore.sign_simple(&signer, &repo, &digest, T0);
    let other = bed.sigstore.sign_simple(&signer, &repo, &digest, T0);
    s.entry = other.entry;
    bed.sig_tag(&repo, &digest, &[s]);
    assert_refused(
        &bed.check(&policy, &repo, &digest),
        "records another signature",
    );
}

#[test]
fn an_index_signature_does_not_cover_its_children() {
    let Some(bed) = Bed::start() else { return };
    let policy = bed.keyless_policy(RELEASE_GLOB, GITHUB_ISSUER);
    let signer = bed.release_signer();
    let layout = OciLayout::multi_arch("index-rule");
    let repo = format!("{}/index-rule", bed.registry.host());
    layout.push(&format!("{repo}:1"), None);
    let child = layout.platform_digest("linux/arm64").to_string();
    bed.sig_tag(
        &repo,
        &layout.digest,
        &[bed.sigstore.sign_simple(&signer, &repo, &layout.digest, T0)],
    );
    assert_verified(&bed.check(&policy, &repo, &layout.digest), RELEASE);
    let d = bed.check_child(&policy, &repo, &child, Some(&layout.digest));
    assert!(!d.acceptable());
    assert!(
        d.reason().contains("cosign sign --recursive"),
        "{}",
        d.reason()
    );
    // Signed recursively, the child is accepted on its own signature.
    bed.sig_tag(
        &repo,
        &child,
        &[bed.sigstore.sign_simple(&signer, &repo, &child, T0)],
    );
    assert_verified(
        &bed.check_child(&policy, &repo, &child, Some(&layout.digest)),
        RELEASE,
    );
}

#[test]
fn modes_and_rules() {
    let Some(bed) = Bed::start() else { return };
    let (repo, digest) = bed.image("unsigned");
    let mut policy = bed.keyless_policy(RELEASE_GLOB, GITHUB_ISSUER);
    let d = bed.check(&policy, &repo, &digest);
    assert!(!d.acceptable());
    assert_eq!(d.reason(), "no signature found");
    policy.rules[0].mode = Mode::Warn;
    assert!(bed.check(&policy, &repo, &digest).acceptable());
    // An image no rule names is not judged.
    let other = Policy::single(
        &["ghcr.io/acme/*"],
        Mode::Enforce,
        Vec::new(),
        vec![Identity::new(RELEASE, GITHUB_ISSUER).unwrap()],
        bed.root(),
    )
    .unwrap();
    let d = bed.check(&other, &repo, &digest);
    assert_eq!(d.verdict, Verdict::NotRequired);
    assert!(d.acceptable());
    // An attestation is not a signature: an image with only an SBOM attestation is unsigned.
    let (repo, digest) = bed.image("attested");
    let mut s = bed.sigstore.sign_dsse(&bed.release_signer(), &digest, T0);
    s.payload = String::from_utf8(s.payload)
        .unwrap()
        .replace(
            "https://sigstore.dev/cosign/sign/v1",
            "https://spdx.dev/Document",
        )
        .into_bytes();
    bed.referrers(&repo, &digest, &[s]);
    assert!(matches!(
        bed.check(
            &bed.keyless_policy(RELEASE_GLOB, GITHUB_ISSUER),
            &repo,
            &digest
        )
        .verdict,
        Verdict::Missing { .. }
    ));
}
