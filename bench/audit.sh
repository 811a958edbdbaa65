#!/usr/bin/env bash
# Audit benchmark: tagwarden audit over generated CloudTrail files (gzip JSON as AWS delivers
# them, 500 records each; one record in ten an ECR PutImage) against what people do instead:
# zcat | jq selecting the PutImage records (a floor: it reads and filters, it judges nothing).
# All in one run, hyperfine with one warm-up and RUNS runs; CPU seconds (user + system, children
# included) and wall seconds (the best run); ratios from CPU time.
# Usage: bench/audit.sh [RECORDS] [RUNS]   (default 2,000,000 records, 5 runs; output under bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
records="${1:-2000000}"
runs="${2:-5}"
out=bench/out; mkdir -p "$out"
trail="$out/cloudtrail-$records"
cargo build --release -q -p tagwarden
bin=target/release/tagwarden
[ -f "$trail/.done" ] || { python3 bench/gen_audit.py "$trail" --records "$records" && touch "$trail/.done"; }
times() { python3 -c "import json,sys;r=json.load(open(sys.argv[1]))['results'][0];print(f\"{r['user']+r['system']}:{min(r['times'])}\")" "$1"; }
run() { # name, command...: CPU:wall seconds
  local name=$1; shift
  hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$out/$name.json" "$*" >/dev/null 2>&1
  times "$out/$name.json"
}
tw=$(run audit-tw "$bin" audit "$trail" --baseline-to 2026-04-01 --format json --output /dev/null)
# The pipeline as a script of its own: hyperfine -N splits a command line without a shell.
cat >"$out/audit-jq.sh" <<EOF
zcat $trail/*.json.gz | jq -c '.Records[] | select(.eventSource == "ecr.amazonaws.com" and .eventName == "PutImage")' > /dev/null
EOF
jq_=$(run audit-jq sh "$out/audit-jq.sh")
# Exit status 1 is the findings being there: the pipeline must go on.
{ "$bin" audit "$trail" --baseline-to 2026-04-01 --format json || [ $? -eq 1 ]; } | python3 -c 'import json,sys; f=json.load(sys.stdin)["findings"]; print(len(f), "findings:", sorted({x["rule"] for x in f}))'
python3 - "$records" "$tw" "$jq_" <<'PY'
import sys
n = int(sys.argv[1]); tw = tuple(map(float, sys.argv[2].split(":"))); jq = tuple(map(float, sys.argv[3].split(":")))
print(f"{n:,} CloudTrail records ({n//10:,} PutImage), gzip, one process each")
print("| tool | CPU (wall) | records/s (CPU) |")
print("|---|---|---|")
print(f"| tagwarden audit (read, judge, report) | {tw[0]:.2f} s ({tw[1]:.2f} s) | {n/tw[0]:,.0f} |")
print(f"| zcat \\| jq select PutImage (read, filter) | {jq[0]:.2f} s ({jq[1]:.2f} s) | {n/jq[0]:,.0f} |")
print(f"\ntagwarden vs jq, CPU: **{jq[0]/tw[0]:.2f}×** (wall {jq[1]/tw[1]:.2f}×)")
PY
