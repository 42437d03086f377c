# Two commands for a newcomer: `make run` and `make test`. Every install step lives here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)
PORT   ?= 8501
ADDRESS ?= localhost

.PHONY: run chat test install load lint typecheck pytest browser lrs postgres bench kt-bench kt-bench-full clean

## Packages are installed without pip's one-core bytecode pass, then compiled on all cores (their own test folders
## left out): this environment sets PYTHONDONTWRITEBYTECODE=1, so nothing imported is ever cached otherwise.
compile_packages = $(1) -m compileall -q -j 0 -x '/tests?/' "$$($(1) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev]'
	$(call compile_packages,$(BIN)/python)
	touch $(STAMP)

install: $(STAMP)

## Load the sample courses and open the tutor in the browser (http://localhost:8501), offline unless ANTHROPIC_API_KEY is set.
## The first time, it creates a local admin and prints its one-time password; learners may register themselves.
run: install load
	$(BIN)/tutor users ensure-admin
	TUTOR_SELF_REGISTRATION=$${TUTOR_SELF_REGISTRATION:-true} \
	$(BIN)/streamlit run ui/app.py --server.port $(PORT) --server.address $(ADDRESS) --server.headless true \
		--browser.gatherUsageStats false --client.toolbarMode viewer

## The same tutor in the terminal.
chat: install load
	$(BIN)/tutor chat --course fractions --learner $${USER:-learner}

load: install
	$(BIN)/tutor content validate
	$(BIN)/tutor content load

## Debian's Chromium for the end-to-end tests (never `playwright install`: no browser downloads here).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## A real learning record store for the xAPI tests: Ralph's LRS in its own venv (it pins FastAPI/uvicorn of its own).
LRS := .venv-lrs
$(LRS)/.installed:
	test -x $(LRS)/bin/python || $(PYTHON) -m venv $(LRS)
	$(LRS)/bin/python -m pip install --quiet --no-compile 'ralph-malph[cli,lrs]==5.1.0' 'requests>=2.31'
	$(call compile_packages,$(LRS)/bin/python)
	touch $@

lrs: $(LRS)/.installed
## Debian's PostgreSQL for the ledger tests (the tests start their own server on 127.0.0.1 in a temp folder).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

lint: install
	$(BIN)/ruff check tutor tests evals ui benchmarks

typecheck: install
	$(BIN)/mypy tutor ui

## pytest-xdist workers, handed tests one at a time (faster here than a module per worker).
WORKERS ?= 2
pytest: install browser lrs postgres
	$(BIN)/pytest -q -n $(WORKERS)

## Install what tests need, lint, then type-check while the tests run (they leave a core idle much of the time).
test: install browser lrs postgres lint
	$(MAKE) --no-print-directory -j2 typecheck pytest

## Benchmarks and evals (figures, not pass/fail): mastery gate vs classic criteria, retrieval, tutor overhead.
bench: install
	$(BIN)/python -m evals.mastery_bench --learners 10000 --seed 1 --json evals/out/mastery_bench.json
	$(BIN)/python -m evals.retrieval_eval --json evals/out/retrieval.json
	$(BIN)/python -m benchmarks.turn_overhead --json benchmarks/out/turn_overhead.json
	$(BIN)/python -m benchmarks.retrieval_scale --sizes 1000,10000 --json benchmarks/out/retrieval_scale.json

## Knowledge tracing on ASSISTments 2009 (../shared/data), ours beside pyBKT in its own venv (pyBKT needs old numpy).
PYBKT := evals/.pybkt-venv
$(PYBKT)/.installed:
	test -x $(PYBKT)/bin/python || $(PYTHON) -m venv $(PYBKT)
	$(PYBKT)/bin/python -m pip install --quiet pyBKT==1.4.3 numpy==1.26.4 pandas==2.1.4 scikit-learn==1.5.2
	touch $@

kt-bench: install $(PYBKT)/.installed
	$(BIN)/python -m evals.kt_bench --json evals/out/kt_bench.json

## The whole split; pyBKT takes ~25 min standard (with forgetting, well over an hour).
kt-bench-full: install $(PYBKT)/.installed
	$(BIN)/python -m evals.kt_bench --full --no-forgets --json evals/out/kt_bench_full.json

clean:
	rm -rf .tutor .pytest_cache .mypy_cache .ruff_cache test-output
