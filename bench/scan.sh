#!/usr/bin/env bash
# Scan benchmark: tagwarden against ripgrep on (a) the real-world corpus and (b) a generated
# 100,000-file tree, in one run, with the same gitignore rules (rg --hidden, since tagwarden
# reads hidden files such as .github/ and .gitlab-ci.yml too).
# Usage: bench/scan.sh [FILES]   (default 100000; output under bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-100000}"
out=bench/out; mkdir -p "$out"
tree="$out/tree-$files"
corpus=${TAGWARDEN_CORPUS:-../shared/corpus}

cargo build --release -q
bin=target/release/tagwarden
if [ ! -d "$tree" ]; then
  python3 bench/gen_tree.py "$tree" --files "$files" --corpus "$corpus"
fi

measure() { # name, command...: prints seconds (mean of hyperfine) and peak RSS in MB
  local name=$1; shift
  # -i: both commands exit 1 when they find something.
  hyperfine -N -i --warmup 1 --runs 5 --export-json "$out/$name.json" "$*" >/dev/null 2>&1
  local mean; mean=$(python3 -c "import json;print(json.load(open('$out/$name.json'))['results'][0]['mean'])")
  local rss; rss=$( /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 )
  echo "$mean $rss"
}

report() { # label, dir
  local label=$1 dir=$2
  local nfiles bytes
  nfiles=$(rg --files --hidden "$dir" | wc -l)
  bytes=$(rg --files --hidden -0 "$dir" | xargs -0 cat | wc -c)
  read -r tw_s tw_kb < <(measure "tw-$label" "$bin" scan "$dir" --format json --output /dev/null --fail-on critical)
  read -r rg_s rg_kb < <(measure "rg-$label" rg --hidden -c 'image:|FROM|uses:' "$dir")
  python3 - "$label" "$nfiles" "$bytes" "$tw_s" "$tw_kb" "$rg_s" "$rg_kb" <<'PY'
import sys
label, n, b, tws, twkb, rgs, rgkb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:])
print(f"| {label} | {n:,} files, {b/1e6:,.1f} MB | tagwarden {tws:.3f} s ({n/tws:,.0f} files/s, {b/1e6/tws:,.0f} MB/s, peak {twkb/1024:.0f} MB) "
      f"| ripgrep {rgs:.3f} s (peak {rgkb/1024:.0f} MB) | **{tws/rgs:.2f}×** ripgrep's time |")
PY
}

echo "| tree | size | tagwarden scan | rg -c 'image:|FROM|uses:' | ratio |"
echo "|---|---|---|---|---|"
report corpus "$corpus"
report "generated-$files" "$tree"
