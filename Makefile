# make demo: run every demonstrator on the embedded sample territory
# make test: the test suite (installs Debian's chromium for the page tests when missing)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.datacites-installed
export DAGSTER_HOME := $(CURDIR)/.datacites/dagster

.PHONY: demo test lint ui bench chromium servers install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/datacites demo

# Lint (ruff), the import contracts (import-linter: demonstrators see only pipelines.api),
# Dagster's own validation of the components (dg check defs), then the tests.
test: $(STAMP) chromium servers
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -c "from pipelines.run import dagster_home; dagster_home()"
	$(BIN)/dg check defs
	$(BIN)/python -m pytest

# Playwright's own browser download does not work offline: use Debian's chromium.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the page tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Servers the deployment tests start on loopback, each in a temporary folder, and stop
# (tests/deploy): Debian's PostgreSQL and Redis (the Celery broker), each installed when
# missing, its system service stopped at once (never left running).
servers:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	UPDATED=; \
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian's postgresql for the deployment tests"; \
	  $$SUDO apt-get update -qq && UPDATED=1; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	  $$SUDO service postgresql stop >/dev/null 2>&1 || true; \
	fi; \
	if ! command -v redis-server >/dev/null 2>&1; then \
	  echo "installing Debian's redis-server for the Celery test"; \
	  [ -n "$$UPDATED" ] || $$SUDO apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null; \
	  $$SUDO service redis-server stop >/dev/null 2>&1 || true; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

ui: $(STAMP)
	$(BIN)/python -c "from pipelines.run import dagster_home; dagster_home()"
	$(BIN)/dagster dev -w workspace.yaml

# Figures only (never asserted on); see benchmarks/RESULTS.md for the last full run. The crossing
# benchmark's peers (polars-st) come from the `bench` extra.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/bench_crossing.py --sizes 100000 1000000 10000000
	$(BIN)/python benchmarks/bench_crossing.py --interpolation
	$(BIN)/python benchmarks/bench_audit.py
	$(BIN)/python benchmarks/bench_site.py
	$(BIN)/python benchmarks/bench_connectors.py --scale 0.05
	$(BIN)/python benchmarks/bench_hot_paths.py
	$(BIN)/python benchmarks/bench_reruns.py
	$(BIN)/python benchmarks/bench_scaling.py

clean:
	rm -rf .datacites outputs/site outputs/screenshots
