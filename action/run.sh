#!/usr/bin/env bash
# Runs the command the action's inputs ask for and reports its exit status as a step output
# instead of failing, so that the SARIF report is uploaded before the verdict step fails the job.
#
# Environment: the INPUT_* variables action.yml sets; RUNNER_TEMP, GITHUB_OUTPUT,
# GITHUB_EVENT_NAME, GITHUB_EVENT_PATH and GITHUB_REPOSITORY from the runner.
set -euo pipefail

# One item per line, blank lines and surrounding spaces dropped (bash 3 on macOS: no mapfile).
items() { printf '%s\n' "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d'; }
paths=() advisories=() extra=()
while IFS= read -r l; do paths+=("$l"); done < <(items "${INPUT_PATHS:-.}")
while IFS= read -r l; do advisories+=("$l"); done < <(items "${INPUT_ADVISORIES:-}")
while IFS= read -r l; do extra+=("$l"); done < <(items "${INPUT_ARGS:-}")
[ ${#paths[@]} -gt 0 ] || paths=(.)
format="${INPUT_FORMAT:-sarif}"

# A pull request from a fork brings its own tagwarden.toml: it must not hide a compromise.
untrusted="${INPUT_UNTRUSTED_CONFIG:-auto}"
if [ "$untrusted" = auto ]; then
  untrusted=false
  case "${GITHUB_EVENT_NAME:-}" in
    pull_request|pull_request_target)
      head=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["pull_request"]["head"]["repo"]["full_name"])' \
        "${GITHUB_EVENT_PATH:?}" 2>/dev/null || echo unknown)
      [ "$head" = "${GITHUB_REPOSITORY:-}" ] || untrusted=true ;;
  esac
fi

args=()
case "${INPUT_COMMAND:-scan}" in
  scan|verify)
    args=("$INPUT_COMMAND" --format "$format")
    [ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
    [ "$untrusted" = true ] && args+=(--untrusted-config)
    for a in ${advisories[@]+"${advisories[@]}"}; do args+=(--advisories "$a"); done
    if [ "$format" = sarif ]; then
      sarif="${RUNNER_TEMP:?}/tagwarden-$INPUT_COMMAND.sarif"
      args+=(--output "$sarif")
    fi ;;
  pin-check)
    args=(pin --check) ;;
  *)
    echo "::error::unknown command '${INPUT_COMMAND}' (scan, pin-check or verify)"
    echo "exit-code=2" >> "${GITHUB_OUTPUT:?}"
    exit 0 ;;
esac

status=0
tagwarden "${args[@]}" ${extra[@]+"${extra[@]}"} -- "${paths[@]}" || status=$?
echo "exit-code=$status" >> "${GITHUB_OUTPUT:?}"
if [ -n "${sarif:-}" ] && [ -s "$sarif" ]; then
  echo "sarif-file=$sarif" >> "$GITHUB_OUTPUT"
fi
