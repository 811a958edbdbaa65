#!/usr/bin/env bash
# What the release profile buys: binary size and `scan` speed of two builds of tagwarden (the
# profile before and after), measured in one hyperfine run with ripgrep beside them as the
# yardstick bench/scan.sh uses, on the corpus and on the generated tree.
# Usage: bench/package.sh BEFORE_BIN AFTER_BIN [FILES]
#   FILES: size of the generated tree (default 100000, made on first use under bench/out/);
#   the corpus is $CORPUS, or ../shared/corpus beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(realpath "$1") after=$(realpath "$2") files="${3:-100000}"
out=bench/out; mkdir -p "$out"
tree="$out/tree-$files"
corpus="${CORPUS:-../shared/corpus}"
[ -d "$tree" ] || python3 bench/gen_tree.py "$tree" --files "$files" --corpus "$corpus"

echo "| binary | bytes | MB | without debug info | without symbols |"
echo "|---|---:|---:|---:|---:|"
for b in "$before" "$after"; do
  objcopy --strip-debug "$b" "$out/stripped-debug"
  objcopy --strip-all "$b" "$out/stripped-all"
  awk -v b="$b" -v n="$(stat -c %s "$b")" -v d="$(stat -c %s "$out/stripped-debug")" \
    -v a="$(stat -c %s "$out/stripped-all")" \
    'BEGIN { printf "| %s | %d | %.1f | %.1f | %.1f |\n", b, n, n / 1048576, d / 1048576, a / 1048576 }'
done

# One run per tree: both builds and ripgrep, interleaved by hyperfine, same warm cache.
for dir in "$corpus" "$tree"; do
  name=$(basename "$dir")
  runs=20; [ "$dir" = "$tree" ] && runs=5
  # -i: every command exits 1 when it finds something.
  hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$out/package-$name.json" \
    -n before "$before scan $dir --format json --output /dev/null --fail-on critical" \
    -n after "$after scan $dir --format json --output /dev/null --fail-on critical" \
    -n ripgrep "rg --hidden -c 'image:|FROM|uses:' $dir" >/dev/null 2>&1
  python3 - "$out/package-$name.json" "$name" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b, a, g = r["before"]["mean"], r["after"]["mean"], r["ripgrep"]["mean"]
sd = lambda k: r[k]["stddev"] or 0
print(f"| {sys.argv[2]} | before {b:.3f} s ± {sd('before'):.3f} | after {a:.3f} s ± {sd('after'):.3f} "
      f"| ripgrep {g:.3f} s | after/before **{a/b:.2f}×**; vs ripgrep {b/g:.2f}× → {a/g:.2f}× |")
PY
done
