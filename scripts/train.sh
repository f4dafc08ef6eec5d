#!/usr/bin/env bash
# Train the bilingual Rasa model: bot/config.yml + bot/domain.yml + bot/data (rules, stories)
# + nlu_data/en + nlu_data/es. Never nlu_data/tests (the held-out evaluation set).
# Output: models/pronto.tar.gz. Run from anywhere; exits non-zero when training fails.
set -euo pipefail
cd "$(dirname "$0")/.."

RASA=${RASA:-.venv-rasa/bin/rasa}
if [[ ! -x "$RASA" ]]; then
  echo "train.sh: $RASA not found (run 'make setup' first)" >&2
  exit 1
fi

mkdir -p models var
echo "==> training models/pronto.tar.gz (NLU en+es, rules, stories); takes a few minutes"
start=$(date +%s)
# --force: make already decided a retrain is due; Rasa's own cache must not skip it.
"$RASA" train \
  --config bot/config.yml \
  --domain bot/domain.yml \
  --data bot/data nlu_data/en nlu_data/es \
  --out models \
  --fixed-model-name pronto \
  --force \
  --num-threads 2
test -s models/pronto.tar.gz || { echo "train.sh: models/pronto.tar.gz was not written" >&2; exit 1; }
echo "==> models/pronto.tar.gz trained in $(( $(date +%s) - start ))s"
