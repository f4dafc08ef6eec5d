#!/usr/bin/env bash
# Core test stories (bot/tests/*.yml) against the trained model models/pronto.tar.gz.
# Does not retrain. Writes Rasa's reports under var/reports/stories/ and exits non-zero when
# any story fails. `rasa test core` replays the stories and checks the predicted actions;
# the action server is not needed (actions are unit-tested in tests/actions).
set -euo pipefail
cd "$(dirname "$0")/.."

RASA=${RASA:-.venv-rasa/bin/rasa}
MODEL=${MODEL:-models/pronto.tar.gz}
OUT=var/reports/stories
if [[ ! -s "$MODEL" ]]; then
  echo "test_stories.sh: $MODEL missing; run 'make train' first" >&2
  exit 2
fi
rm -rf "$OUT"
mkdir -p "$OUT"
echo "==> rasa test core: bot/tests against $MODEL (reports in $OUT)"
"$RASA" test core \
  --model "$MODEL" \
  --stories bot/tests \
  --out "$OUT" \
  --no-plot \
  > "$OUT/rasa-test-core.log" 2>&1 || {
    tail -30 "$OUT/rasa-test-core.log" >&2
    echo "test_stories.sh: rasa test core crashed (log: $OUT/rasa-test-core.log)" >&2
    exit 1
  }
grep -E "Evaluation Results on CONVERSATION level|Correct:|Accuracy:" "$OUT/rasa-test-core.log" \
  | sed 's/^.*INFO *[a-z._]* *- */  /' | head -8 || true
failed="$OUT/failed_test_stories.yml"
if [[ ! -f "$failed" ]]; then
  echo "test_stories.sh: $failed was not written" >&2
  exit 1
fi
if grep -q "None of the test stories failed" "$failed"; then
  echo "==> all test stories passed"
  exit 0
fi
echo "==> FAILED test stories (predicted actions marked '# predicted:'):" >&2
grep -E "^- story:|# predicted" "$failed" >&2 || cat "$failed" >&2
exit 1
