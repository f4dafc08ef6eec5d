#!/usr/bin/env bash
# `make test`: every test, in three parts, failing if any part fails.
#   1. actions  — tests/actions under the Rasa venv (.venv-rasa, Python 3.10)
#   2. stories  — scripts/test_stories.sh (Rasa end-to-end stories), skipped if absent
#   2b. nlu     — scripts/nlu_eval.py --strict on the trained model (held-out NLU targets)
#   3. gateway  — everything else under tests/ with .venv (the big suite), run LAST so its
#                 pytest closing line is the last pytest output; then a summary per part and one
#                 combined pytest-style line over all parts (CI reads the last closing line).
# Extra arguments go to the gateway pytest (e.g. `scripts/test.sh -k twilio -x`).
# TEST_DATABASE_URL / TEST_REDIS_URL pass through the environment to the tests unchanged.
set -uo pipefail
cd "$(dirname "$0")/.."

ACTIONS_TIMEOUT=${ACTIONS_TIMEOUT:-600}
STORIES_TIMEOUT=${STORIES_TIMEOUT:-900}
GATEWAY_TIMEOUT=${GATEWAY_TIMEOUT:-2400}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start_all=$(date +%s.%N)
declare -a names=() results=() lines=()
passed=0 failed=0 skipped=0 errors=0 xfailed=0 xpassed=0

# Adds the counts of a pytest closing line ("3 failed, 40 passed, 2 skipped in 1.2s") to the
# totals; prints nothing. Returns 1 when the log has no closing line (pytest crashed or timed out).
add_counts() {
  local line n word
  line=$(grep -E '(^|[ =])([0-9]+ (passed|failed|skipped|errors?|xfailed|xpassed|deselected)|no tests ran).* in [0-9.]+s' "$1" | tail -n 1)
  [ -n "$line" ] || return 1
  lines+=("$(sed -E 's/^=+ //; s/ =+$//' <<<"$line")")
  while read -r n word; do
    case "$word" in
      passed) passed=$((passed + n)) ;;
      failed) failed=$((failed + n)) ;;
      skipped) skipped=$((skipped + n)) ;;
      error|errors) errors=$((errors + n)) ;;
      xfailed) xfailed=$((xfailed + n)) ;;
      xpassed) xpassed=$((xpassed + n)) ;;
    esac
  done < <(grep -oE '[0-9]+ (passed|failed|skipped|errors?|xfailed|xpassed)' <<<"$line")
}

# run_part NAME KIND(pytest|script) COMMAND...  — runs it, tees its output, records the result.
run_part() {
  local name=$1 kind=$2 rc
  shift 2
  echo
  echo "######## $name: $*"
  "$@" 2>&1 | tee "$work/$name.log"
  rc=${PIPESTATUS[0]}
  names+=("$name")
  if [ "$kind" = pytest ]; then
    # Exit code 5 is "no tests collected": an empty part is not a failure.
    if ! add_counts "$work/$name.log"; then
      lines+=("no pytest summary (exit code $rc; crashed or timed out)")
      errors=$((errors + 1))
      [ "$rc" -ne 0 ] || rc=1
    fi
    [ "$rc" -eq 5 ] && rc=0
  else
    # A script part has no per-test counts; when it fails it counts as one failure.
    if [ "$rc" -eq 0 ]; then lines+=("ok"); else lines+=("FAILED (exit code $rc)"); failed=$((failed + 1)); fi
  fi
  results+=("$rc")
}

skip_part() {
  echo
  echo "######## $1: skipped ($2)"
  names+=("$1"); results+=("skip"); lines+=("skipped: $2")
}

# 1. Action server tests, in the Rasa venv. Its own ini: the repo's pytest settings name plugins
# (pytest-timeout, newer pytest-asyncio) that the Rasa venv does not have, and --confcutdir keeps
# the gateway's tests/conftest.py (which imports the gateway) out of this interpreter.
if [ -d tests/actions ] && [ -x .venv-rasa/bin/python ]; then
  ini=tests/actions/pytest.ini
  if [ ! -f "$ini" ]; then
    ini="$work/pytest.ini"
    cat >"$ini" <<'EOF'
[pytest]
asyncio_mode = auto
filterwarnings =
    error
    ignore::DeprecationWarning
    ignore::PendingDeprecationWarning
EOF
  fi
  run_part actions pytest timeout "$ACTIONS_TIMEOUT" .venv-rasa/bin/python -m pytest tests/actions \
    -q -c "$ini" --rootdir=. --confcutdir=tests/actions -p no:cacheprovider
else
  skip_part actions "tests/actions or .venv-rasa missing"
fi

# 2. Rasa story tests.
if [ -f scripts/test_stories.sh ]; then
  run_part stories script timeout "$STORIES_TIMEOUT" bash scripts/test_stories.sh
else
  skip_part stories "scripts/test_stories.sh does not exist yet"
fi

# 2b. NLU held-out evaluation, strict: the trained model against nlu_data/tests (per-language
# intent and entity targets, and the generic dialogue acts written by a third party).
if [ -x .venv-rasa/bin/python ] && [ -s models/pronto.tar.gz ]; then
  run_part nlu script timeout "$STORIES_TIMEOUT" .venv-rasa/bin/python scripts/nlu_eval.py \
    --strict --model models/pronto.tar.gz
else
  skip_part nlu "no trained model or .venv-rasa"
fi

# 3. Lint, types and the layering contract (house style: ruff, mypy --strict, import-linter).
run_part lint script bash -c '.venv/bin/ruff check gateway actions tests bench && .venv/bin/mypy \
  && .venv/bin/lint-imports && .venv/bin/mypy --strict --python-version 3.10 --python-executable .venv-rasa/bin/python actions'

# 4. The gateway suite, last.
if [ -n "${TEST_DATABASE_URL:-}" ]; then echo "TEST_DATABASE_URL is set: SQL tests also run on it"; fi
if [ -n "${TEST_REDIS_URL:-}" ]; then echo "TEST_REDIS_URL is set: Redis tests also run on it"; fi
run_part gateway pytest timeout "$GATEWAY_TIMEOUT" .venv/bin/python -m pytest tests \
  --ignore=tests/actions "$@"

echo
echo "######## summary"
status=0
for i in "${!names[@]}"; do
  r=${results[$i]}
  if [ "$r" = skip ]; then mark=SKIP; elif [ "$r" -eq 0 ]; then mark=PASS; else mark=FAIL; status=1; fi
  printf '  %-8s %s  %s\n' "${names[$i]}" "$mark" "${lines[$i]}"
done
elapsed=$(awk -v s="$start_all" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
total=""
for pair in "failed:$failed" "passed:$passed" "skipped:$skipped" "xfailed:$xfailed" \
            "xpassed:$xpassed" "errors:$errors"; do
  n=${pair#*:}
  [ "$n" -gt 0 ] && total+="${total:+, }$n ${pair%%:*}"
done
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || [ "$errors" -gt 0 ] || { failed=1; total="1 failed${total:+, }$total"; }
echo "============ ${total:-no tests ran} in ${elapsed}s (all parts) ============"
exit "$status"
