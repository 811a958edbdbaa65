#!/usr/bin/env bash
# Hunt benchmark: tagwarden hunt over generated network logs (Zeek dns/http/ssl/conn, Squid,
# nginx, Route 53; every second file gzip) against `rg -F -f` with the same indicators, one thread
# each, all in one run: (a) the built-in advisories' 16 network indicators, (b) those plus a
# 10,000-domain + 1,000-IP feed; over all the logs, then the plain half and the gzip half apart,
# with the floor of the gzip half (tagwarden reading and inflating it with zlib-rs, searching for
# nothing).
# Each command runs RUNS times (hyperfine, one warm-up); reported: CPU seconds (user + system,
# the mean; children included, so rg's gzip processes count) and wall seconds (the best run).
# On a shared machine CPU time is the steadier figure, and the ratios are taken from it.
# Usage: bench/hunt.sh [MB] [RUNS]   (default 2048 MB, 5 runs; output under bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-2048}"
runs="${2:-5}"
out=bench/out; mkdir -p "$out"
logs="$out/logs-$mb"
cargo build --release -q -p tagwarden
bin=target/release/tagwarden
[ -f "$logs/.done" ] || { python3 bench/gen_logs.py "$logs" --mb "$mb" && touch "$logs/.done"; }
# The two halves, as folders of links (the hunt walks links; rg is told to follow them).
for half in plain gz; do
  rm -rf "$out/$half-$mb"; mkdir -p "$out/$half-$mb"
done
for f in "$logs"/*.log "$logs"/*.log.gz; do
  case "$f" in *.gz) d=gz;; *) d=plain;; esac
  ln -s "$PWD/$f" "$out/$d-$mb/"
done
feed="$out/feed-10k.txt"
small="$out/indicators-builtin.txt"
# The built-in advisories' 16 network indicators, refanged, for rg.
printf '%s\n' audit.checkmarx.cx https://audit.checkmarx.cx/v1/telemetry 94.154.172.43 \
  KICS-Telemetry/2.0 checkmarx.cx 91.195.240.123 updates.checkmarx.cx 94.154.172.183 \
  checkmarx.zone 83.142.209.11 scan.aquasecurtiy.org 45.148.10.212 45.148.10.122 \
  'X-Filename: tpcp.tar.gz' tdtqy-oyaaa-aaaae-af2dq-cai.raw.icp0.io \
  plug-tab-protective-relay.trycloudflare.com > "$small"
cat "$small" "$feed" > "$feed.all"

size() { for f in "$1"/*; do case "$f" in *.gz) zcat "$f" | wc -c;; *) wc -c < "$f";; esac; done | awk '{s+=$1} END {printf "%d", s}'; }
times() { python3 -c "import json,sys;r=json.load(open(sys.argv[1]))['results'][0];print(f\"{r['user']+r['system']}:{min(r['times'])}\")" "$1"; }
run() { # name, command...: CPU:wall seconds
  local name=$1; shift
  hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$out/$name.json" "$*" >/dev/null 2>&1
  times "$out/$name.json"
}
results=()
for set in builtin feed; do
  extra=""; pat="$small"
  if [ "$set" = feed ]; then extra="--indicators $feed.all"; pat="$feed.all"; fi
  for data in all plain gz; do
    dir="$logs"; [ "$data" = all ] || dir="$out/$data-$mb"
    t=$(run "hunt-tw-$set-$data" "$bin" hunt --no-files --no-engine -j 1 --format json --output /dev/null --network-logs "$dir" $extra)
    r=$(run "hunt-rg-$set-$data" rg -L -j 1 -z -F -c -f "$pat" "$dir")
    results+=("$set $data $t $r")
  done
done
floor=$(run hunt-tw-floor-gz "$bin" hunt --no-files --no-engine -j 1 --no-builtin-advisories --format json --output /dev/null --network-logs "$out/gz-$mb")
python3 - "$(size "$logs")" "$(size "$out/plain-$mb")" "$(size "$out/gz-$mb")" "$floor" "${results[@]}" <<'PY'
import sys
sizes = {"all": int(sys.argv[1]), "plain": int(sys.argv[2]), "gz": int(sys.argv[3])}
split = lambda v: tuple(map(float, v.split(":")))
floor = split(sys.argv[4])
rows = [r.split() for r in sys.argv[5:]]
names = {"builtin": "built-in advisories (16)", "feed": "+ feed: 10,000 domains, 1,000 IPs"}
halves = {"all": "all", "plain": "plain half", "gz": "gzip half"}
print(f"{sizes['all']/1e9:.2f} GB of logs once decompressed ({sizes['plain']/1e9:.2f} GB plain, {sizes['gz']/1e9:.2f} GB from gzip), one thread each")
print("| indicators | logs | tagwarden CPU (wall) | rg -z -F -f CPU (wall) | tagwarden vs rg, CPU (wall) |")
print("|---|---|---|---|---|")
t = {}
for s, d, tw, rg in rows:
    (tc, tw_), (rc, rw) = split(tw), split(rg)
    t[(s, d)] = tc
    gb = sizes[d] / 1e9
    print(f"| {names[s]} | {halves[d]} | {tc:.2f} s, {gb/tc:.2f} GB/s ({tw_:.2f} s) | {rc:.2f} s, {gb/rc:.2f} GB/s ({rw:.2f} s) | **{rc/tc:.2f}×** ({rw/tw_:.2f}×) |")
print(f"\nFloor of the gzip half (tagwarden inflating it with zlib-rs, searching for nothing): {floor[0]:.2f} s CPU"
      f" ({sizes['gz']/1e9/floor[0]:.2f} GB/s); the feed run takes {t[('feed','gz')]/floor[0]:.2f}× that, the built-in run {t[('builtin','gz')]/floor[0]:.2f}×.")
print(f"The feed costs {t[('feed','all')]/t[('builtin','all')]:.2f}× the built-in run over all the logs"
      f" ({t[('feed','plain')]/t[('builtin','plain')]:.2f}× on the plain half, {t[('feed','gz')]/t[('builtin','gz')]:.2f}× on the gzip half).")
PY
