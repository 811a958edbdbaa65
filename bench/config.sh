#!/usr/bin/env bash
# Config benchmark: loading a tagwarden.toml with many `[ignore] images` globs, before and after
# the glob set was compiled once instead of once per pattern (issue 11). Times `scan` of a
# one-file tree whose config holds N globs, with two binaries, in one run.
# Usage: bench/config.sh OLD_BINARY NEW_BINARY [N]   (default N 3000; output under bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 n="${3:-3000}"
tree=bench/out/config-$n; mkdir -p "$tree"
python3 - "$n" > "$tree/tagwarden.toml" <<'PY'
import sys
print("[ignore]\nimages = [")
for i in range(int(sys.argv[1])):
    print(f'  "ghcr.io/org{i}/*",')
print("]")
PY
echo 'FROM alpine:3.20' > "$tree/Dockerfile"
best() { # binary: best of 3 wall-clock seconds
  local b=$1 t best=
  for _ in 1 2 3; do
    /usr/bin/time -f '%e' -o "$tree/time" "$b" scan "$tree" >/dev/null 2>&1 || true
    t=$(tail -1 "$tree/time")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(not $t < $best)"; then best=$t; fi
  done
  echo "$best"
}
o=$(best "$old"); w=$(best "$new")
echo "$n image globs: old $o s, new $w s, old/new $(python3 -c "print(round($o/max($w,0.005),1))")x"
