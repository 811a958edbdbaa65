#!/usr/bin/env bash
# Resolution throughput against a loopback registry (CNCF Distribution), `pin` end to end on a
# copy of the shared corpus, and `hunt --registry` over the tags behind a proxy that adds
# DELAY_MS (default 20) to every request, a registry across a WAN. Prints Markdown tables.
#
#   bench/resolve.sh                 # N=1000 references, skopeo on a sample of 100
#   N=300 SKOPEO_SAMPLE=50 bench/resolve.sh
#   TAGWARDEN=path/to/tagwarden bench/resolve.sh
#   KEEP_WORK=1 bench/resolve.sh     # keep the registry data, corpus copy and logs
#   DELAY_MS=50 bench/resolve.sh     # a slower link for the hunt --registry part
#
# Needs docker-registry, skopeo, curl and python3 (see shared/design/TESTBED.md). Nothing leaves
# 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-1000}
SKOPEO_SAMPLE=${SKOPEO_SAMPLE:-100}
CONCURRENCY=8
CORPUS=${CORPUS:-${TAGWARDEN_CORPUS:-$ROOT/../shared/corpus}}
BIN=${TAGWARDEN:-$ROOT/target/release/tagwarden}
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p tagwarden >&2)
fi
for tool in docker-registry skopeo curl python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 2; }
done

WORK=$(mktemp -d)
REGISTRY_PID=
PROXY_PID=
cleanup() {
  for pid in $PROXY_PID $REGISTRY_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1:$PORT
cat >"$WORK/config.yml" <<EOF
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $WORK/data}
  delete: {enabled: true}
http:
  addr: $HOST
EOF
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
rate() { python3 -c "print(f'{$1 / $2:.0f}')"; }

# The registry helper: pushes one small image (blobs and manifest over the HTTP API), tags it,
# and mounts it into other repositories, 8 requests at a time.
cat >"$WORK/reg.py" <<'PY'
import hashlib, http.client, json, sys, concurrent.futures as cf

host = sys.argv[1]
MT = "application/vnd.oci.image.manifest.v1+json"

def req(method, path, body=b"", headers=None):
    c = http.client.HTTPConnection(host, timeout=60)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    loc = r.getheader("Location")
    c.close()
    return r.status, loc, data

def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def put_blob(repo, blob):
    d = digest(blob)
    st, loc, body = req("POST", f"/v2/{repo}/blobs/uploads/")
    assert st == 202, (st, body)
    sep = "&" if "?" in loc else "?"
    path = loc.split(host, 1)[-1] if loc.startswith("http") else loc
    st, _, body = req("PUT", f"{path}{sep}digest={d}", blob,
                      {"Content-Type": "application/octet-stream"})
    assert st == 201, (st, body)
    return d

def image():
    layer = b"bench layer\n" * 4
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}).encode()
    return layer, config

def manifest(layer, config):
    return json.dumps({
        "schemaVersion": 2, "mediaType": MT,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest(layer), "size": len(layer)}],
    }).encode()

def put_manifest(repo, tag, m):
    st, _, body = req("PUT", f"/v2/{repo}/manifests/{tag}", m, {"Content-Type": MT})
    assert st == 201, (repo, tag, st, body)

def mount(repo, d):
    st, _, body = req("POST", f"/v2/{repo}/blobs/uploads/?mount={d}&from=bench/base")
    assert st == 201, (repo, st, body)

cmd = sys.argv[2]
layer, config = image()
m = manifest(layer, config)
if cmd == "seed":
    put_blob("bench/base", layer)
    put_blob("bench/base", config)
    put_manifest("bench/base", "1", m)
    print(digest(m))
elif cmd == "tags":
    repo, n = sys.argv[3], int(sys.argv[4])
    mount(repo, digest(layer)); mount(repo, digest(config))
    with cf.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: put_manifest(repo, f"t{i:04d}", m), range(n)))
elif cmd == "refs":
    # stdin: "repo tag" lines; every repository gets the blobs by cross-repository mount.
    pairs = sorted({tuple(l.split()) for l in sys.stdin if l.strip()})
    repos = sorted({r for r, _ in pairs})
    def setup(repo):
        mount(repo, digest(layer)); mount(repo, digest(config))
    with cf.ThreadPoolExecutor(8) as ex:
        list(ex.map(setup, repos))
        list(ex.map(lambda p: put_manifest(p[0], p[1], m), pairs))
    print(len(repos), len(pairs))
PY

DIGEST=$(python3 "$WORK/reg.py" "$HOST" seed)
t0=$(now); python3 "$WORK/reg.py" "$HOST" tags bench/app "$N"; t1=$(now)
echo "bench: registry $HOST, image $DIGEST, $N tags in $(elapsed "$t0" "$t1") s" >&2
REFS=()
for i in $(seq 0 $((N - 1))); do REFS+=("$HOST/bench/app:t$(printf %04d "$i")"); done

# Best of RUNS runs of a command (stdout to $OUT), in seconds.
RUNS=${RUNS:-3}
best_of() {
  local best= t0 t1 d
  for _ in $(seq "$RUNS"); do
    t0=$(now); "$@" >"$OUT"; t1=$(now)
    d=$(elapsed "$t0" "$t1")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $d < $best else 1)"; then best=$d; fi
  done
  echo "$best"
}

# (a) tagwarden resolve, one process, all references.
OUT=$WORK/resolve.json
TW=$(best_of "$BIN" resolve --format json --concurrency "$CONCURRENCY" --insecure-registry "$HOST" "${REFS[@]}")
python3 - "$WORK/resolve.json" "$DIGEST" "$N" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["results"]
assert len(d) == int(sys.argv[3]) and all(r["digest"] == sys.argv[2] and not r["error"] for r in d), "resolve gave wrong answers"
PY

# (b) skopeo inspect --raw, one process per reference: sequentially (a shell loop) and 8 at once.
SAMPLE=("${REFS[@]:0:$SKOPEO_SAMPLE}")
t0=$(now)
for r in "${SAMPLE[@]}"; do skopeo inspect --raw --tls-verify=false "docker://$r" >/dev/null; done
t1=$(now)
SK1=$(elapsed "$t0" "$t1")
t0=$(now)
printf 'docker://%s\n' "${SAMPLE[@]}" | xargs -P "$CONCURRENCY" -n 1 skopeo inspect --raw --tls-verify=false >/dev/null
t1=$(now)
SK8=$(elapsed "$t0" "$t1")

# (c) the floor: the same HEAD requests, 8 at a time, from minimal clients reusing connections:
# one curl process, and 8 Python threads with one keep-alive connection each.
ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
for i in $(seq 0 $((N - 1))); do
  printf 'url = "http://%s/v2/bench/app/manifests/t%04d"\n' "$HOST" "$i"
done >"$WORK/curl.cfg"
OUT=$WORK/curl.out
CURL=$(best_of curl -s --no-progress-meter --head --parallel --parallel-max "$CONCURRENCY" -H "Accept: $ACCEPT" -K "$WORK/curl.cfg")
OK200=$(grep -c '^HTTP/1.1 200' "$WORK/curl.out" || true)
[ "$OK200" = "$N" ] || echo "bench: curl got $OK200 answers 200 out of $N" >&2
cat >"$WORK/floor.py" <<'PY'
import http.client, queue, sys, threading
host, n, conc, accept = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
q = queue.Queue()
for i in range(n):
    q.put(f"/v2/bench/app/manifests/t{i:04d}")
ok = []
def worker():
    c = http.client.HTTPConnection(host, timeout=30)
    while True:
        try:
            p = q.get_nowait()
        except queue.Empty:
            return
        c.request("HEAD", p, headers={"Accept": accept})
        r = c.getresponse()
        r.read()
        if r.status == 200 and r.getheader("Docker-Content-Digest"):
            ok.append(1)
ts = [threading.Thread(target=worker) for _ in range(conc)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(len(ok))
PY
OUT=$WORK/py.out
PY_FLOOR=$(best_of python3 "$WORK/floor.py" "$HOST" "$N" "$CONCURRENCY" "$ACCEPT")
[ "$(cat "$WORK/py.out")" = "$N" ] || echo "bench: python floor got $(cat "$WORK/py.out") answers out of $N" >&2

# (d) pin a copy of the corpus whose image references all name the loopback registry.
COPY=$WORK/corpus
cp -r "$CORPUS" "$COPY"
"$BIN" scan --format json --fail-on critical --no-builtin-advisories -o "$WORK/scan.json" "$COPY" || true
python3 - "$WORK/scan.json" "$COPY" "$HOST" <<'PY'
# Rewrites each reference's registry to the loopback host in place, keeping the repository path,
# tag and digest: `nginx:1.27` -> `HOST/library/nginx:1.27`. A reference written with variables
# (`$BASE`, `${REGISTRY:-docker.io}/app:${TAG}`) is replaced by the literal it resolves to.
import json, os, re, sys
scan, root, host = sys.argv[1], sys.argv[2], sys.argv[3]
refs = json.load(open(scan))["references"]
by_file = {}
for r in refs:
    if not r.get("image") or not r.get("span"):
        continue
    by_file.setdefault(r["path"], []).append(r)
rewritten = 0
for path, rs in by_file.items():
    full = os.path.join(root, path)
    data = open(full, "rb").read()
    edits, taken = [], []
    for r in sorted(rs, key=lambda r: r["span"]["start"]):
        s, e = r["span"]["start"], r["span"]["end"]
        if any(s < te and ts < e for ts, te in taken) or (s, e) in taken:
            continue
        image = r["image"]
        name_digest = image.split("@", 1)
        name, dig = name_digest[0], ("@" + name_digest[1] if len(name_digest) > 1 else "")
        slash = name.find("/")
        path_tag = name[slash + 1:]
        text = data[s:e].decode("utf-8", "replace")
        if "$" in text or "{" in text:
            new = f"{host}/{path_tag}{dig}"
        else:
            # Keep the written tag and digest; swap only the name.
            t_name = text.split("@", 1)[0]
            rest = text[len(t_name):]
            colon = t_name.rfind(":")
            if colon > t_name.rfind("/"):
                rest = t_name[colon:] + rest
                t_name = t_name[:colon]
            repo_path = path_tag.split("@")[0]
            c = repo_path.rfind(":")
            if c > repo_path.rfind("/"):
                repo_path = repo_path[:c]
            new = f"{host}/{repo_path}{rest}"
        edits.append((s, e, new.encode()))
        taken.append((s, e))
    for s, e, new in sorted(edits, reverse=True):
        data = data[:s] + new + data[e:]
        rewritten += 1
    if any(r["source"] == "helm-image" for r in rs):
        # Helm maps may name the registry in a key of its own; the repository now carries it.
        data = re.sub(rb'(?m)^(\s*(?:registry|imageRegistry):)[ \t]*["\']?[A-Za-z0-9.:-]+["\']?[ \t]*$',
                      rb'\1 ""', data)
    open(full, "wb").write(data)
print(f"bench: rewrote {rewritten} references in {len(by_file)} files", file=sys.stderr)
PY
"$BIN" scan --format json --fail-on critical --no-builtin-advisories -o "$WORK/scan2.json" "$COPY" || true
python3 - "$WORK/scan2.json" "$HOST" >"$WORK/pairs.txt" <<'PY'
import json, sys
host = sys.argv[2]
for r in json.load(open(sys.argv[1]))["references"]:
    img = r.get("image") or ""
    if not img.startswith(host + "/") or "@" in img:
        continue
    name = img[len(host) + 1:]
    repo, _, tag = name.rpartition(":")
    print(repo, tag)
PY
read -r REPOS PAIRS < <(python3 "$WORK/reg.py" "$HOST" refs <"$WORK/pairs.txt")
# A reference the rewrite missed must not reach the internet: every other registry the copy
# names is routed to a closed loopback port (those references end as registry problems).
FENCE=()
while read -r other; do
  [ -n "$other" ] || continue
  FENCE+=(--registry-mirror "$other=127.0.0.1:9")
done < <(python3 - "$WORK/scan2.json" "$HOST" <<'PY'
import json, sys
host = sys.argv[2]
names = set()
for r in json.load(open(sys.argv[1]))["references"]:
    img = r.get("image") or ""
    # Scan output names images in full (`docker.io/library/ubuntu:24.04`): the registry is first.
    registry = img.split("/", 1)[0]
    if img and registry != host:
        names.add(registry)
print("\n".join(sorted(names)))
PY
)
[ ${#FENCE[@]} -eq 0 ] || FENCE+=(--insecure-registry 127.0.0.1:9)
echo "bench: corpus copy: $PAIRS repository:tag pairs in $REPOS repositories pushed" >&2

t0=$(now)
set +e
"$BIN" pin --insecure-registry "$HOST" "${FENCE[@]}" --concurrency "$CONCURRENCY" "$COPY" 2>"$WORK/pin1.err"
PIN_STATUS=$?
set -e
t1=$(now)
PIN=$(elapsed "$t0" "$t1")
PIN_SUMMARY=$(tail -n 1 "$WORK/pin1.err")
(cd "$COPY" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$WORK/sums1"
t0=$(now)
"$BIN" pin --insecure-registry "$HOST" "${FENCE[@]}" "$COPY" 2>"$WORK/pin2.err" || true
t1=$(now)
PIN2=$(elapsed "$t0" "$t1")
PIN2_SUMMARY=$(tail -n 1 "$WORK/pin2.err")
(cd "$COPY" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$WORK/sums2"
if cmp -s "$WORK/sums1" "$WORK/sums2"; then SECOND="no file changed"; else SECOND="FILES CHANGED"; fi
"$BIN" pin --check "$COPY" >"$WORK/check.out" 2>&1 || true
CHECK=$(tail -n 1 "$WORK/check.out")
NOT_PINNED=$(grep -c '^  ' "$WORK/pin1.err" || true)

# (e) hunt --registry over the N tags of bench/app, behind a proxy that waits DELAY_MS before
# forwarding each request (a registry across a WAN), against what a responder scripts today:
# skopeo list-tags, then skopeo inspect of every tag, 8 at a time (on a sample, scaled to N).
DELAY_MS=${DELAY_MS:-20}
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PROXY=127.0.0.1:$PPORT
cat >"$WORK/delay.py" <<'PY'
import http.client, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
upstream, port, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def forward(self):
        time.sleep(delay)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection(upstream, timeout=60)
        # Every header as sent, repeated ones too: skopeo sends one Accept per media type.
        c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() != "connection":
                c.putheader(k, v)
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        length = r.getheader("Content-Length") if self.command == "HEAD" else len(data)
        self.send_header("Content-Length", str(length or 0))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
    do_GET = do_HEAD = forward
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY
python3 "$WORK/delay.py" "$HOST" "$PPORT" "$DELAY_MS" &
PROXY_PID=$!
for _ in $(seq 100); do
  curl -sf "http://$PROXY/v2/" >/dev/null && break
  sleep 0.05
done
cat >"$WORK/adv.toml" <<EOF
schema_version = 1
id = "bench-2026-01"
title = "bench/app overwritten"
summary = "benchmark"
published = "2026-01-02"
updated = "2026-01-02"

[[sources]]
id = "s"
url = "https://example.invalid/advisory"

[[malicious_images]]
repositories = ["$PROXY/bench/app"]
tags = ["t0000"]
sources = ["s"]
confidence = "P"
digests = [{ digest = "sha256:$(printf 'e%.0s' $(seq 64))", kind = "index" }]

[examples]
images_must_match = [{ ref = "$PROXY/bench/app:t0000", verdict = "affected_tag" }]
images_must_not_match = ["$PROXY/bench/other:t0000"]
EOF
OUT=$WORK/hunt.json
HUNT=$(best_of "$BIN" hunt --no-files --no-engine --no-builtin-advisories --advisories "$WORK/adv.toml" \
  --registry "$PROXY" --insecure-registry "$PROXY" --concurrency "$CONCURRENCY" --format json)
python3 - "$WORK/hunt.json" "$N" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
records = sum(s["records"] for s in d["sources"])
assert records == int(sys.argv[2]) and not d["hits"] and not d["problems"], (records, d["problems"][:3])
PY
t0=$(now)
skopeo list-tags --tls-verify=false "docker://$PROXY/bench/app" \
  | python3 -c "import json,sys; print('\n'.join(json.load(sys.stdin)['Tags'][:$SKOPEO_SAMPLE]))" \
  | xargs -P "$CONCURRENCY" -I{} skopeo inspect --raw --tls-verify=false "docker://$PROXY/bench/app:{}" >/dev/null
t1=$(now)
SKH=$(elapsed "$t0" "$t1")

SKSCALE=$(python3 -c "print(f'{$SK1 * $N / $SKOPEO_SAMPLE:.1f}')")
SK8SCALE=$(python3 -c "print(f'{$SK8 * $N / $SKOPEO_SAMPLE:.1f}')")
cat <<EOF

Loopback registry (CNCF Distribution $(docker-registry --version 2>/dev/null | awk '{print $3}')), $N distinct tags of one image, concurrency $CONCURRENCY, $(nproc) CPUs; best of $RUNS runs except skopeo (one run over a sample, scaled to $N).

| what | references | seconds | references/s | vs tagwarden |
|---|---:|---:|---:|---:|
| \`tagwarden resolve\` (one process) | $N | $TW | $(rate "$N" "$TW") | 1.0× |
| \`skopeo inspect --raw\`, shell loop | $SKOPEO_SAMPLE (×$((N / SKOPEO_SAMPLE)) ≈ $SKSCALE s for $N) | $SK1 | $(rate "$SKOPEO_SAMPLE" "$SK1") | $(python3 -c "print(f'{($SK1 * $N / $SKOPEO_SAMPLE) / $TW:.1f}× slower')") |
| \`skopeo inspect --raw\`, \`xargs -P $CONCURRENCY\` | $SKOPEO_SAMPLE (×$((N / SKOPEO_SAMPLE)) ≈ $SK8SCALE s for $N) | $SK8 | $(rate "$SKOPEO_SAMPLE" "$SK8") | $(python3 -c "print(f'{($SK8 * $N / $SKOPEO_SAMPLE) / $TW:.1f}× slower')") |
| floor: \`curl --parallel --parallel-max $CONCURRENCY --head\` (one process) | $N | $CURL | $(rate "$N" "$CURL") | $(python3 -c "print(f'{$TW / $CURL:.2f}')")× this time |
| floor: Python, $CONCURRENCY threads × keep-alive \`HEAD\` | $N | $PY_FLOOR | $(rate "$N" "$PY_FLOOR") | $(python3 -c "print(f'{$TW / $PY_FLOOR:.2f}')")× this time |

\`hunt --registry\` over the $N tags of one repository behind a proxy adding $DELAY_MS ms to every request:

| what | tags | seconds | tags/s | vs tagwarden |
|---|---:|---:|---:|---:|
| \`tagwarden hunt --registry\` (one process, $CONCURRENCY per registry) | $N | $HUNT | $(rate "$N" "$HUNT") | 1.0× |
| \`skopeo list-tags\`, then \`skopeo inspect --raw\` per tag, \`xargs -P $CONCURRENCY\` | $SKOPEO_SAMPLE (×$((N / SKOPEO_SAMPLE)) ≈ $(python3 -c "print(f'{$SKH * $N / $SKOPEO_SAMPLE:.1f}')") s for $N) | $SKH | $(rate "$SKOPEO_SAMPLE" "$SKH") | $(python3 -c "print(f'{($SKH * $N / $SKOPEO_SAMPLE) / $HUNT:.1f}× slower')") |

\`tagwarden pin\` on a copy of the corpus ($(find "$COPY" -type f | wc -l) files) with every image reference rewritten to the loopback registry ($PAIRS repository:tag pairs in $REPOS repositories):

| run | seconds | result |
|---|---:|---|
| first \`pin\` (exit $PIN_STATUS) | $PIN | $PIN_SUMMARY |
| second \`pin\` | $PIN2 | $PIN2_SUMMARY; $SECOND |
| \`pin --check\` afterwards | | $CHECK |
EOF
if [ "$NOT_PINNED" != 0 ]; then
  echo
  echo "Not pinned by the first run: $NOT_PINNED sites, by reason (variables with no value offline grouped):"
  echo
  python3 - "$WORK/pin1.err" <<'PY'
import collections, re, sys
counts, reason = collections.Counter(), None
for line in open(sys.argv[1]):
    if line.startswith("not pinned: "):
        reason = line[12:].strip()
        for pattern, repl in [(r'"[^"]*"', '"…"'), (r"\$\{\{.*?\}\}[^:]*", "${{ … }}"),
                              (r"(ARG|variable) \S+", r"\1 X"), (r"\(set at deploy time\)", ""),
                              (r": .* is only known at run time|: strategy.matrix is set at run time.*", ": known at run time only"),
                              (r"is not a valid image reference: .*", "is not a valid image reference")]:
            reason = re.sub(pattern, repl, reason).strip()
    elif line.startswith("  ") and reason:
        counts[reason] += 1
for reason, n in counts.most_common(12):
    print(f"- {n} × {reason}")
PY
fi
