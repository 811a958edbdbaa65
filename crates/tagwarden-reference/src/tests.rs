use super::*;

const SHA: &str = "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";

fn norm(s: &str) -> String {
    Reference::parse(s)
        .map(|r| r.to_string())
        .unwrap_or_else(|e| format!("error: {e}"))
}

#[test]
fn normalisation() {
    assert_eq!(norm("nginx"), "docker.io/library/nginx:latest");
    assert_eq!(norm("nginx:1.27"), "docker.io/library/nginx:1.27");
    assert_eq!(norm("checkmarx/kics"), "docker.io/checkmarx/kics:latest");
    assert_eq!(
        norm("index.docker.io/nginx"),
        "docker.io/library/nginx:latest"
    );
    assert_eq!(norm("registry-1.docker.io/a/b:c"), "docker.io/a/b:c");
    assert_eq!(norm("docker.io/nginx"), "docker.io/library/nginx:latest");
    assert_eq!(
        norm("ghcr.io/aquasecurity/trivy:0.69.4"),
        "ghcr.io/aquasecurity/trivy:0.69.4"
    );
    assert_eq!(norm("ghcr.io/trivy"), "ghcr.io/trivy:latest");
    assert_eq!(norm("localhost/foo"), "localhost/foo:latest");
    assert_eq!(norm("localhost:5000/foo:1"), "localhost:5000/foo:1");
    assert_eq!(norm("127.0.0.1:5000/a/b/c"), "127.0.0.1:5000/a/b/c:latest");
    assert_eq!(norm("[::1]:5000/foo:bar"), "[::1]:5000/foo:bar");
    assert_eq!(norm("[2001:db8::1]/foo"), "[2001:db8::1]/foo:latest");
    assert_eq!(norm("Registry.Example/foo"), "Registry.Example/foo:latest");
}

#[test]
fn implicit_latest_only_without_tag_or_digest() {
    let r = Reference::parse(&format!("checkmarx/kics@{SHA}")).unwrap();
    assert_eq!(r.to_string(), format!("docker.io/checkmarx/kics@{SHA}"));
    assert_eq!(r.effective_tag(), None);
    assert!(r.is_pinned());
    assert!(!r.is_latest());
    let r = Reference::parse(&format!("checkmarx/kics:v2.1.20@{SHA}")).unwrap();
    assert_eq!(
        r.to_string(),
        format!("docker.io/checkmarx/kics:v2.1.20@{SHA}")
    );
    assert!(Reference::parse("nginx").unwrap().is_latest());
    assert!(Reference::parse("nginx:latest").unwrap().is_latest());
    assert!(!Reference::parse("nginx:1").unwrap().is_latest());
}

#[test]
fn written_ranges() {
    let s = format!("nginx:1.27@{SHA}");
    let r = Reference::parse(&s).unwrap();
    assert_eq!(&s[r.written().name.clone()], "nginx");
    assert_eq!(&s[r.written().tag.clone().unwrap()], "1.27");
    assert_eq!(&s[r.written().digest.clone().unwrap()], SHA);
}

#[test]
fn separators() {
    for ok in [
        "a_b",
        "a__b",
        "a.b",
        "a-b",
        "a---b",
        "a-b.c_d__e",
        "0",
        "a/b/c/d",
    ] {
        assert!(Reference::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "a___b", "_a", "a_", "a-", "-a", "a..b", "a._b", "a/", "/a", "a//b",
    ] {
        assert!(Reference::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn errors_say_what_and_where() {
    let e = Reference::parse("Nginx:1").unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Uppercase);
    assert_eq!(e.offset(), 0);
    let e = Reference::parse("docker.io/library/NGINX").unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Uppercase);
    assert_eq!(e.offset(), 18);
    let e = Reference::parse("nginx:-bad").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidTag(_)));
    assert_eq!(e.offset(), 6);
    let e = Reference::parse("nginx@sha256:abc").unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::DigestLength {
            expected: 64,
            found: 3,
            ..
        }
    ));
    let e = Reference::parse("nginx@md5:d41d8cd98f00b204e9800998ecf8427e").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::UnsupportedDigestAlgorithm(_)));
    let e = Reference::parse(&format!(
        "nginx@{}",
        SHA.to_uppercase().replace("SHA256", "sha256")
    ))
    .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::DigestHex);
    assert_eq!(Reference::parse("").unwrap_err().kind(), &ErrorKind::Empty);
    assert_eq!(
        Reference::parse("a b").unwrap_err().kind(),
        &ErrorKind::Whitespace
    );
    assert!(Reference::parse("foo:5000x/bar").is_err());
    assert!(Reference::parse("-foo.com/bar").is_err());
    assert!(Reference::parse("${IMAGE}").is_err());
    assert!(Reference::parse(":tag").is_err());
}

#[test]
fn limits() {
    let tag128 = "a".repeat(128);
    assert!(Reference::parse(&format!("nginx:{tag128}")).is_ok());
    let e = Reference::parse(&format!("nginx:{tag128}a")).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::TagTooLong(129));
    let long = format!("example.com/{}", "a".repeat(243));
    assert_eq!(long.len(), 255);
    assert!(Reference::parse(&long).is_ok());
    let e = Reference::parse(&format!("{long}a")).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NameTooLong(256));
    let sha512 = format!("sha512:{}", "0".repeat(128));
    assert!(Reference::parse(&format!("a@{sha512}")).is_ok());
    assert!(Reference::parse(&format!("a@sha512:{}", "0".repeat(64))).is_err());
}

#[test]
fn tag_vs_port() {
    // A colon in the first component before a slash is a port; after the last slash, a tag.
    let r = Reference::parse("localhost:5000").unwrap();
    assert_eq!(r.to_string(), "docker.io/library/localhost:5000");
    let r = Reference::parse("registry:5000/app").unwrap();
    assert_eq!(r.domain(), "registry:5000");
}

#[test]
fn repository_normalisation() {
    assert_eq!(
        normalize_repository("kics").unwrap(),
        "docker.io/library/kics"
    );
    assert!(normalize_repository("kics:1").is_err());
}

#[test]
fn implicit_latest_equals_written_latest() {
    // Found by the fuzzer: the normalised form must parse back to an equal reference.
    let r = Reference::parse("smsimpi").unwrap();
    assert_eq!(r, Reference::parse(&r.to_string()).unwrap());
    assert_eq!(
        r,
        Reference::parse("docker.io/library/smsimpi:latest").unwrap()
    );
    assert_ne!(r, Reference::parse("smsimpi:1").unwrap());
}

#[test]
fn name_limit_applies_after_normalisation() {
    // Found by the fuzzer: 250 characters as written, 268 once `docker.io/library/` is added.
    let short = "a".repeat(250);
    let e = Reference::parse(&short).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NameTooLong(268));
    assert!(Reference::parse(&"a".repeat(237)).is_ok());
}
