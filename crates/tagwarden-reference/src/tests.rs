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
    // The limit is on the path: a registry host adds nothing to it.
    let long = format!("example.com/{}", "a".repeat(255));
    assert!(Reference::parse(&long).is_ok());
    let e = Reference::parse(&format!("{long}a")).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NameTooLong(256));
    assert_eq!(e.offset(), "example.com/".len() + 255);
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
fn name_limit_counts_library_as_docker_does() {
    // distribution/reference checks the path once `library/` is added (ParseNormalizedNamed
    // parses `docker.io/library/…`): 247 characters are 255, 248 are one too many, and the
    // normalised form parses back alike (found by the fuzzer).
    let ok = "a".repeat(247);
    let r = Reference::parse(&ok).unwrap();
    assert_eq!(r, Reference::parse(&r.to_string()).unwrap());
    let e = Reference::parse(&"a".repeat(248)).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NameTooLong(256));
    assert_eq!(e.offset(), 247);
}

/// Cases from distribution/reference's own tables (reference_test.go, normalize_test.go) that
/// apply to normalised parsing, as docker reads references.
#[test]
fn distribution_tables() {
    let hex = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
    let valid = [
        "docker/docker",
        "library/debian",
        "debian",
        "docker.io/docker/docker",
        "docker.io/library/debian",
        "docker.io/debian",
        "index.docker.io/docker/docker",
        "index.docker.io/library/debian",
        "index.docker.io/debian",
        "127.0.0.1:5000/docker/docker",
        "127.0.0.1:5000/library/debian",
        "127.0.0.1:5000/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "192.168.0.2:25000/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker",
        "[fc00::1]:5000/docker/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "Docker/docker",
        "DOCKER/docker",
        "docker-rules/docker",
        "docker---rules/docker",
        "doc/docker",
        "d/docker",
        "jess/t",
        "dock__er/docker",
        "test_com",
        "test.com:tag",
        "test.com:5000",
        "test.com/repo:tag",
        "test:5000/repo",
        "test:5000/repo:tag",
        "test:5000/repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "test:5000/repo:tag@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "lowercase:Uppercase",
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "xn--n3h.com/myimage:xn--n3h.com",
        "foo_bar.com:8080",
        "foo/foo_bar.com:8080",
        "192.168.1.1:5000/repo:5050",
        "[2001:db8::1]/repo",
        "[2001:db8:1:2:3:4:5:6]/repo:tag",
        "[2001:db8::1]:5000/repo:tag",
        "[::1]:5000/repo",
        "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
    ];
    for input in valid {
        assert!(Reference::parse(input).is_ok(), "{input} is valid");
    }
    // Valid with a registry host: it removes the doubt about an image ID.
    assert!(Reference::parse(&format!("docker.io/{hex}")).is_ok());
    let a127 = format!("{}a:tag-puts-this-over-max", "a/".repeat(127));
    assert!(Reference::parse(&a127).is_ok());
    let invalid = [
        "https://github.com/docker/docker",
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "docker.io/docker///docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        hex,
        "docker-/docker",
        "-docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "dock-.er/docker",
        "docker/",
        ":justtag",
        "@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "repo@sha256:ffffffffffffffffffffffffffffffffff",
        "validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "Uppercase:tag",
        "test:5000/Uppercase/lowercase:tag",
        "aa/asdf$$^/aa",
        "[2001:db8::1]:tag",
    ];
    for input in invalid {
        assert!(Reference::parse(input).is_err(), "{input} is invalid");
    }
    let e = Reference::parse(hex).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::HexIdentifier);
    let e = Reference::parse(&format!("{}a:tag", "a/".repeat(128))).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NameTooLong(257));
    let namespace = format!(
        "{}/docker",
        ["this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255"; 4].join("_")
    );
    assert!(matches!(
        Reference::parse(&namespace).unwrap_err().kind(),
        ErrorKind::NameTooLong(_)
    ));
    // A 64-hex word with a tag, or of another length, is a name.
    assert!(Reference::parse(&format!("{hex}:1")).is_ok());
    assert!(Reference::parse(&hex[..63]).is_ok());
}
