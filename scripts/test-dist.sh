#!/usr/bin/env bash
# The distribution tests: what users run outside cargo, run as they would run it.
#   - the GitHub Action's scripts (action/install.sh, action/run.sh) with a release served on
#     loopback, as the runner calls them;
#   - the pre-commit hooks with the real pre-commit (PyPI) in a throwaway git repository;
#   - the container image, built by podman from the shipped Containerfile with both bases
#     replaced by images made here from this machine's files (see test_image), then run;
#   - cargo-deny's offline checks and the SBOM command, when cargo-deny and cargo-cyclonedx are
#     installed.
# Needs target/debug/tagwarden (cargo test builds it). Called by scripts/test.sh; on its own:
#   scripts/test-dist.sh [action|pre-commit|image|deny|sbom]...
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=$repo/target/debug/tagwarden
[ -x "$bin" ] || { echo "build first: cargo build -p tagwarden"; exit 2; }
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)
work=$(mktemp -d "${TMPDIR:-/tmp}/tagwarden-dist.XXXXXX")
pids=()
cleanup() {
  for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
  # podman mounts the image test's overlay storage on itself (and may still be tidying up).
  local overlay=$work/containers/root/overlay
  for _ in 1 2 3 4 5; do
    mountpoint -q "$overlay" 2>/dev/null || break
    umount "$overlay" 2>/dev/null || sleep 1
  done
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

passed=0 failed=0
# check NAME COMMAND...: runs one test, its output kept and shown only when it fails.
check() {
  local name=$1 status; shift
  # Not in a condition: there bash would ignore `set -e` inside the test.
  set +e
  ( set -euo pipefail; "$@" ) >"$work/$name.log" 2>&1
  status=$?
  set -e
  if [ "$status" = 0 ]; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/$name.log"
  fi
}
fail() { echo "$*"; return 1; }

# A static file server on loopback; sets served_port.
serve() {
  python3 -u -m http.server --bind 127.0.0.1 --directory "$1" 0 >"$work/http.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    served_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -1)
    [ -n "$served_port" ] && return
    sleep 0.1
  done
  fail "http server did not start"
}

# A tree that uses a tag overwritten in the KICS compromise.
kics_tree() {
  mkdir -p "$1" && printf 'FROM checkmarx/kics:latest\nRUN kics scan -p /src\n' >"$1/Dockerfile"
}

# ---- the GitHub Action ----------------------------------------------------------------------

# Runs action/install.sh as the runner does; $1 is the release base URL.
run_install() {
  local temp=$work/runner-$RANDOM
  mkdir -p "$temp"
  : >"$temp/path"
  installed=$temp/tagwarden/bin/tagwarden
  GITHUB_ACTION_PATH=$repo RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TEMP=$temp GITHUB_PATH=$temp/path \
    TAGWARDEN_RELEASE_BASE=$1 bash "$repo/action/install.sh" || return
  grep -qx "$temp/tagwarden/bin" "$temp/path" || fail "GITHUB_PATH not set"
}

# A release as the release workflow lays it out, served on loopback.
make_release() {
  local rel=$work/release/v$version name=tagwarden-$version-x86_64-unknown-linux-gnu
  mkdir -p "$rel/$name"
  objcopy --strip-debug "$bin" "$rel/$name/tagwarden"
  tar -C "$rel" -czf "$rel/$name.tar.gz" "$name"
  (cd "$rel" && sha256sum "$name.tar.gz" >SHA256SUMS)
  serve "$work/release"
  release_port=$served_port
}

test_action_install_release() {
  run_install "http://127.0.0.1:$release_port"
  "$installed" --version | grep -q "tagwarden $version (commit " || fail "not the released binary"
}

test_action_install_refuses_tampered() {
  local rel=$work/release/v$version
  cp "$rel/SHA256SUMS" "$work/sums"
  sed -i 's/^./0/' "$rel/SHA256SUMS"
  local status=0
  run_install "http://127.0.0.1:$release_port" >"$work/tampered.out" 2>&1 || status=$?
  cp "$work/sums" "$rel/SHA256SUMS"
  cat "$work/tampered.out"
  [ "$status" = 2 ] || fail "exit $status, want 2"
  grep -q "does not match its SHA256SUMS entry" "$work/tampered.out" || fail "no checksum error"
  [ ! -e "$installed" ] || fail "a tampered binary was installed"
}

test_action_install_builds_without_release() {
  # No release for this version: the action builds its own source with cargo. A real
  # `cargo install` is a cold release build, so a stand-in records the call and installs the
  # debug binary; what is checked is that the fallback asks for exactly this version's source.
  mkdir -p "$work/fakebin"
  cat >"$work/fakebin/cargo" <<STUB
#!/usr/bin/env bash
echo "\$*" >"$work/cargo-args"
root=\$(sed 's/.*--root \([^ ]*\).*/\1/' <<<"\$*")
install -D -m 0755 "$bin" "\$root/bin/tagwarden"
STUB
  chmod +x "$work/fakebin/cargo"
  PATH=$work/fakebin:$PATH run_install "http://127.0.0.1:$release_port/nothing-here"
  grep -q -- "install --locked --root .* --path $repo/crates/tagwarden" "$work/cargo-args" \
    || fail "cargo called as: $(cat "$work/cargo-args")"
  "$installed" --version
}

# Runs action/run.sh in directory $1 with the inputs given as NAME=VALUE; leaves the step
# outputs in $outputs.
run_step() {
  local dir=$1; shift
  outputs=$work/outputs-$RANDOM
  : >"$outputs"
  (cd "$dir" && env PATH="$(dirname "$bin"):$PATH" RUNNER_TEMP="$work" GITHUB_OUTPUT="$outputs" \
    GITHUB_REPOSITORY=acme/app "$@" bash "$repo/action/run.sh")
}
output() { sed -n "s/^$1=//p" "$outputs"; }

test_action_scan_sarif() {
  kics_tree "$work/scan-tree"
  run_step "$work/scan-tree" INPUT_COMMAND=scan INPUT_FORMAT=sarif INPUT_PATHS=.
  [ "$(output exit-code)" = 1 ] || fail "exit-code $(output exit-code), want 1"
  local sarif; sarif=$(output sarif-file)
  python3 - "$sarif" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
rules = {r["ruleId"] for r in run["results"]}
assert "affected-tag" in rules, rules
assert run["tool"]["driver"]["name"] == "tagwarden"
PY
}

test_action_fork_config_cannot_hide() {
  # A fork's pull request brings a config that turns off compromised-digest: `auto` distrusts it.
  local tree=$work/fork-tree
  mkdir -p "$tree"
  printf 'FROM checkmarx/kics@sha256:2588a44890263a8185bd5d9fadb6bc9220b60245dbcbc4da35e1b62a6f8c230d\n' >"$tree/Dockerfile"
  printf '[ignore]\nrules = ["compromised-digest", "unpinned-image"]\n' >"$tree/tagwarden.toml"
  printf '{"pull_request":{"head":{"repo":{"full_name":"mallory/app"}}}}' >"$work/fork-event.json"
  printf '{"pull_request":{"head":{"repo":{"full_name":"acme/app"}}}}' >"$work/own-event.json"
  run_step "$tree" INPUT_COMMAND=scan INPUT_FORMAT=github GITHUB_EVENT_NAME=pull_request \
    GITHUB_EVENT_PATH="$work/fork-event.json"
  [ "$(output exit-code)" = 1 ] || fail "fork: exit-code $(output exit-code), want 1"
  run_step "$tree" INPUT_COMMAND=scan INPUT_FORMAT=github GITHUB_EVENT_NAME=pull_request \
    GITHUB_EVENT_PATH="$work/own-event.json"
  [ "$(output exit-code)" = 0 ] || fail "same repository: exit-code $(output exit-code), want 0"
}

test_action_pin_check_and_verify() {
  kics_tree "$work/pin-tree"
  run_step "$work/pin-tree" INPUT_COMMAND=pin-check
  [ "$(output exit-code)" = 1 ] || fail "pin-check: exit-code $(output exit-code), want 1"
  [ -z "$(output sarif-file)" ] || fail "pin-check wrote SARIF"
  mkdir -p "$work/empty-tree"
  run_step "$work/empty-tree" INPUT_COMMAND=verify INPUT_FORMAT=sarif
  [ "$(output exit-code)" = 0 ] || fail "verify: exit-code $(output exit-code), want 0"
  [ -s "$(output sarif-file)" ] || fail "verify: no SARIF"
  run_step "$work/empty-tree" INPUT_COMMAND=lint
  [ "$(output exit-code)" = 2 ] || fail "unknown command: exit-code $(output exit-code), want 2"
}

suite_action() {
  make_release
  check action-install-release test_action_install_release
  check action-install-refuses-tampered test_action_install_refuses_tampered
  check action-install-builds-without-release test_action_install_builds_without_release
  check action-scan-sarif test_action_scan_sarif
  check action-fork-config-cannot-hide test_action_fork_config_cannot_hide
  check action-pin-check-and-verify test_action_pin_check_and_verify
}

# ---- pre-commit -----------------------------------------------------------------------------

test_pre_commit() {
  local venv=$repo/target/dist-venv pc
  local req=$repo/scripts/dist/requirements.txt
  local want; want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/pre-commit" ] || [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$want" >"$venv/.stamp"
  fi
  pc=$venv/bin/pre-commit
  export PRE_COMMIT_HOME=$work/pre-commit-home PATH="$(dirname "$bin"):$PATH"
  export GIT_CONFIG_GLOBAL=$work/gitconfig GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.invalid
  export GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.invalid
  git config --global init.defaultBranch main
  # The hooks repository as users reference it: a git repository holding .pre-commit-hooks.yaml.
  local hooks=$work/hooks
  git init -q "$hooks" && cp "$repo/.pre-commit-hooks.yaml" "$hooks/"
  git -C "$hooks" add . && git -C "$hooks" commit -qm hooks
  local rev; rev=$(git -C "$hooks" rev-parse HEAD)
  local app=$work/app
  git init -q "$app" && cd "$app"
  printf 'repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: tagwarden-scan\n      - id: tagwarden-pin-check\n' \
    "file://$hooks" "$rev" >.pre-commit-config.yaml
  "$pc" install
  git add .pre-commit-config.yaml && git commit -qm config

  # A compromised tag is refused by both hooks.
  kics_tree "$app/build"
  git add build/Dockerfile
  if git commit -qm kics >"$work/commit1.out" 2>&1; then cat "$work/commit1.out"; fail "commit of kics:latest went through"; fi
  cat "$work/commit1.out"
  grep -q "affected-tag" "$work/commit1.out" || fail "scan hook did not name the finding"
  grep -q "is not pinned to a digest" "$work/commit1.out" || fail "pin hook did not name the reference"

  # Pinned to a digest no advisory lists: both pass.
  printf 'FROM docker.io/library/alpine:3.20@sha256:%s\n' "$(printf a%.0s $(seq 64))" >build/Dockerfile
  git add build/Dockerfile
  git commit -qm pinned || fail "commit of a pinned image refused"

  # A file the hooks never pass (Markdown) is skipped, not handed to tagwarden.
  printf 'FROM checkmarx/kics:latest\n' >NOTES.md
  git add NOTES.md
  "$pc" run --files NOTES.md >"$work/md.out" 2>&1 || { cat "$work/md.out"; fail "Markdown file judged"; }
  grep -q "no files to check" "$work/md.out" || { cat "$work/md.out"; fail "Markdown file passed to the hooks"; }
}

suite_pre_commit() {
  check pre-commit-hooks test_pre_commit
}

# ---- the container image ----------------------------------------------------------------------
#
# The shipped Containerfile pins the official Rust image and distroless's cc image by digest; no
# registry but loopback is reachable here. The test builds that same file with both FROM lines
# replaced through their build arguments:
#   BUILDER: Debian packages of this machine (dash, coreutils, gcc, libc6-dev and what they
#            depend on) with this machine's Rust toolchain and crate cache, built offline
#            (--network none, CARGO_NET_OFFLINE);
#   RUNTIME: what distroless cc holds that tagwarden uses (glibc, libgcc, CA certificates, a
#            nonroot user, /tmp) and no shell, pushed to a loopback registry and named by digest.
# Proven: the Containerfile's stages, build arguments, cache mount, labels, user and entry point
# work with podman; the build needs nothing but the context and the base; the image runs as
# 65532 with no shell, scans a mounted tree and exits 1 on a compromise; --version names the
# commit. Not proven: that the pinned upstream bases still exist and behave like these; and the
# image here is a `dev` build (CARGO_PROFILE=dev), since a cold optimised build would cost CI
# several minutes more.
test_image() {
  command -v podman >/dev/null || fail "podman is not installed"
  local store=$work/containers
  # Storage of its own; runc with cgroupfs, since crun refuses this kind of machine's hybrid
  # cgroups, and rlimits lowered for `run`, since the machine forbids raising them.
  pm() { podman --root "$store/root" --runroot "$store/run" --runtime runc --cgroup-manager cgroupfs "$@"; }
  local limits=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

  # A loopback registry for the runtime base.
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/registry"
  printf 'version: 0.1\nstorage:\n  filesystem: {rootdirectory: %s}\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work/registry/data" "$port" >"$work/registry/config.yml"
  docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
  # The test runs in a subshell of its own: the script's cleanup never sees this process.
  local registry_pid=$!
  # Expanded now: the function's locals are gone when the subshell exits.
  trap "kill $registry_pid 2>/dev/null" EXIT
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

  # RUNTIME: the libraries tagwarden links, CA certificates, passwd with nonroot; no shell.
  local rt=$work/runtime
  mkdir -p "$rt/etc/ssl/certs" "$rt/tmp" && chmod 1777 "$rt/tmp"
  ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do cp -L --parents "$lib" "$rt/"; done
  cp -L /etc/ssl/certs/ca-certificates.crt "$rt/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$rt/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$rt/etc/group"
  tar -C "$rt" -c . | pm import --change 'USER 65532:65532' - localhost/test/runtime:1 >/dev/null
  pm push --tls-verify=false --digestfile "$work/runtime.digest" localhost/test/runtime:1 \
    "docker://127.0.0.1:$port/test/runtime:1"
  local runtime="127.0.0.1:$port/test/runtime@$(cat "$work/runtime.digest")"

  # BUILDER: gcc, a shell and find from this machine's packages, its Rust toolchain, its crate cache.
  local b=$work/builder sysroot
  python3 "$repo/scripts/dist/host-rootfs.py" "$b" dash coreutils findutils gcc libc6-dev
  ln -sf gcc "$b/usr/bin/cc"
  sysroot=$(rustc --print sysroot)
  mkdir -p "$b/usr/local/rust/lib" "$b/usr/local/cargo/registry"
  cp -a "$sysroot/bin" "$b/usr/local/rust/"
  (cd "$sysroot/lib" && cp -a --parents ./*.so* rustlib/x86_64-unknown-linux-gnu "$b/usr/local/rust/lib/")
  cp -a "${CARGO_HOME:-$HOME/.cargo}/registry/index" "${CARGO_HOME:-$HOME/.cargo}/registry/cache" \
    "$b/usr/local/cargo/registry/"
  tar -C "$b" -c . | pm import \
    --change 'ENV PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' --change 'ENV CARGO_NET_OFFLINE=true' \
    - localhost/test/builder:1 >/dev/null

  local commit; commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
  pm build --network none --tls-verify=false -f "$repo/Containerfile" -t localhost/test/tagwarden:dev \
    --build-arg BUILDER=localhost/test/builder:1 --build-arg RUNTIME="$runtime" \
    --build-arg CARGO_PROFILE=dev --build-arg TAGWARDEN_COMMIT="$commit" "$repo"

  # As a user runs it: a mounted tree, read-only, no network.
  kics_tree "$work/image-tree"
  local status=0
  pm run --rm "${limits[@]}" --network none -v "$work/image-tree:/src:ro,Z" localhost/test/tagwarden:dev \
    scan --format json /src >"$work/image-scan.json" || status=$?
  [ "$status" = 1 ] || fail "scan in the image: exit $status, want 1"
  grep -q '"rule":"affected-tag"' "$work/image-scan.json" || fail "no affected-tag finding: $(head -c 500 "$work/image-scan.json")"
  pm run --rm "${limits[@]}" --network none localhost/test/tagwarden:dev --version | grep -qx "tagwarden $version (commit $commit)" \
    || fail "--version does not name the commit"
  [ "$(pm image inspect --format '{{.Config.User}}' localhost/test/tagwarden:dev)" = 65532:65532 ] || fail "not the nonroot user"
  local labels; labels=$(pm image inspect --format '{{json .Labels}}' localhost/test/tagwarden:dev)
  for l in title description source licenses version revision; do
    grep -q "\"org.opencontainers.image.$l\"" <<<"$labels" || fail "label org.opencontainers.image.$l missing"
  done
  grep -q "\"org.opencontainers.image.revision\":\"$commit\"" <<<"$labels" || fail "revision label is not the commit"
  grep -q "\"org.opencontainers.image.version\":\"$version\"" <<<"$labels" || fail "version label is not $version"
  if pm run --rm "${limits[@]}" --network none --entrypoint /bin/sh localhost/test/tagwarden:dev -c true 2>/dev/null; then
    fail "the image has a shell"
  fi
}

suite_image() {
  check container-image test_image
}

# ---- cargo-deny -----------------------------------------------------------------------------

test_deny() {
  cargo deny --locked check licenses bans sources
}

suite_deny() {
  if cargo deny --version >/dev/null 2>&1; then
    check cargo-deny test_deny
  else
    echo "skip cargo-deny: not installed (cargo install --locked cargo-deny; CI runs it in its own job)"
  fi
}

# ---- the SBOM --------------------------------------------------------------------------------

test_sbom() {
  # The documented command (SECURITY.md): the crates compiled into the binary, no test-only ones.
  local sbom=$repo/crates/tagwarden/tagwarden_bin.cdx.json
  cargo cyclonedx --manifest-path "$repo/crates/tagwarden/Cargo.toml" --format json --spec-version 1.5 \
    --describe binaries --no-build-deps -q
  mv "$sbom" "$work/sbom.json"
  python3 - "$work/sbom.json" "$version" <<'PY'
import json, sys
bom = json.load(open(sys.argv[1]))
assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.5", bom.get("specVersion")
top = bom["metadata"]["component"]
assert top["name"] == "tagwarden" and top["version"] == sys.argv[2], top
names = {c["name"] for c in bom["components"]}
assert {"clap", "rustls", "tagwarden-extract"} <= names, sorted(names)
assert not names & {"tempfile", "bcrypt", "tagwarden-testbed"}, "test-only crates in the SBOM"
assert all(c.get("purl", "").startswith("pkg:cargo/") for c in bom["components"] if "registry+" in c["bom-ref"])
PY
}

suite_sbom() {
  if cargo cyclonedx --version >/dev/null 2>&1; then
    check sbom test_sbom
  else
    echo "skip sbom: cargo-cyclonedx not installed (cargo install --locked cargo-cyclonedx@0.5.9)"
  fi
}

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(action pre-commit image deny sbom)
for s in "${suites[@]}"; do "suite_${s//-/_}"; done
echo "dist: $passed passed, $failed failed"
[ "$failed" = 0 ]
