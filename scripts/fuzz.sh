#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each), seeded from the real-world
# corpus in ../shared/corpus when it is there. Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"; shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
shared="../shared/corpus"
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
  cargo +nightly fuzz run "$t" "$seeds" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10
done
echo "fuzzing finished: no crashes"
