#!/usr/bin/env bash
# Large and hostile files (the inputs the extractor tests bound by work): `tagwarden scan` of each
# file alone against ripgrep reading the same file, in one run. The tests prove the work is linear;
# this says what it costs.
# Usage: bench/hostile.sh   (output under bench/out/hostile/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/hostile
cargo build --release -q
bin=target/release/tagwarden
[ -d "$out" ] || python3 bench/gen_hostile.py "$out"

mean() { # command...: mean seconds of hyperfine (-i: both exit 1 when they find something)
  hyperfine -N -i --warmup 1 --runs 5 --export-json "$out/run.json" "$*" >/dev/null 2>&1
  python3 -c "import json;print(json.load(open('$out/run.json'))['results'][0]['mean'])"
}

echo "| file | size | tagwarden scan | rg -c 'image:|FROM|uses:' | ratio |"
echo "|---|---:|---:|---:|---:|"
for dir in "$out"/*/; do
  name=$(basename "$dir")
  bytes=$(rg --files --hidden -0 "$dir" | xargs -0 cat | wc -c)
  tw=$(mean "$bin" scan "$dir" --max-file-size 100000000 --format json --output /dev/null)
  rg=$(mean rg --hidden -c 'image:|FROM|uses:' "$dir")
  python3 - "$name" "$bytes" "$tw" "$rg" <<'PY'
import sys
name, b, tw, rg = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"| {name} | {b/1e6:.1f} MB | {tw:.3f} s ({b/1e6/tw:.0f} MB/s) | {rg:.4f} s | **{tw/rg:.0f}×** |")
PY
done
