#!/usr/bin/env bash
# Secret detection benchmark: tagwarden-secrets against detect-secrets (PyPI) and secretlint
# (npm) on the same trees, in one run: wall time, CPU time and peak memory, then recall and
# precision of each tool on the labelled fixtures (crates/tagwarden-secrets/tests/fixtures).
# Usage: bench/secrets.sh [COPIES] [BIG_CORPUS_COPIES]
#   COPIES: fixture copies in the compared tree (default 1000, about 18 MB in 30,000 files,
#           plus ../shared/corpus when it is there);
#   BIG_CORPUS_COPIES: corpus copies added for the large tree that tagwarden alone scans
#           (default 30, about 300 MB); FULL=1 runs detect-secrets and secretlint on it too.
#   CORPUS=DIR: the real-world corpus (default ../shared/corpus).
# Everything is installed under bench/out/ (a venv, node_modules); nothing leaves the machine
# but the package downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-1000}"
big="${2:-30}"
out=bench/out; mkdir -p "$out"

cargo build --release -q -p tagwarden-secrets --example secrets-scan

venv="$out/secrets-venv"
if [ ! -x "$venv/bin/detect-secrets" ]; then
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check detect-secrets==1.5.0
fi
sl="$out/secretlint"
if [ ! -x "$sl/node_modules/.bin/secretlint" ]; then
  mkdir -p "$sl"
  (cd "$sl" && npm install --silent --no-audit --no-fund \
    secretlint@13.0.6 @secretlint/secretlint-rule-preset-recommend@13.0.6)
fi

python3 bench/secrets.py --out "$out" --copies "$copies" --big-corpus-copies "$big" \
  --tagwarden target/release/examples/secrets-scan \
  --detect-secrets "$venv/bin/detect-secrets" \
  --secretlint "$sl/node_modules/.bin/secretlint" \
  --corpus "${CORPUS:-../shared/corpus}" ${FULL:+--full}
