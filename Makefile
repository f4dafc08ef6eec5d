# Pronto: `make run` starts everything on embedded defaults; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
RVENV := .venv-rasa
MODEL := models/pronto.tar.gz
# What the model is trained from (test stories, held-out NLU data, endpoints and credentials are not).
TRAIN_INPUTS := $(shell find bot nlu_data -type f -not -path 'nlu_data/tests/*' -not -path 'bot/tests/*' \
	-not -name 'endpoints*.yml' -not -name 'credentials.yml' -not -name '*.pyc' 2>/dev/null)

.PHONY: run test setup train nlu-eval converse-eval bench lint clean test-gateway test-actions test-stories

setup: $(VENV)/.installed $(RVENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "==> gateway environment ($(VENV), $$($(PYTHON) --version))"
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --upgrade pip
	@$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $@

$(RVENV)/.installed: requirements-rasa.txt
	@echo "==> Rasa environment ($(RVENV), Python 3.10; pip install takes about 2 minutes the first time)"
	@test -x $(RVENV)/bin/python || $$(scripts/find-python310.sh) -m venv $(RVENV)
	@$(RVENV)/bin/pip install -q --upgrade pip
	@$(RVENV)/bin/pip install -q -r requirements-rasa.txt
	@touch $@

# Retrains only when bot/ or nlu_data/ changed (make compares the files' times with the model's).
train: $(MODEL)
$(MODEL): $(RVENV)/.installed $(TRAIN_INPUTS)
	@scripts/train.sh

nlu-eval: $(RVENV)/.installed
	@$(RVENV)/bin/python scripts/nlu_eval.py $(NLU_EVAL_FLAGS)

# Whole conversations against the real model: the tuned set and the held-out set, counted.
converse-eval: setup $(MODEL)
	@$(VENV)/bin/python scripts/converse_eval.py $(CONVERSE_EVAL_FLAGS)

run: setup $(MODEL)
	@$(VENV)/bin/python -m gateway.dev.devstack

test: setup $(MODEL)
	@scripts/test.sh

bench: setup $(MODEL)
	@$(VENV)/bin/python bench/langid.py
	@$(VENV)/bin/python bench/pipeline.py
	@$(VENV)/bin/python bench/timers.py
	@$(VENV)/bin/python bench/intake.py --leads 200 --rate 5 --start-rasa
	@$(VENV)/bin/python bench/faults.py
	@$(VENV)/bin/python bench/rasa_rest.py --senders 16 --seconds 20
	@$(VENV)/bin/python bench/peer.py

lint: setup
	@$(VENV)/bin/ruff check gateway actions tests bench
	@$(VENV)/bin/mypy
	@$(VENV)/bin/lint-imports
	@$(VENV)/bin/mypy --strict --python-version 3.10 --python-executable $(RVENV)/bin/python actions

clean:
	rm -rf var models
