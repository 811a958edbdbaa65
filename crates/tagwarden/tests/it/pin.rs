//! `resolve`, `pin` and `verify` end to end against a real registry on loopback (CNCF
//! Distribution), with images pushed by skopeo, credentials from docker config files and
//! credential helpers, and a proxy that rate-limits, fails or lies.
//!
//! Every test skips loudly when `docker-registry` or `skopeo` is missing, and fails instead when
//! `TAGWARDEN_REQUIRE_REGISTRY` is set.

use std::ffi::OsString;
use std::path::Path;

use tagwarden_testbed::{
    Fault, OciLayout, Proxy, Registry, RegistryOptions, base64, free_port, real_registry_available,
};

use crate::common::{Run, Tree};
use crate::env::tagwarden_env;

/// A registry holding `app:1.0` (a single image) and `multi:1.0` (a linux/amd64 + linux/arm64
/// index), and a home directory with no credentials in it.
pub(crate) struct Bed {
    pub(crate) registry: Registry,
    pub(crate) app: OciLayout,
    multi: OciLayout,
    home: tempfile::TempDir,
}

impl Bed {
    pub(crate) fn new() -> Option<Bed> {
        Self::with(RegistryOptions::default())
    }

    fn with(options: RegistryOptions) -> Option<Bed> {
        if !real_registry_available() {
            return None;
        }
        let registry = Registry::start(options);
        let app = OciLayout::image("app");
        let multi = OciLayout::multi_arch("multi");
        app.push(
            &format!("{}/app:1.0", registry.host()),
            registry.credentials(),
        );
        multi.push(
            &format!("{}/multi:1.0", registry.host()),
            registry.credentials(),
        );
        let home = tempfile::tempdir().expect("home");
        std::fs::create_dir_all(home.path().join(".docker")).expect("docker dir");
        std::fs::create_dir_all(home.path().join("run")).expect("runtime dir");
        Some(Bed {
            registry,
            app,
            multi,
            home,
        })
    }

    pub(crate) fn host(&self) -> String {
        self.registry.host()
    }

    /// Tags the `app` image as `app:<tag>` too.
    fn tag_app(&self, tag: &str) {
        self.registry
            .put_manifest("app", tag, self.app.media_type, &self.app.bytes);
    }

    /// The environment of every run: credentials only from this bed's home directory.
    pub(crate) fn env(&self) -> Vec<(&'static str, OsString)> {
        let home = self.home.path();
        vec![
            ("HOME", home.into()),
            ("DOCKER_CONFIG", home.join(".docker").into()),
            ("XDG_RUNTIME_DIR", home.join("run").into()),
        ]
    }

    /// `tagwarden args…` in `cwd` with `--insecure-registry` for this bed's registry appended
    /// to the command (`resolve`, `pin` and `verify` all take it).
    pub(crate) fn run(&self, args: &[&str], cwd: &Path) -> Run {
        self.run_env(args, cwd, &[])
    }

    fn run_env(&self, args: &[&str], cwd: &Path, extra: &[(&'static str, OsString)]) -> Run {
        let host = self.host();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--insecure-registry", &host]);
        let mut env = self.env();
        env.extend(extra.iter().cloned());
        tagwarden_env(&all, cwd, &env)
    }
}

fn read(tree: &Tree, rel: &str) -> String {
    std::fs::read_to_string(tree.join(rel)).expect("read")
}

fn snapshot(tree: &Tree, files: &[&str]) -> Vec<(Vec<u8>, std::time::SystemTime)> {
    files
        .iter()
        .map(|f| {
            let p = tree.join(f);
            (
                std::fs::read(&p).expect("read"),
                std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .expect("mtime"),
            )
        })
        .collect()
}

#[test]
fn resolve_tag_and_multi_arch_index() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let dir = tempfile::tempdir().expect("dir");
    let app = format!("{h}/app:1.0");
    let multi = format!("{h}/multi:1.0");

    let run = bed.run(&["resolve", "--format", "json", &app, &multi], dir.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["results"][0]["reference"], app.as_str());
    assert_eq!(json["results"][0]["digest"], bed.app.digest.as_str());
    assert_eq!(json["results"][1]["digest"], bed.multi.digest.as_str());
    assert_eq!(json["results"][1]["platforms"], serde_json::json!([]));

    let run = bed.run(
        &[
            "resolve",
            "--format",
            "json",
            "--platform",
            "linux/arm64",
            &multi,
        ],
        dir.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        run.json()["results"][0]["platforms"],
        serde_json::json!([{"platform": "linux/arm64", "digest": bed.multi.platform_digest("linux/arm64")}])
    );

    let run = bed.run(
        &[
            "resolve",
            "--format",
            "json",
            "--platform",
            "all",
            &multi,
            &app,
        ],
        dir.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(
        json["results"][0]["platforms"],
        serde_json::json!([
            {"platform": "linux/amd64", "digest": bed.multi.platform_digest("linux/amd64")},
            {"platform": "linux/arm64", "digest": bed.multi.platform_digest("linux/arm64")},
        ])
    );
    // A single image has no platform list, and that is not an error.
    assert_eq!(json["results"][1]["digest"], bed.app.digest.as_str());
    assert!(json["results"][1]["error"].is_null());

    // Human output: reference, tab, digest; a platform that is not there is an error (exit 2).
    let run = bed.run(&["resolve", &app], dir.path());
    assert_eq!(run.stdout, format!("{app}\t{}\n", bed.app.digest));
    let run = bed.run(
        &["resolve", "--platform", "linux/s390x", &multi],
        dir.path(),
    );
    assert_eq!(run.status, 2, "{}", run.stdout);
    assert!(run.stdout.contains("no manifest for platform linux/s390x"));
    let run = bed.run(&["resolve", &format!("{h}/app:nope")], dir.path());
    assert_eq!(run.status, 2);
    assert!(run.stdout.contains("error:"), "{}", run.stdout);
}

/// One file of each kind the scanner knows, every reference on the loopback registry. `HOST`
/// stands for the registry, `@APP` and `@MULTI` for the digests pin must insert.
const KINDS: &[(&str, &str, &str)] = &[
    (
        "Dockerfile",
        "# syntax=HOST/app:syntax\nARG BASE=HOST/app:arg\nFROM --platform=$BUILDPLATFORM $BASE AS build\nCOPY --from=HOST/app:copy /x /y\nFROM HOST/app:final\nFROM build AS again\n",
        "# syntax=HOST/app:syntax@APP\nARG BASE=HOST/app:arg@APP\nFROM --platform=$BUILDPLATFORM $BASE AS build\nCOPY --from=HOST/app:copy@APP /x /y\nFROM HOST/app:final@APP\nFROM build AS again\n",
    ),
    (
        "compose.yaml",
        "x-base: &base\n  image: HOST/app:anchor\n  restart: always\nservices:\n  web:\n    <<: *base\n  worker: *base\n  api:\n    image: \"${API_IMAGE:-HOST/app:var}\"\n  db:\n    image: HOST/multi:1.0 # keep this comment\n",
        "x-base: &base\n  image: HOST/app:anchor@APP\n  restart: always\nservices:\n  web:\n    <<: *base\n  worker: *base\n  api:\n    image: \"${API_IMAGE:-HOST/app:var@APP}\"\n  db:\n    image: HOST/multi:1.0@MULTI # keep this comment\n",
    ),
    (
        "k8s/all.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: HOST/app:flow}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: i\n          image: 'HOST/app:init'\n      containers:\n        - name: c\n          image: HOST/multi:1.0\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: HOST/app:flow@APP}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: i\n          image: 'HOST/app:init@APP'\n      containers:\n        - name: c\n          image: HOST/multi:1.0@MULTI\n",
    ),
    (
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    ),
    (
        "chart/values.yaml",
        "image:\n  repository: HOST/app\n  tag: helm\n  digest: \"\"\nsidecar:\n  image: HOST/app:helmstr\n",
        "image:\n  repository: HOST/app\n  tag: helm\n  digest: \"@APP_BARE\"\nsidecar:\n  image: HOST/app:helmstr@APP\n",
    ),
    (
        // No `digest:` keys in this chart's values: the digest goes after the tag.
        "chart2/values.yaml",
        "image:\n  repository: HOST/app\n  tag: \"helm2\"\n  pullPolicy: IfNotPresent\n",
        "image:\n  repository: HOST/app\n  tag: \"helm2@APP\"\n  pullPolicy: IfNotPresent\n",
    ),
    (
        "kust/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: HOST/app\n    newTag: kust\n",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: HOST/app\n    newTag: kust\n    digest: @APP_BARE\n",
    ),
    (
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    container: HOST/app:job\n    services:\n      cache:\n        image: HOST/app:svc\n    steps:\n      - uses: docker://HOST/app:step\n      - run: echo\n  each:\n    runs-on: ubuntu-latest\n    container:\n      image: ${{ matrix.img }}\n    strategy:\n      matrix:\n        img: [\"HOST/app:m1\", \"HOST/app:m2\"]\n    steps:\n      - run: echo\n",
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    container: HOST/app:job@APP\n    services:\n      cache:\n        image: HOST/app:svc@APP\n    steps:\n      - uses: docker://HOST/app:step@APP\n      - run: echo\n  each:\n    runs-on: ubuntu-latest\n    container:\n      image: ${{ matrix.img }}\n    strategy:\n      matrix:\n        img: [\"HOST/app:m1@APP\", \"HOST/app:m2@APP\"]\n    steps:\n      - run: echo\n",
    ),
    (
        "act/action.yml",
        "name: a\nruns:\n  using: docker\n  image: docker://HOST/app:action\n",
        "name: a\nruns:\n  using: docker\n  image: docker://HOST/app:action@APP\n",
    ),
    (
        ".gitlab-ci.yml",
        "variables:\n  BUILD_IMAGE: HOST/app:glvar\nimage: HOST/app:glimage\ntest:\n  image: $BUILD_IMAGE\n  services:\n    - HOST/app:glsvc\n    - name: HOST/app:glsvc2\n      alias: db\n  script: [echo]\n",
        "variables:\n  BUILD_IMAGE: HOST/app:glvar@APP\nimage: HOST/app:glimage@APP\ntest:\n  image: $BUILD_IMAGE\n  services:\n    - HOST/app:glsvc@APP\n    - name: HOST/app:glsvc2@APP\n      alias: db\n  script: [echo]\n",
    ),
];

const KIND_TAGS: &[&str] = &[
    "syntax", "helm2", "arg", "copy", "final", "anchor", "var", "flow", "init", "helm", "helmstr",
    "kust", "job", "svc", "step", "m1", "m2", "action", "glvar", "glimage", "glsvc", "glsvc2",
];

impl Bed {
    fn fill(&self, template: &str) -> String {
        let bare = |d: &str| d.to_string();
        template
            .replace("HOST", &self.host())
            .replace("@APP_BARE", &bare(&self.app.digest))
            .replace("@APP", &format!("@{}", self.app.digest))
            .replace("@MULTI", &format!("@{}", self.multi.digest))
    }
}

#[test]
fn pin_every_file_kind_byte_for_byte() {
    let Some(bed) = Bed::new() else { return };
    for t in KIND_TAGS {
        bed.tag_app(t);
    }
    let mut tree = Tree::new();
    for (path, before, _) in KINDS {
        tree = tree.file(path, bed.fill(before));
    }
    let files: Vec<&str> = KINDS.iter().map(|(p, ..)| *p).collect();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            tree.join("Dockerfile"),
            std::fs::Permissions::from_mode(0o640),
        )
        .expect("chmod");
        std::fs::set_permissions(
            tree.join(".gitlab-ci.yml"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }

    // --check: offline, lists every unpinned reference, exit 1.
    let run = bed.run(&["pin", "--check", "."], tree.path());
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.ends_with("24 unpinned image references\n"),
        "{}",
        run.stdout
    );

    // --dry-run: a unified diff, nothing written.
    let before = snapshot(&tree, &files);
    let run = bed.run(&["pin", "--dry-run", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(snapshot(&tree, &files), before, "--dry-run wrote");
    let expected_line = format!("+FROM {}/app:final@{}", bed.host(), bed.app.digest);
    assert!(
        run.stdout.contains("--- a/Dockerfile\n+++ b/Dockerfile\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("-FROM {}/app:final\n", bed.host()))
    );
    assert!(run.stdout.contains(&expected_line), "{}", run.stdout);
    assert!(
        run.stderr.contains("would pin 24 references in 9 files"),
        "{}",
        run.stderr
    );

    let run = bed.run(&["pin", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("pinned 24 references in 9 files"),
        "{}",
        run.stderr
    );
    for (path, _, after) in KINDS {
        assert_eq!(read(&tree, path), bed.fill(after), "{path}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| {
            std::fs::metadata(tree.join(f))
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("Dockerfile"), 0o640);
        assert_eq!(mode(".gitlab-ci.yml"), 0o755);
    }

    // Idempotent: a second run changes no byte and touches no file.
    let pinned = snapshot(&tree, &files);
    let run = bed.run(&["pin", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("pinned 0 references in 0 files"),
        "{}",
        run.stderr
    );
    assert_eq!(snapshot(&tree, &files), pinned);
    let run = bed.run(&["pin", "--dry-run", "."], tree.path());
    assert_eq!(run.stdout, "");

    let run = bed.run(&["pin", "--check", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "0 unpinned image references\n");

    // And what was pinned verifies clean.
    let run = bed.run(&["verify", "--format", "json", "."], tree.path());
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["findings"], serde_json::json!([]));
}

#[test]
fn pin_keeps_crlf_and_bom() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let d = &bed.app.digest;
    let tree = Tree::new()
        .file(
            "Dockerfile",
            format!("\u{feff}FROM {h}/app:1.0 AS a\r\nRUN true\r\nFROM {h}/app\r\n"),
        )
        .file(
            "compose.yaml",
            format!("\u{feff}services:\r\n  a:\r\n    image: \"{h}/app:1.0\"\r\n"),
        );
    bed.tag_app("latest");
    let run = bed.run(&["pin", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("\u{feff}FROM {h}/app:1.0@{d} AS a\r\nRUN true\r\nFROM {h}/app:latest@{d}\r\n")
    );
    assert_eq!(
        read(&tree, "compose.yaml"),
        format!("\u{feff}services:\r\n  a:\r\n    image: \"{h}/app:1.0@{d}\"\r\n")
    );
    let run = bed.run(&["pin", "--check", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stdout);
}

#[test]
fn pin_platform_manifest() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let tree = Tree::new().file(
        "Dockerfile",
        format!("FROM {h}/multi:1.0\nFROM {h}/app:1.0\n"),
    );
    let run = bed.run(&["pin", "--platform", "linux/arm64", "."], tree.path());
    // The single image is not an index: its manifest is what every platform gets.
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!(
            "FROM {h}/multi:1.0@{}\nFROM {h}/app:1.0@{}\n",
            bed.multi.platform_digest("linux/arm64"),
            bed.app.digest
        )
    );
    // A platform pin is current while the index lists it.
    let run = bed.run(&["verify", "--format", "json", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert_eq!(run.json()["findings"], serde_json::json!([]));

    let tree = Tree::new().file("Dockerfile", format!("FROM {h}/multi:1.0\n"));
    let run = bed.run(&["pin", "--platform", "linux/s390x", "."], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no manifest for platform linux/s390x"),
        "{}",
        run.stderr
    );
    assert_eq!(read(&tree, "Dockerfile"), format!("FROM {h}/multi:1.0\n"));
}

/// A second registry that demands a password, and a tree naming images on both.
fn private_bed() -> Option<(Bed, Registry, Tree)> {
    let bed = Bed::new()?;
    let private = Registry::start(RegistryOptions {
        htpasswd: Some(("alice".into(), "s3cret".into())),
        ..RegistryOptions::default()
    });
    bed.app.push(
        &format!("{}/team/app:1.0", private.host()),
        private.credentials(),
    );
    let tree = Tree::new().file(
        "Dockerfile",
        format!(
            "FROM {}/team/app:1.0\nFROM {}/app:1.0\n",
            private.host(),
            bed.host()
        ),
    );
    Some((bed, private, tree))
}

fn pin_both(bed: &Bed, private: &Registry, tree: &Tree, env: &[(&'static str, OsString)]) -> Run {
    let p = private.host();
    bed.run_env(&["pin", "--insecure-registry", &p, "."], tree.path(), env)
}

#[test]
fn credentials_from_docker_config_auths() {
    let Some((bed, private, tree)) = private_bed() else {
        return;
    };
    let d = &bed.app.digest;
    let (p, h) = (private.host(), bed.host());

    // No credentials: that registry fails clearly, the other reference is still pinned.
    let run = pin_both(&bed, &private, &tree, &[]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains(&p), "{}", run.stderr);
    assert!(
        run.stderr.contains("credentials"),
        "the message should say credentials are missing: {}",
        run.stderr
    );
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("FROM {p}/team/app:1.0\nFROM {h}/app:1.0@{d}\n")
    );

    std::fs::write(
        bed.home.path().join(".docker/config.json"),
        format!(
            r#"{{"auths": {{"{p}": {{"auth": "{}"}}}}}}"#,
            base64(b"alice:s3cret")
        ),
    )
    .expect("config.json");
    let run = pin_both(&bed, &private, &tree, &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("FROM {p}/team/app:1.0@{d}\nFROM {h}/app:1.0@{d}\n")
    );
    // The password never reaches the output.
    assert!(!run.stderr.contains("s3cret") && !run.stdout.contains("s3cret"));

    // docker writes keys with a scheme or a path too; they name the same registry.
    for key in [format!("http://{p}"), format!("https://{p}/v1/")] {
        let t = Tree::new().file("Dockerfile", format!("FROM {p}/team/app:1.0\n"));
        std::fs::write(
            bed.home.path().join(".docker/config.json"),
            format!(
                r#"{{"auths": {{"{key}": {{"auth": "{}"}}}}}}"#,
                base64(b"alice:s3cret")
            ),
        )
        .expect("config.json");
        let run = pin_both(&bed, &private, &t, &[]);
        assert_eq!(run.status, 0, "key {key}: {}", run.stderr);
        assert_eq!(
            read(&t, "Dockerfile"),
            format!("FROM {p}/team/app:1.0@{d}\n")
        );
    }

    // podman's auth file (REGISTRY_AUTH_FILE) works the same way.
    std::fs::remove_file(bed.home.path().join(".docker/config.json")).expect("rm");
    let tree3 = Tree::new().file("Dockerfile", format!("FROM {p}/team/app:1.0\n"));
    let auth_file = bed.home.path().join("auth.json");
    std::fs::write(
        &auth_file,
        format!(
            r#"{{"auths": {{"{p}": {{"auth": "{}"}}}}}}"#,
            base64(b"alice:s3cret")
        ),
    )
    .expect("auth.json");
    let run = pin_both(
        &bed,
        &private,
        &tree3,
        &[("REGISTRY_AUTH_FILE", auth_file.clone().into())],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree3, "Dockerfile"),
        format!("FROM {p}/team/app:1.0@{d}\n")
    );

    // GitLab CI hands the whole config over in DOCKER_AUTH_CONFIG.
    std::fs::remove_file(&auth_file).expect("rm");
    let tree4 = Tree::new().file("Dockerfile", format!("FROM {p}/team/app:1.0\n"));
    let config = format!(
        r#"{{"auths": {{"{p}": {{"auth": "{}"}}}}}}"#,
        base64(b"alice:s3cret")
    );
    let run = pin_both(
        &bed,
        &private,
        &tree4,
        &[("DOCKER_AUTH_CONFIG", config.into())],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree4, "Dockerfile"),
        format!("FROM {p}/team/app:1.0@{d}\n")
    );

    // A wrong password is an error for that registry, like none.
    let tree2 = Tree::new().file("Dockerfile", format!("FROM {p}/team/app:1.0\n"));
    std::fs::write(
        bed.home.path().join(".docker/config.json"),
        format!(
            r#"{{"auths": {{"{p}": {{"auth": "{}"}}}}}}"#,
            base64(b"alice:wrong")
        ),
    )
    .expect("config.json");
    let run = pin_both(&bed, &private, &tree2, &[]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("wrong"), "{}", run.stderr);
}

#[test]
fn credentials_from_a_credential_helper() {
    let Some((bed, private, tree)) = private_bed() else {
        return;
    };
    let d = &bed.app.digest;
    let (p, h) = (private.host(), bed.host());
    let bin = bed.home.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let helper = bin.join("docker-credential-test");
    // Answers `get` for the private registry only, as docker's helper protocol says.
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\nif [ \"$server\" = \"{p}\" ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}}' \"$server\"\nelse\n  echo 'credentials not found in native keychain'; exit 1\nfi\n"
        ),
    )
    .expect("helper");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::write(
        bed.home.path().join(".docker/config.json"),
        format!(r#"{{"credHelpers": {{"{p}": "test"}}}}"#),
    )
    .expect("config.json");
    let mut path = OsString::from(&bin);
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());

    let run = pin_both(&bed, &private, &tree, &[("PATH", path)]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("FROM {p}/team/app:1.0@{d}\nFROM {h}/app:1.0@{d}\n")
    );
    assert!(!run.stderr.contains("s3cret"));

    // The helper is not on PATH: a clear error for that registry, the other still pinned.
    let tree = Tree::new().file(
        "Dockerfile",
        format!("FROM {p}/team/app:1.0\nFROM {h}/app:1.0\n"),
    );
    let run = pin_both(&bed, &private, &tree, &[]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    // Said once, not once per request.
    assert_eq!(
        run.stderr
            .matches("credential helper docker-credential-test not found")
            .count(),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("FROM {p}/team/app:1.0\nFROM {h}/app:1.0@{d}\n")
    );
}

fn findings(run: &Run) -> Vec<serde_json::Value> {
    run.json()["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn verify_reports_a_moved_tag() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let tree = Tree::new().file("Dockerfile", format!("FROM {h}/app:1.0\n"));
    let run = bed.run(&["pin", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    let run = bed.run(&["verify", "--format", "json", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stdout);

    // Someone pushes another image to the same tag.
    let other = OciLayout::image("attacker");
    other.push(&format!("{h}/app:1.0"), None);
    let run = bed.run(&["verify", "--format", "json", "."], tree.path());
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let f = findings(&run);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule"], "tag-moved");
    assert_eq!(f[0]["line"], 1);
    let notes = f[0]["notes"].to_string();
    assert!(notes.contains(&bed.app.digest), "{notes}");
    assert!(notes.contains(&other.digest), "{notes}");
    // The file itself is not touched by verify.
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("FROM {h}/app:1.0@{}\n", bed.app.digest)
    );
}

#[test]
fn verify_reports_a_deleted_digest() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let tree = Tree::new().file(
        "Dockerfile",
        format!("FROM {h}/multi:1.0\nFROM {h}/app:1.0\n"),
    );
    let run = bed.run(&["pin", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    bed.registry.delete_manifest("multi", &bed.multi.digest);
    let run = bed.run(
        &["verify", "--format", "json", "--fail-on", "medium", "."],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let f = findings(&run);
    let missing: Vec<_> = f.iter().filter(|f| f["rule"] == "digest-missing").collect();
    assert_eq!(missing.len(), 1, "{f:?}");
    assert_eq!(missing[0]["line"], 1);
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&bed.multi.digest),
        "{f:?}"
    );
    // The other reference is fine: no finding on line 2.
    assert!(f.iter().all(|f| f["line"] == 1), "{f:?}");
}

#[test]
fn a_lying_registry_is_refused() {
    let Some(bed) = Bed::new() else { return };
    let liar = Proxy::start(&bed.host(), Fault::MismatchedManifest);
    let l = liar.host();
    let tree = Tree::new().file("Dockerfile", format!("FROM {l}/multi:1.0\n"));
    let pin = |args: &[&str], tree: &Tree| {
        let mut all = args.to_vec();
        all.extend(["--insecure-registry", &l]);
        tagwarden_env(&all, tree.path(), &bed.env())
    };
    // --platform reads the index: its bytes do not hash to the digest, so nothing is pinned.
    let run = pin(&["pin", "--platform", "linux/arm64", "."], &tree);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("digest"), "{}", run.stderr);
    assert!(liar.faults() > 0);
    assert_eq!(read(&tree, "Dockerfile"), format!("FROM {l}/multi:1.0\n"));

    // verify reads the index of a pinned tag to see whether a platform pin is still in it.
    let tree = Tree::new().file(
        "Dockerfile",
        format!(
            "FROM {l}/multi:1.0@{}\n",
            bed.multi.platform_digest("linux/arm64")
        ),
    );
    let run = pin(
        &["verify", "--format", "json", "--fail-on", "medium", "."],
        &tree,
    );
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let f = findings(&run);
    assert!(f.iter().any(|f| f["rule"] == "registry-error"), "{f:?}");
    assert!(f.iter().all(|f| f["rule"] != "tag-moved"), "{f:?}");

    // Resolve with platforms refuses the index too.
    let run = pin(
        &["resolve", "--platform", "all", &format!("{l}/multi:1.0")],
        &tree,
    );
    assert_eq!(run.status, 2, "{}", run.stdout);
}

#[test]
fn rate_limit_is_waited_out() {
    let Some(bed) = Bed::new() else { return };
    let proxy = Proxy::start(
        &bed.host(),
        Fault::TooManyRequests {
            times: 2,
            retry_after_secs: 1,
        },
    );
    let p = proxy.host();
    let tree = Tree::new().file("Dockerfile", format!("FROM {p}/app:1.0\n"));
    let started = std::time::Instant::now();
    let run = tagwarden_env(
        &["pin", "--insecure-registry", &p, "."],
        tree.path(),
        &bed.env(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(proxy.faults(), 2);
    // Retry-After was honoured (two waits of a second): a lower bound, which load cannot break.
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("FROM {p}/app:1.0@{}\n", bed.app.digest)
    );
}

#[test]
fn registries_that_are_down_do_not_stop_the_others() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let failing = Proxy::start(&h, Fault::ServiceUnavailable);
    let f = failing.host();
    let down = format!("127.0.0.1:{}", free_port());
    let before = format!("FROM {down}/app:1.0\nFROM {f}/app:1.0\nFROM {h}/app:1.0\n");
    let tree = Tree::new().file("Dockerfile", &before);
    let run = tagwarden_env(
        &[
            "pin",
            "--insecure-registry",
            &down,
            "--insecure-registry",
            &f,
            "--insecure-registry",
            &h,
            "--timeout",
            "5",
            ".",
        ],
        tree.path(),
        &bed.env(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains(&down), "{}", run.stderr);
    assert!(run.stderr.contains(&f), "{}", run.stderr);
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    assert!(run.stderr.contains("2 not pinned"), "{}", run.stderr);
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!(
            "FROM {down}/app:1.0\nFROM {f}/app:1.0\nFROM {h}/app:1.0@{}\n",
            bed.app.digest
        )
    );
}

/// A user advisory naming the digest of `app:1.0` malicious and `good`'s digest known good.
fn advisory(host: &str, bad: &str, good: &str) -> String {
    advisory_for(
        host,
        "app",
        bad,
        "kind = \"manifest\", platform = \"linux/amd64\"",
        good,
    )
}

/// A user advisory naming `bad` (with `kind`, e.g. `kind = "index"`) malicious in `repo` and
/// `good` known good.
pub(crate) fn advisory_for(host: &str, repo: &str, bad: &str, kind: &str, good: &str) -> String {
    format!(
        r#"schema_version = 1
id = "acme-2026-02"
title = "acme app tag overwritten"
summary = "test"
published = "2026-02-02"
updated = "2026-02-02"

[[sources]]
id = "s"
url = "https://example.invalid/advisory"

[[malicious_images]]
repositories = ["{host}/{repo}"]
tags = ["1.0"]
sources = ["s"]
confidence = "P"
digests = [{{ digest = "{bad}", {kind} }}]

[[known_good_images]]
repositories = ["{host}/{repo}"]
tags = ["1.0"]
confirmed = true
sources = ["s"]
confidence = "P"
digests = [{{ digest = "{good}" }}]

[examples]
images_must_match = [{{ ref = "{host}/{repo}@{bad}", verdict = "malicious_digest" }}]
images_must_not_match = ["{host}/{repo}:1.0@{good}"]
"#
    )
}

#[test]
fn a_malicious_digest_is_refused_and_known_good_is_pinned() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let good = OciLayout::image("known-good");
    good.push(&format!("{h}/app:0.9"), None);
    let tree = Tree::new()
        .file("adv/acme.toml", advisory(&h, &bed.app.digest, &good.digest))
        .file(
            "src/Dockerfile",
            format!("FROM {h}/app:1.0\nFROM {h}/multi:1.0\n"),
        );

    let run = bed.run(&["pin", "--advisories", "adv", "src"], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{h}/app:1.0")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("acme-2026-02"), "{}", run.stderr);
    assert!(run.stderr.contains("malicious"), "{}", run.stderr);
    assert_eq!(
        read(&tree, "src/Dockerfile"),
        format!(
            "FROM {h}/app:1.0\nFROM {h}/multi:1.0@{}\n",
            bed.multi.digest
        )
    );

    let run = bed.run(
        &["pin", "--advisories", "adv", "--to-known-good", "src"],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains("known-good"), "{}", run.stderr);
    assert_eq!(
        read(&tree, "src/Dockerfile"),
        format!(
            "FROM {h}/app:1.0@{}\nFROM {h}/multi:1.0@{}\n",
            good.digest, bed.multi.digest
        )
    );
}

#[test]
fn a_rate_limit_longer_than_the_longest_wait_gives_up_at_once() {
    let Some(bed) = Bed::new() else { return };
    let proxy = Proxy::start(
        &bed.host(),
        Fault::TooManyRequests {
            times: usize::MAX,
            retry_after_secs: 3600,
        },
    );
    let p = proxy.host();
    let h = bed.host();
    let tree = Tree::new().file(
        "Dockerfile",
        format!("FROM {p}/app:1.0\nFROM {h}/app:1.0\n"),
    );
    let run = bed.run(&["pin", "--insecure-registry", &p, "."], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    // Given up on the first 429, neither waited out nor retried.
    assert_eq!(proxy.faults(), 1);
    assert!(run.stderr.contains(&p), "{}", run.stderr);
    assert!(run.stderr.to_lowercase().contains("rate"), "{}", run.stderr);
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("FROM {p}/app:1.0\nFROM {h}/app:1.0@{}\n", bed.app.digest)
    );
}

#[test]
fn docker_manifest_lists_resolve_and_pin_like_oci_indexes() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    bed.multi.push_docker_v2s2(&format!("{h}/dlist:1"), None);
    let (list, media_type) = bed.registry.head_digest("dlist", "1").expect("pushed");
    assert_eq!(
        media_type,
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    let dir = tempfile::tempdir().expect("dir");
    let run = bed.run(
        &[
            "resolve",
            "--format",
            "json",
            "--platform",
            "all",
            &format!("{h}/dlist:1"),
        ],
        dir.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["results"][0]["digest"], list.as_str());
    let platforms = json["results"][0]["platforms"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = platforms
        .iter()
        .filter_map(|p| p["platform"].as_str())
        .collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64"]);
    let arm = platforms[1]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        bed.registry
            .head_digest("dlist", &arm)
            .map(|(_, t)| t)
            .as_deref(),
        Some("application/vnd.docker.distribution.manifest.v2+json")
    );

    let tree = Tree::new().file(
        "Dockerfile",
        format!("FROM {h}/dlist:1\nFROM {h}/dlist:1 AS b\n"),
    );
    let run = bed.run(&["pin", "--platform", "linux/arm64", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree, "Dockerfile"),
        format!("FROM {h}/dlist:1@{arm}\nFROM {h}/dlist:1@{arm} AS b\n")
    );
    let run = bed.run(&["verify", "--format", "json", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert_eq!(run.json()["findings"], serde_json::json!([]));
}

#[cfg(unix)]
#[test]
fn pin_writes_through_symbolic_links() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let tree = Tree::new().file("real/Dockerfile", format!("FROM {h}/app:1.0\n"));
    std::fs::create_dir_all(tree.join("links")).expect("mkdir");
    std::os::unix::fs::symlink("../real/Dockerfile", tree.join("links/Dockerfile"))
        .expect("symlink");
    let run = bed.run(&["pin", "links/Dockerfile"], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    let link = std::fs::symlink_metadata(tree.join("links/Dockerfile")).expect("lstat");
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert_eq!(
        read(&tree, "real/Dockerfile"),
        format!("FROM {h}/app:1.0@{}\n", bed.app.digest)
    );
}

#[test]
fn an_index_with_a_malicious_manifest_is_refused_and_the_reverse() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let good = OciLayout::image("known-good");
    good.push(&format!("{h}/multi:0.9"), None);
    let amd = bed.multi.platform_digest("linux/amd64").to_string();

    // Only the amd64 manifest is listed: pinning the index that holds it is refused.
    let tree = Tree::new()
        .file(
            "adv/a.toml",
            advisory_for(
                &h,
                "multi",
                &amd,
                "kind = \"manifest\", platform = \"linux/amd64\"",
                &good.digest,
            ),
        )
        .file("src/Dockerfile", format!("FROM {h}/multi:1.0\n"));
    let run = bed.run(&["pin", "--advisories", "adv", "src"], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the registry serves the index {}, which holds {amd}",
            bed.multi.digest
        )),
        "{}",
        run.stderr
    );
    // Nor is its arm64 sibling pinned in its place.
    let run = bed.run(
        &[
            "pin",
            "--advisories",
            "adv",
            "--platform",
            "linux/arm64",
            "src",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(
        read(&tree, "src/Dockerfile"),
        format!("FROM {h}/multi:1.0\n")
    );

    // Only the index is listed: its platform manifest is refused too.
    let tree = Tree::new()
        .file(
            "adv/a.toml",
            advisory_for(
                &h,
                "multi",
                &bed.multi.digest,
                "kind = \"index\"",
                &good.digest,
            ),
        )
        .file("src/Dockerfile", format!("FROM {h}/multi:1.0\n"));
    let run = bed.run(
        &[
            "pin",
            "--advisories",
            "adv",
            "--platform",
            "linux/arm64",
            "src",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("from the index"), "{}", run.stderr);
    assert_eq!(
        read(&tree, "src/Dockerfile"),
        format!("FROM {h}/multi:1.0\n")
    );

    let run = bed.run(
        &["pin", "--advisories", "adv", "--to-known-good", "src"],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree, "src/Dockerfile"),
        format!("FROM {h}/multi:1.0@{}\n", good.digest)
    );
}

#[test]
fn update_keeps_a_platform_pin_on_its_platform() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let tree = Tree::new()
        .file("arm/Dockerfile", format!("FROM {h}/multi:1.0\n"))
        .file("index/Dockerfile", format!("FROM {h}/multi:2.0\n"));
    bed.multi.push(&format!("{h}/multi:2.0"), None);
    let run = bed.run(&["pin", "--platform", "linux/arm64", "arm"], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    let run = bed.run(&["pin", "index"], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);

    // Both tags move to a new build.
    let rebuilt = OciLayout::multi_arch("rebuilt");
    rebuilt.push(&format!("{h}/multi:1.0"), None);
    rebuilt.push(&format!("{h}/multi:2.0"), None);
    let run = bed.run(&["pin", "--update", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        read(&tree, "arm/Dockerfile"),
        format!(
            "FROM {h}/multi:1.0@{}\n",
            rebuilt.platform_digest("linux/arm64")
        )
    );
    assert_eq!(
        read(&tree, "index/Dockerfile"),
        format!("FROM {h}/multi:2.0@{}\n", rebuilt.digest)
    );
    // Nothing moved since: a second update changes nothing.
    let before = read(&tree, "arm/Dockerfile") + &read(&tree, "index/Dockerfile");
    let run = bed.run(&["pin", "--update", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        before,
        read(&tree, "arm/Dockerfile") + &read(&tree, "index/Dockerfile")
    );
}
