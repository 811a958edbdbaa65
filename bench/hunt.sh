#!/usr/bin/env bash
# Hunt benchmark: tagwarden hunt over generated network logs (Zeek dns/http/ssl/conn, Squid,
# nginx, Route 53; every second file gzip) against `rg -F -f` with the same indicators, one thread
# each, all in one run: (a) the built-in advisories' indicators, (b) a 10,000-domain + 1,000-IP
# feed; over all the logs, then the plain half and the gzip half apart, with the floor of the gzip
# half (tagwarden reading and inflating it with zlib-rs, searching for nothing).
# Usage: bench/hunt.sh [MB] [RUNS]   (default 2048 MB, 3 runs; output under bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-2048}"
runs="${2:-3}"
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
printf '%s\n' audit.checkmarx.cx 94.154.172.43 KICS-Telemetry/2.0 scan.aquasecurtiy.org 45.148.10.212 checkmarx.zone 83.142.209.11 > "$small"
cat "$small" "$feed" > "$feed.all"

size() { for f in "$1"/*; do case "$f" in *.gz) zcat "$f" | wc -c;; *) wc -c < "$f";; esac; done | awk '{s+=$1} END {printf "%d", s}'; }
mean() { python3 -c "import json,sys;print(min(json.load(open(sys.argv[1]))['results'][0]['times']))" "$1"; }
run() { # name, command...: the best of the runs (the machine is shared)
  local name=$1; shift
  hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$out/$name.json" "$*" >/dev/null 2>&1
  mean "$out/$name.json"
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
floor = float(sys.argv[4])
rows = [r.split() for r in sys.argv[5:]]
names = {"builtin": "built-in advisories (7)", "feed": "feed: 10,000 domains + 1,000 IPs"}
halves = {"all": "all", "plain": "plain half", "gz": "gzip half"}
print(f"{sizes['all']/1e9:.2f} GB of logs once decompressed ({sizes['plain']/1e9:.2f} GB plain, {sizes['gz']/1e9:.2f} GB from gzip), one thread each, best of the runs")
print("| indicators | logs | tagwarden hunt | rg -z -F -f | tagwarden vs rg |")
print("|---|---|---|---|---|")
t = {}
for s, d, tw, rg in rows:
    tw, rg = float(tw), float(rg)
    t[(s, d)] = tw
    gb = sizes[d] / 1e9
    print(f"| {names[s]} | {halves[d]} | {tw:.2f} s ({gb/tw:.2f} GB/s) | {rg:.2f} s ({gb/rg:.2f} GB/s) | **{rg/tw:.2f}×** |")
gb = sizes["gz"] / 1e9
print(f"\nFloor of the gzip half (tagwarden inflating it with zlib-rs, searching for nothing): {floor:.2f} s ({gb/floor:.2f} GB/s);"
      f" the feed run takes {t[('feed','gz')]/floor:.2f}× that, the built-in run {t[('builtin','gz')]/floor:.2f}×.")
print(f"The feed costs {t[('feed','all')]/t[('builtin','all')]:.2f}× the built-in run over all the logs"
      f" ({t[('feed','plain')]/t[('builtin','plain')]:.2f}× on the plain half).")
PY
