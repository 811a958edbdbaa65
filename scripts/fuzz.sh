#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each), seeded from the real-world
# corpus ($TAGWARDEN_CORPUS, else ../shared/corpus) when it is there. Needs cargo-fuzz
# (`cargo install cargo-fuzz`) and a nightly toolchain; without one, the stable toolchain is told
# to allow nightly flags (RUSTC_BOOTSTRAP=1), which is enough for libFuzzer's sanitizer flags.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"; shift || true
targets=("$@")
if cargo +nightly --version >/dev/null 2>&1; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <("${fuzz[@]}" list)
fi
shared="${TAGWARDEN_CORPUS:-../shared/corpus}"
for t in "${targets[@]}"; do
  seeds="fuzz/corpus/$t"
  mkdir -p "$seeds"
  if [ -d "$shared" ] && [ -z "$(ls -A "$seeds")" ]; then
    # Seed with real files; the extract target takes a leading kind byte, which any byte is.
    find "$shared" -type f -size -64k ! -path '*/licenses/*' | sort | head -400 > "$seeds.list" || true
    while read -r f; do
      cp "$f" "$seeds/$(echo "$f" | md5sum | cut -c1-16)"
    done < "$seeds.list"
    rm -f "$seeds.list"
  fi
  echo "== fuzz $t for ${secs}s"
  "${fuzz[@]}" run "$t" "$seeds" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10
done
echo "fuzzing finished: no crashes"
