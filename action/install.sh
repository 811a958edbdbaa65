#!/usr/bin/env bash
# Installs the tagwarden this action was checked out at: the release binary for the runner when
# the release has one (its SHA-256 checked against the release's SHA256SUMS, and its build
# provenance against GitHub's attestation when the gh CLI can), else `cargo install --locked` of
# the action's own source. Puts it on GITHUB_PATH.
#
# Environment: GITHUB_ACTION_PATH, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH (set by the
# runner); TAGWARDEN_RELEASE_BASE replaces the GitHub releases URL (tests serve a release on
# loopback; then provenance is not asked).
set -euo pipefail

action="${GITHUB_ACTION_PATH:?}"
root="${RUNNER_TEMP:?}/tagwarden"
repo=tagwarden/tagwarden
# The version the action's own Cargo.toml declares: the action and the binary stay in step.
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' "$action/Cargo.toml")
[ -n "$version" ] || { echo "::error::cannot read the version from $action/Cargo.toml"; exit 2; }

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  *) target="" ;;
esac

sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

from_release() {
  local base="${TAGWARDEN_RELEASE_BASE:-https://github.com/$repo/releases/download}"
  local proto=(--proto '=https' --tlsv1.2)
  [ -n "${TAGWARDEN_RELEASE_BASE:-}" ] && proto=()
  local name="tagwarden-$version-$target.tar.gz" dl="$root/download"
  rm -rf "$dl" && mkdir -p "$dl"
  # A release without a binary for this runner is not an error: we build instead.
  if ! curl -fsSL ${proto[@]+"${proto[@]}"} --retry 3 -o "$dl/$name" "$base/v$version/$name" \
     || ! curl -fsSL ${proto[@]+"${proto[@]}"} --retry 3 -o "$dl/SHA256SUMS" "$base/v$version/SHA256SUMS"; then
    echo "no release binary of tagwarden $version for $target"
    return 1
  fi
  local want got
  want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$dl/SHA256SUMS")
  got=$(sha256 "$dl/$name")
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    echo "::error::$name does not match its SHA256SUMS entry (${want:-missing}, got $got): not installed"
    exit 2
  fi
  if [ -z "${TAGWARDEN_RELEASE_BASE:-}" ] && command -v gh >/dev/null && [ -n "${GH_TOKEN:-}" ]; then
    gh attestation verify "$dl/$name" --repo "$repo" >/dev/null \
      || { echo "::error::$name has no valid build provenance from $repo: not installed"; exit 2; }
  fi
  mkdir -p "$root/bin"
  tar -xzf "$dl/$name" -C "$dl"
  install -m 0755 "$dl/tagwarden-$version-$target/tagwarden" "$root/bin/tagwarden"
}

from_source() {
  echo "building tagwarden $version from the action's source (cargo install --locked)"
  command -v cargo >/dev/null || { echo "::error::no release binary for this runner and no cargo to build one"; exit 2; }
  cargo install --locked --root "$root" --path "$action/crates/tagwarden"
}

# A second use of the action in the same job finds this version installed already.
if "$root/bin/tagwarden" --version 2>/dev/null | grep -q "^tagwarden $version "; then
  echo "tagwarden $version is installed already"
elif [ -z "$target" ] || ! from_release; then
  from_source
fi
"$root/bin/tagwarden" --version
echo "$root/bin" >> "${GITHUB_PATH:?}"
