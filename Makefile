# Two commands for a newcomer: `make run` and `make test`. Every install step lives here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint typecheck pytest load clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Load the sample courses and start the tutor on the embedded (offline) default.
run: install load
	$(BIN)/tutor chat --course fractions --learner $${USER:-learner}

load: install
	$(BIN)/tutor content validate
	$(BIN)/tutor content load

lint: install
	$(BIN)/ruff check tutor tests evals

typecheck: install
	$(BIN)/mypy tutor

pytest: install
	$(BIN)/pytest -q

## Install what tests need, then lint, type-check and run the tests.
test: lint typecheck pytest

clean:
	rm -rf .tutor .pytest_cache .mypy_cache .ruff_cache test-output
