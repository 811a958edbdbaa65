#!/usr/bin/env bash
# `tagwarden watch` on N (10,000) tags of a loopback registry, pinned to one core: one full cycle
# (`--once`: list the tags, HEAD each, record), its wall time, CPU per 1,000 polls and peak
# resident memory, against the HEAD floor (curl --parallel over the same N HEADs, same core),
# with the history in SQLite and in PostgreSQL (a throwaway cluster on a unix socket). The first
# cycle writes N new observations; the second, the steady state, finds every tag unchanged.
# Prints a Markdown table.
#
#   bench/watch.sh
#   N=2000 bench/watch.sh
#   TAGWARDEN=path/to/tagwarden bench/watch.sh
#   KEEP_WORK=1 bench/watch.sh       # keep the registry data, databases and logs
#
# Needs docker-registry, skopeo, umoci, curl, postgresql, python3 and GNU time. Nothing leaves
# the machine: the registry and the database listen on 127.0.0.1 and a unix socket.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-10000}
PARALLEL=16
BIN=${TAGWARDEN:-$ROOT/target/release/tagwarden}
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p tagwarden >&2)
fi
for tool in docker-registry skopeo umoci curl taskset python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 2; }
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "bench: postgresql is not installed" >&2; exit 2; }

WORK=$(mktemp -d /tmp/tagwarden-bench.XXXXXX)
REGISTRY_PID=
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
  chmod 755 "$WORK"
  mkdir "$WORK/pg" && chown nobody "$WORK/pg"
  AS_PG=(runuser -u nobody --)
else
  mkdir "$WORK/pg"
fi
cleanup() {
  if [ -n "$REGISTRY_PID" ]; then kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; fi
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1:$PORT
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $WORK/data}
http:
  addr: $HOST
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
  curl -sf "http://$HOST/v2/" >/dev/null && break
  sleep 0.05
done

"${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/pg/data" -U tagwarden --auth=trust -E UTF8 >"$WORK/initdb.log" 2>&1
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w \
  -o "-c listen_addresses='' -k $WORK/pg -p 5432" start >/dev/null
PG="postgresql://tagwarden@/postgres?host=$WORK/pg&port=5432"
psql "$PG" -qc "CREATE DATABASE bench"

# Credentials of this machine must not play a part.
mkdir -p "$WORK/home/.docker"
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
unset REGISTRY_AUTH_FILE DOCKER_AUTH_CONFIG XDG_RUNTIME_DIR || true

# One image, then its manifest PUT under N tags: tags are cheap, the registry stores one copy.
echo "bench: $N tags on $HOST" >&2
umoci init --layout "$WORK/oci" >/dev/null
umoci new --image "$WORK/oci:base" >/dev/null
echo bench >"$WORK/file" && umoci insert --image "$WORK/oci:base" "$WORK/file" /file >/dev/null
skopeo --insecure-policy copy --quiet --dest-tls-verify=false --dest-no-creds \
  "oci:$WORK/oci:base" "docker://$HOST/bench:base"
MT=application/vnd.oci.image.manifest.v1+json
curl -sf -H "Accept: $MT" "http://$HOST/v2/bench/manifests/base" >"$WORK/manifest.json"
# curl config files: one transfer per entry, `next` between entries (not after the last).
for i in $(seq 0 $((N - 1))); do
  [ "$i" -gt 0 ] && echo next
  printf 'url = "http://%s/v2/bench/manifests/1.0.%d"\nrequest = "PUT"\nheader = "Content-Type: %s"\ndata-binary = "@%s"\noutput = "/dev/null"\n' \
    "$HOST" "$i" "$MT" "$WORK/manifest.json"
done >"$WORK/puts.cfg"
curl -sf --no-progress-meter --parallel --parallel-max "$PARALLEL" -K "$WORK/puts.cfg"

ACCEPT="application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, $MT, application/vnd.docker.distribution.manifest.v2+json"
for i in $(seq 0 $((N - 1))); do
  [ "$i" -gt 0 ] && echo next
  printf 'url = "http://%s/v2/bench/manifests/1.0.%d"\nhead\nheader = "Accept: %s"\noutput = "/dev/null"\n' \
    "$HOST" "$i" "$ACCEPT"
done >"$WORK/heads.cfg"

printf 'interval = "1h"\nimages = ["%s/bench:1.*"]\nlisten = "none"\n[registries."%s"]\nrate = 1000000\nconcurrency = %d\n' \
  "$HOST" "$HOST" "$PARALLEL" >"$WORK/watch.toml"

# Runs a command on core 0 under GNU time: "wall user sys maxrss_kb" in $WORK/time.
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" taskset -c 0 "$@" >"$WORK/out" 2>"$WORK/err" || {
    cat "$WORK/err" >&2
    exit 1
  }
}
row() {
  python3 - "$1" "${2:-}" "$N" "$WORK/time" <<'PY'
import sys
label, floor, n, path = sys.argv[1:]
wall, user, sys_, rss = open(path).read().split()[:4]
wall, cpu, n = float(wall), float(user) + float(sys_), int(n)
ratio = f"{wall / float(floor):.2f}x" if floor else "1.00x"
print(f"| {label} | {wall:.2f} | {ratio} | {cpu:.2f} | {cpu * 1000 * 1000 / n:.0f} | {int(rss) / 1024:.0f} |")
PY
}
watch_once() {
  timed "$BIN" watch --config "$WORK/watch.toml" --db "$1" --once --insecure-registry "$HOST" --concurrency "$PARALLEL"
}

echo "| $N tags, one core | wall s | vs HEAD floor | CPU s | CPU ms per 1,000 polls | peak RSS MB |"
echo "|---|---|---|---|---|---|"
timed curl -sf --no-progress-meter --parallel --parallel-max "$PARALLEL" -K "$WORK/heads.cfg"
FLOOR=$(cut -d' ' -f1 "$WORK/time")
row "curl --parallel, $N HEADs (the floor)"
watch_once "sqlite:$WORK/watch.db"
row "watch --once, SQLite, first cycle ($N new observations)" "$FLOOR"
watch_once "sqlite:$WORK/watch.db"
row "watch --once, SQLite, steady cycle (all unchanged)" "$FLOOR"
PGDB="postgresql://tagwarden@/bench?host=$WORK/pg&port=5432"
watch_once "$PGDB"
row "watch --once, PostgreSQL, first cycle" "$FLOOR"
watch_once "$PGDB"
row "watch --once, PostgreSQL, steady cycle" "$FLOOR"
