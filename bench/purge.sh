#!/usr/bin/env bash
# `purge` against a loopback registry (CNCF Distribution, deletes enabled): one repository with
# TAGS clean tags and BAD malicious images (each under its own tag, plus a `.sig` tag), what a
# responder would otherwise script with skopeo. Prints a Markdown table; ratios are taken in one
# run.
#
#   bench/purge.sh                       # TAGS=1000 BAD=50
#   TAGS=300 BAD=20 bench/purge.sh
#   TAGWARDEN=path/to/tagwarden bench/purge.sh
#   KEEP_WORK=1 bench/purge.sh
#
# Compared:
#   - finding: `tagwarden purge` (dry run: lists the tags, resolves them concurrently, fetches and
#     hashes each malicious digest, looks for signatures and referrers) against `skopeo list-tags`
#     then `skopeo inspect --raw` of every tag (the loop a responder writes to find which tags
#     point at a bad digest), timed on a sample of SKOPEO_SAMPLE tags and scaled;
#   - deleting: `tagwarden purge --yes` (plan, journal, delete each verified digest, plan again)
#     against `skopeo delete` of every malicious digest, known in advance (no search, no
#     verification, no journal): the floor a script reaches.
# Needs docker-registry, skopeo, curl and python3. Nothing leaves 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TAGS=${TAGS:-1000}
BAD=${BAD:-50}
SKOPEO_SAMPLE=${SKOPEO_SAMPLE:-100}
BIN=${TAGWARDEN:-$ROOT/target/release/tagwarden}
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p tagwarden >&2)
fi
for tool in docker-registry skopeo curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 2; }
done

WORK=$(mktemp -d)
REGISTRY_PID=
cleanup() {
  [ -n "$REGISTRY_PID" ] && { kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; }
  if [ -n "${KEEP_WORK:-}" ]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1:$PORT
cat >"$WORK/config.yml" <<CFG
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $WORK/data}
  delete: {enabled: true}
http:
  addr: $HOST
CFG
docker-registry serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
  curl -sf "http://$HOST/v2/" >/dev/null && break
  sleep 0.05
done

# Credentials of this machine must not play a part: an empty home for every client.
mkdir -p "$WORK/home/.docker" "$WORK/home/run"
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker XDG_RUNTIME_DIR=$WORK/home/run
unset REGISTRY_AUTH_FILE DOCKER_AUTH_CONFIG || true

now() { python3 -c 'import time; print(time.monotonic())'; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.1f}')"; }

# Seeds bench/tool: the clean image under TAGS tags, BAD malicious images (distinct configs)
# each under bad-N and its `.sig` tag; prints the malicious digests. `seed` again restores them.
cat >"$WORK/seed.py" <<'PY'
import hashlib, http.client, json, sys, concurrent.futures as cf

host, tags, bad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
repo = "bench/tool"
MT = "application/vnd.oci.image.manifest.v1+json"

def req(method, path, body=b"", headers=None):
    c = http.client.HTTPConnection(host, timeout=60)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data, loc = r.read(), r.getheader("Location")
    c.close()
    return r.status, loc, data

def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def put_blob(blob):
    st, loc, body = req("POST", f"/v2/{repo}/blobs/uploads/")
    assert st == 202, (st, body)
    sep = "&" if "?" in loc else "?"
    path = loc.split(host, 1)[-1] if loc.startswith("http") else loc
    st, _, body = req("PUT", f"{path}{sep}digest={digest(blob)}", blob,
                      {"Content-Type": "application/octet-stream"})
    assert st == 201, (st, body)

def manifest(seed):
    layer = b"bench layer\n" * 4
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"seed": seed}},
                         "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}).encode()
    put_blob(layer); put_blob(config)
    return json.dumps({
        "schemaVersion": 2, "mediaType": MT,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(layer), "size": len(layer)}],
    }).encode()

def put(tag, m):
    st, _, body = req("PUT", f"/v2/{repo}/manifests/{tag}", m, {"Content-Type": MT})
    assert st == 201, (tag, st, body)

clean = manifest("clean")
bads = [manifest(f"bad-{i}") for i in range(bad)]
sig = manifest("signature")
jobs = [(f"clean-{i:05d}", clean) for i in range(tags)]
for i, m in enumerate(bads):
    jobs.append((f"bad-{i}", m))
    jobs.append((digest(m).replace(":", "-") + ".sig", sig))
with cf.ThreadPoolExecutor(8) as ex:
    list(ex.map(lambda j: put(*j), jobs))
for m in bads:
    print(digest(m))
PY

python3 "$WORK/seed.py" "$HOST" "$TAGS" "$BAD" >"$WORK/bad.txt"
{
  cat <<ADV
schema_version = 1
id = "bench-purge"
title = "bench"
summary = "bench"
published = "2026-01-01"
updated = "2026-01-01"

[[sources]]
id = "s"
url = "https://example.invalid/bench"

[[malicious_images]]
repositories = ["docker.io/bench/tool"]
tags = ["bad"]
sources = ["s"]
confidence = "P"
digests = [
ADV
  sed 's/.*/  { digest = "&", kind = "manifest", platform = "linux\/amd64" },/' "$WORK/bad.txt"
  cat <<ADV
]

[examples]
images_must_match = [{ ref = "bench/tool@$(head -1 "$WORK/bad.txt")", verdict = "malicious_digest" }]
images_must_not_match = ["bench/tool:clean"]
ADV
} >"$WORK/adv.toml"

purge=("$BIN" purge --no-builtin-advisories --advisories "$WORK/adv.toml" --registry "$HOST"
  --insecure-registry "$HOST" --journal "$WORK/journal.jsonl" --format json)

# Finding: tagwarden's dry run against skopeo list-tags + inspect of every tag (sampled).
t0=$(now); "${purge[@]}" >"$WORK/plan.json" || true; t1=$(now)
tw_find=$(elapsed "$t0" "$t1")
planned=$(python3 -c "import json; print(len(json.load(open('$WORK/plan.json'))['steps']))")
t0=$(now)
skopeo list-tags --tls-verify=false "docker://$HOST/bench/tool" >"$WORK/tags.json"
python3 -c "import json; [print(t) for t in json.load(open('$WORK/tags.json'))['Tags'][:$SKOPEO_SAMPLE]]" >"$WORK/sample.txt"
while read -r tag; do
  skopeo inspect --raw --tls-verify=false "docker://$HOST/bench/tool:$tag" >/dev/null
done <"$WORK/sample.txt"
t1=$(now)
all=$((TAGS + 2 * BAD))
sample=$(wc -l <"$WORK/sample.txt")
skopeo_find=$(python3 -c "print(f'{($t1 - $t0) * $all / $sample:.3f}')")

# Deleting: tagwarden purge --yes against skopeo delete of the known digests.
t0=$(now); "${purge[@]}" --yes >"$WORK/done.json" || true; t1=$(now)
tw_delete=$(elapsed "$t0" "$t1")
done_steps=$(python3 -c "import json; d=json.load(open('$WORK/done.json')); print(sum(s['state']['state']=='done' for s in d['steps']), len(d['left']))")
python3 "$WORK/seed.py" "$HOST" 0 "$BAD" >/dev/null
t0=$(now)
while read -r d; do
  skopeo delete --tls-verify=false "docker://$HOST/bench/tool@$d"
done <"$WORK/bad.txt"
t1=$(now)
skopeo_delete=$(elapsed "$t0" "$t1")

echo "| task ($TAGS clean tags, $BAD malicious images with a \`.sig\` each) | tagwarden | skopeo loop | ratio |"
echo "|---|---|---|---|"
echo "| find what to purge ($planned steps planned) | ${tw_find} s | ${skopeo_find} s (list-tags + inspect per tag, $sample sampled) | $(ratio "$skopeo_find" "$tw_find")× |"
echo "| delete (tagwarden: done/left = ${done_steps/ /\/}, with the plan, journal and second plan) | ${tw_delete} s | ${skopeo_delete} s (delete per known digest) | $(ratio "$skopeo_delete" "$tw_delete")× |"
