#!/usr/bin/env bash
# Hunt benchmark: tagwarden hunt over generated network logs (Zeek, Squid, nginx, Route 53; half
# gzip) against `rg -F -f` and `grep -F -f` with the same indicators, one thread each (GB/s per
# core), in one run: (a) the built-in advisories' indicators, (b) a 10,000-domain + 1,000-IP feed.
# Usage: bench/hunt.sh [MB]   (default 2048; output under bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-2048}"
out=bench/out; mkdir -p "$out"
logs="$out/logs-$mb"
cargo build --release -q
bin=target/release/tagwarden
[ -d "$logs" ] || python3 bench/gen_logs.py "$logs" --mb "$mb"
feed="$out/feed-10k.txt"
small="$out/indicators-builtin.txt"
printf '%s\n' audit.checkmarx.cx 94.154.172.43 KICS-Telemetry/2.0 scan.aquasecurtiy.org 45.148.10.212 checkmarx.zone 83.142.209.11 > "$small"
cat "$small" >> "$feed.tmp" 2>/dev/null || true; cat "$feed" >> "$feed.tmp"; mv "$feed.tmp" "$feed.all"

bytes=$(for f in "$logs"/*; do case "$f" in *.gz) zcat "$f" | wc -c;; *) wc -c < "$f";; esac; done | awk '{s+=$1} END {printf "%d", s}')
mean() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['results'][0]['mean'])" "$1"; }
run() { # name, command
  local name=$1; shift
  hyperfine -N -i --warmup 1 --runs 3 --export-json "$out/$name.json" "$*" >/dev/null 2>&1
  mean "$out/$name.json"
}
tw_a=$(run hunt-tw-builtin "$bin" hunt --no-files --no-engine -j 1 --network-logs "$logs" --format json --output /dev/null)
rg_a=$(run hunt-rg-builtin rg -j 1 -z -F -c -f "$small" "$logs")
# hyperfine -N does not go through a shell: the loops live in small scripts.
printf 'for f in "$1"/*; do zcat -f "$f" | grep -F -c -f "$2"; done\n' > "$out/grep-loop.sh"
printf 'for f in "$1"/*; do zcat -f "$f" > /dev/null; done\n' > "$out/zcat-loop.sh"
grep_a=$(run hunt-grep-builtin bash "$out/grep-loop.sh" "$logs" "$small")
tw_b=$(run hunt-tw-feed "$bin" hunt --no-files --no-engine -j 1 --network-logs "$logs" --indicators "$feed.all" --format json --output /dev/null)
rg_b=$(run hunt-rg-feed rg -j 1 -z -F -c -f "$feed.all" "$logs")
grep_b=$(run hunt-grep-feed bash "$out/grep-loop.sh" "$logs" "$feed.all")
zcat_only=$(run hunt-zcat bash "$out/zcat-loop.sh" "$logs")
python3 - "$bytes" "$tw_a" "$rg_a" "$grep_a" "$tw_b" "$rg_b" "$grep_b" "$zcat_only" <<'PY'
import sys
b, twa, rga, gra, twb, rgb, grb, zc = int(sys.argv[1]), *map(float, sys.argv[2:])
gb = b / 1e9
print(f"{gb:.2f} GB of logs (decompressed), one thread each; decompression alone (zcat -f): {zc:.2f} s")
print("| indicators | tagwarden hunt | rg -z -F -f | grep -F -f (zcat) | tagwarden vs rg |")
print("|---|---|---|---|---|")
for name, tw, rg, gr in (("built-in advisories (7)", twa, rga, gra), ("feed: 10,000 domains + 1,000 IPs", twb, rgb, grb)):
    print(f"| {name} | {tw:.2f} s ({gb/tw:.2f} GB/s) | {rg:.2f} s ({gb/rg:.2f} GB/s) | {gr:.2f} s ({gb/gr:.2f} GB/s) | **{rg/tw:.2f}×** faster |")
PY
