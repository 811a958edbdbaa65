#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the Rust toolchain: installs what the
# tests need (idempotent: apt-get runs only when something is missing), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: python3-jsonschema validates SARIF against the official schema;
# the CNCF Distribution registry (docker-registry), skopeo and umoci build and serve test images;
# openssl makes a throwaway CA for the TLS tests; podman serves the Docker Engine API for the
# engine tests, and with runc builds and runs tagwarden's own image (scripts/test-dist.sh);
# python3-venv holds the interchange validators (below) and pre-commit; postgresql is the
# throwaway cluster of the watch tests (below); chromium, chromium-driver and curl drive the
# watch page in a headless browser.
packages=(python3-jsonschema docker-registry skopeo umoci openssl podman runc python3-venv
  postgresql chromium chromium-driver curl)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "installing: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The reference validators of the interchange exports (stix2-validator, sigma-cli with the Splunk
# and Elasticsearch backends, PyMISP), pinned in a venv; pip runs only when the pins changed.
venv=target/pyvenv
requirements=crates/tagwarden-interchange/tests/requirements.txt
stamp="$venv/.tagwarden-requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing the interchange validators into $venv"
  # Debian's interpreter: the one python3-venv serves, whatever else is on PATH.
  python=/usr/bin/python3
  [ -x "$python" ] || python=python3
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
fi
export TAGWARDEN_PYTHON="$PWD/$venv/bin/python"
export TAGWARDEN_REQUIRE_INTERCHANGE_CHECK=1

# Material kept beside the project (a development checkout, or CI with shared/ next to the clone)
# feeds extra tests: the real-world corpus and the incident notes. Named only through these
# variables, and required once named (a test fails rather than skips); a clone on its own runs
# everything else and the corpus tests say they skipped.
for pair in "TAGWARDEN_CORPUS:../shared/corpus" "TAGWARDEN_INCIDENTS:../shared/incidents"; do
  var=${pair%%:*}
  dir=${pair#*:}
  if [ -z "${!var:-}" ] && [ -d "$dir" ]; then
    export "$var=$(cd "$dir" && pwd)"
  fi
done

# The SARIF schema test must not skip itself here: the validator was installed above.
export TAGWARDEN_REQUIRE_SCHEMA_CHECK=1
# Likewise the registry tests: the real registry was installed above.
export TAGWARDEN_REQUIRE_REGISTRY=1
export TAGWARDEN_REQUIRE_ENGINE=1
export TAGWARDEN_REQUIRE_BROWSER=1

# A throwaway PostgreSQL cluster for the watch tests, on a unix socket in a temporary directory
# (no TCP), owned by an unprivileged user (postgres refuses to run as root), removed at exit.
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
pgdir="$(mktemp -d /tmp/tagwarden-pg.XXXXXX)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$pgdir"
  as_pg=(runuser -u nobody --)
fi
stop_postgres() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap stop_postgres EXIT
"${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U tagwarden --auth=trust -E UTF8 >"$pgdir/initdb.log" 2>&1
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-c listen_addresses='' -k $pgdir -p 5432 -c fsync=off -c max_connections=50" start >/dev/null
export TAGWARDEN_TEST_POSTGRES="postgresql://tagwarden@/postgres?host=$pgdir&port=5432"
export TAGWARDEN_REQUIRE_POSTGRES=1

cargo test --workspace --locked

# What users run outside cargo: the GitHub Action's scripts, the pre-commit hooks, the container
# image, and cargo-deny's offline checks when cargo-deny is installed (CI's supply-chain job
# installs it; building it here would cost about ten minutes).
scripts/test-dist.sh
