//! Issue 11's registry attacks on the real binary, against real loopback servers: a registry that
//! refuses every request during a hunt, `verify` when no registry answers, a lying `HEAD` digest,
//! an endless tag listing under a memory cap, a failing credential helper.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use tagwarden_testbed::{
    Fault, HttpResponse, OciLayout, Proxy, Registry, RegistryOptions, Server, base64, free_port,
    handler, real_registry_available,
};

use crate::common::{Run, Tree};
use crate::env::tagwarden_env;

/// A home directory without credentials, or with the docker config given.
fn home(config: Option<&str>) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("home");
    std::fs::create_dir_all(home.path().join(".docker")).expect("docker dir");
    std::fs::create_dir_all(home.path().join("run")).expect("runtime dir");
    if let Some(config) = config {
        std::fs::write(home.path().join(".docker/config.json"), config).expect("config");
    }
    home
}

fn env_of(home: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("HOME", home.into()),
        ("DOCKER_CONFIG", home.join(".docker").into()),
        ("XDG_RUNTIME_DIR", home.join("run").into()),
    ]
}

/// An advisory naming one malicious digest (served nowhere) of `repository` on `host`.
fn advisory(host: &str, repository: &str) -> String {
    let digest = |c: &str| format!("sha256:{}", c.repeat(64));
    crate::pin::advisory_for(
        host,
        repository,
        &digest("e"),
        "kind = \"index\"",
        &digest("f"),
    )
}

/// A registry that demands `alice:s3cret`.
fn private_registry() -> Registry {
    Registry::start(RegistryOptions {
        htpasswd: Some(("alice".into(), "s3cret".into())),
        ..RegistryOptions::default()
    })
}

/// `hunt` of the registry at `host` alone, with the advisory in `adv.toml`, as JSON.
fn hunt_args(host: &str) -> Vec<&str> {
    vec![
        "hunt",
        "--no-files",
        "--no-engine",
        "--no-builtin-advisories",
        "--advisories",
        "adv.toml",
        "--registry",
        host,
        "--insecure-registry",
        host,
        "--format",
        "json",
    ]
}

fn hunt(tree: &Tree, host: &str, home: &Path) -> Run {
    tagwarden_env(&hunt_args(host), tree.path(), &env_of(home))
}

#[test]
fn a_hunt_against_a_registry_that_refuses_every_request_is_not_clean() {
    if !real_registry_available() {
        return;
    }
    let registry = private_registry();
    let h = registry.host();
    OciLayout::image("scanner").push(&format!("{h}/acme/scanner:1.0"), registry.credentials());
    let tree = Tree::new().file("adv.toml", advisory(&h, "acme/scanner"));
    // No credentials, then credentials rotated since they were written down.
    let rotated = format!(
        r#"{{"auths": {{"{h}": {{"auth": "{}"}}}}}}"#,
        base64(b"alice:rotated-away")
    );
    for config in [None, Some(rotated.as_str())] {
        let home = home(config);
        let run = hunt(&tree, &h, home.path());
        assert_eq!(run.status, 2, "{}\n{}", run.stdout, run.stderr);
        let json = run.json();
        let sources = json["sources"].to_string();
        assert!(sources.contains("refused"), "{sources}");
        assert!(!run.stdout.contains("rotated-away") && !run.stderr.contains("rotated-away"));
    }
    // The right credentials make it searchable again.
    let right = format!(
        r#"{{"auths": {{"{h}": {{"auth": "{}"}}}}}}"#,
        base64(b"alice:s3cret")
    );
    let home = home(Some(&right));
    let run = hunt(&tree, &h, home.path());
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.json()["sources"].to_string().contains("\"ok\""));
}

#[test]
fn verify_is_not_clean_when_no_registry_could_be_asked() {
    let down = format!("127.0.0.1:{}", free_port());
    let pinned = format!("{down}/app:1.0@sha256:{}", "a".repeat(64));
    let tree = Tree::new().file("Dockerfile", format!("FROM {pinned}\n"));
    let home = home(None);
    let run = tagwarden_env(
        &[
            "verify",
            "--format",
            "json",
            "--insecure-registry",
            &down,
            "--timeout",
            "2",
            ".",
        ],
        tree.path(),
        &env_of(home.path()),
    );
    assert_eq!(run.status, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("could not be checked"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Dockerfile:1"), "{}", run.stderr);
    assert!(
        run.json()["findings"]
            .to_string()
            .contains("registry-error"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_lying_head_digest_is_never_pinned_nor_accepted() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let app = OciLayout::image("app");
    app.push(&format!("{}/app:1.0", registry.host()), None);
    let lie = format!("sha256:{}", "c".repeat(64));
    let liar = Proxy::start(&registry.host(), Fault::LyingDigest(lie.clone()));
    let l = liar.host();
    let home = home(None);
    let run = |args: &[&str], tree: &Tree| {
        let mut all = args.to_vec();
        all.extend(["--insecure-registry", &l]);
        tagwarden_env(&all, tree.path(), &env_of(home.path()))
    };

    // pin would write what HEAD says: the bytes are fetched first, and they are not there.
    let unpinned = format!("FROM {l}/app:1.0\n");
    let tree = Tree::new().file("Dockerfile", &unpinned);
    let pinned = run(&["pin", "."], &tree);
    assert_eq!(pinned.status, 1, "{}", pinned.stderr);
    assert!(
        pinned.stderr.contains("does not serve"),
        "{}",
        pinned.stderr
    );
    assert_eq!(
        std::fs::read_to_string(tree.join("Dockerfile")).expect("read"),
        unpinned
    );

    // verify: HEAD says the tag still points at the pin and that the pin exists; neither holds.
    let tree = Tree::new().file("Dockerfile", format!("FROM {l}/app:1.0@{lie}\n"));
    let verified = run(&["verify", "--format", "json", "."], &tree);
    assert_eq!(
        verified.status, 2,
        "{}\n{}",
        verified.stdout, verified.stderr
    );
    let findings = verified.json()["findings"].to_string();
    assert!(findings.contains("digest-missing"), "{findings}");
    assert!(findings.contains("does not serve"), "{findings}");

    // The honest registry behind it pins and verifies as usual.
    let h = registry.host();
    let tree = Tree::new().file("Dockerfile", format!("FROM {h}/app:1.0\n"));
    let honest = tagwarden_env(
        &["pin", "--insecure-registry", &h, "."],
        tree.path(),
        &env_of(home.path()),
    );
    assert_eq!(honest.status, 0, "{}", honest.stderr);
    let verified = tagwarden_env(
        &["verify", "--insecure-registry", &h, "."],
        tree.path(),
        &env_of(home.path()),
    );
    assert_eq!(verified.status, 0, "{}", verified.stderr);
}

#[test]
fn an_endless_tag_listing_ends_under_a_memory_cap() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("TAGWARDEN_REQUIRE_REGISTRY").is_none(),
            "prlimit (util-linux) is missing"
        );
        eprintln!("SKIPPED: prlimit is not installed");
        return;
    }
    // Every page holds a 1 MiB tag and a link to the next page: kept, the tags would grow
    // without end (the listing that reached 8 GB).
    let big = "a".repeat(1024 * 1024);
    let server = Server::start(handler(move |request| {
        if !request.path().ends_with("/tags/list") {
            return HttpResponse::new(404);
        }
        let n: usize = request
            .params()
            .iter()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        HttpResponse::new(200)
            .with_header(
                "Link",
                &format!("</v2/acme/scanner/tags/list?page={}>; rel=\"next\"", n + 1),
            )
            .with_body(format!(r#"{{"tags":["{big}","v{n}"]}}"#))
    }));
    let h = server.host();
    let tree = Tree::new().file("adv.toml", advisory(&h, "acme/scanner"));
    let home = home(None);
    let out = Command::new("prlimit")
        // 1 GiB of address space: a fraction of what the endless listing would take.
        .arg("--as=1073741824")
        .arg(env!("CARGO_BIN_EXE_tagwarden"))
        .args(hunt_args(&h))
        .current_dir(tree.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        // Fewer malloc arenas, so that threads' reservations do not eat the address space.
        .env("MALLOC_ARENA_MAX", "2")
        .envs(env_of(home.path()))
        .output()
        .expect("run tagwarden under prlimit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Ended by itself (not killed, no allocation failure), with the cap said.
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("the tag list goes on past 64 MiB"),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("not valid tags"), "{stdout}");
    // 64 pages and one HEAD for each valid tag, not ten thousand pages.
    assert!(server.requests() < 200, "{}", server.requests());
}

#[test]
fn a_failing_credential_helper_is_run_once_per_registry() {
    if !real_registry_available() {
        return;
    }
    let registry = private_registry();
    let h = registry.host();
    let image = OciLayout::image("app");
    for tag in ["1.0", "1.1", "1.2"] {
        image.push(&format!("{h}/app:{tag}"), registry.credentials());
    }
    let bin = tempfile::tempdir().expect("bin");
    let calls = bin.path().join("calls");
    let helper = bin.path().join("docker-credential-broken");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\ncat >> {}\necho >> {}\necho 'keychain is locked' >&2\nexit 1\n",
            calls.display(),
            calls.display()
        ),
    )
    .expect("helper");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let home = home(Some(&format!(r#"{{"credHelpers": {{"{h}": "broken"}}}}"#)));
    let mut env = env_of(home.path());
    let mut path = OsString::from(bin.path());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    env.push(("PATH", path));
    let refs: Vec<String> = ["1.0", "1.1", "1.2"]
        .iter()
        .map(|t| format!("{h}/app:{t}"))
        .collect();
    let mut args = vec!["resolve", "--insecure-registry", &h];
    args.extend(refs.iter().map(String::as_str));
    let run = tagwarden_env(&args, Path::new("."), &env);
    assert_eq!(run.status, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout
            .matches("docker-credential-broken failed")
            .count(),
        3,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("keychain is locked"), "{}", run.stdout);
    let asked = std::fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(
        asked.lines().count(),
        1,
        "the helper ran for every image: {asked:?}"
    );
}
