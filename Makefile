# The two commands of the README are `make demo` and `make test`.
# Both create .venv and install the project when it is missing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export CDP_HOME := $(CURDIR)
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: demo demo-postgres dev test test-spark lint lint-sql lint-python typecheck unit install clean chromium redis postgres vendor-js
CHROMIUM ?= /usr/bin/chromium
REDIS_SERVER ?= /usr/bin/redis-server

$(STAMP): pyproject.toml demo/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { echo "error: Python 3.11 is needed (found '$(PYTHON)'); run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./demo
	@touch $(STAMP)

install: $(STAMP)

## Generate sample data, land it, build every dbt model with its tests, print a summary.
demo: $(STAMP)
	$(BIN)/cdp run --demo-destinations

## The demo on PostgreSQL: a throwaway local PostgreSQL 15 (Debian's binaries,
## CDP_PG_BIN), or the server of CDP_PG_* when CDP_PG_HOST or CDP_PG_PORT is set; then
## `cdp run --demo-destinations` on it; the throwaway server is stopped afterwards.
## CDP_RUN_ARGS go to `cdp run`, e.g. make demo-postgres CDP_RUN_ARGS='--customers 300'.
demo-postgres: $(STAMP) postgres
	$(BIN)/python -m cdp_demo.postgres -- $(CDP_RUN_ARGS)

## Start the Dagster UI on http://127.0.0.1:3000 with the project loaded, and the
## demo's destinations (contract servers for the example syncs) beside it; the demo's
## secrets go into Dagster's environment (`cdp demo-destinations --print-env`).
## `cdp serve` (the collection API) listens on http://127.0.0.1:8080 with the write
## key dev-write-key unless CDP_COLLECT_WRITE_KEYS says otherwise (docs/collect.md).
dev: $(STAMP) vendor-js
	$(BIN)/python -m orchestration.prepare --retry 3
	@mkdir -p .dagster_home
	@secrets="$$($(BIN)/cdp demo-destinations --print-env)" || exit 1; eval "$$secrets"; \
	$(BIN)/cdp demo-destinations & dests=$$!; \
	CDP_COLLECT_WRITE_KEYS="$${CDP_COLLECT_WRITE_KEYS:-website=dev-write-key}" $(BIN)/cdp serve & serve=$$!; \
	trap 'kill $$dests $$serve 2>/dev/null' EXIT INT TERM; \
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

## Lint (sqlfluff on dbt models, ruff on Python, mypy) then the whole pytest suite,
## the cross-engine test on DuckDB, PostgreSQL and Spark included.
test: lint unit

lint: lint-python lint-sql typecheck

lint-python: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy cdp/cli.py cdp/build.py cdp/config.py cdp/dbt.py cdp/summary.py cdp/syncs.py cdp/demo.py cdp/landing cdp/privacy cdp/predictions cdp/serve cdp/warehouse cdp/identity reverse_etl orchestration expectations demo/cdp_demo

# The dbt templater compiles each model; it needs a profile, so point it at a scratch file.
lint-sql: $(STAMP)
	@mkdir -p warehouse
	CDP_DUCKDB_PATH=$(CURDIR)/warehouse/lint.duckdb $(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests

## Only the cross-engine test on Spark (pyspark local mode, ~5 min; `make test` runs it too).
test-spark: $(STAMP)
	CDP_TEST_SPARK=1 $(BIN)/pytest -m spark tests/engines

# The browser test drives Debian's chromium through Playwright (Playwright's own
# browser download cannot work here), so make sure it is installed.
chromium:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || { echo "error: the browser test needs chromium: apt-get install -y chromium" >&2; exit 1; }

# `make demo-postgres` (without CDP_PG_HOST/CDP_PG_PORT) and the PostgreSQL tests start
# a throwaway server from Debian's PostgreSQL 15 binaries (CDP_PG_BIN).
CDP_PG_BIN ?= /usr/lib/postgresql/15/bin
postgres:
	@test -n "$$CDP_PG_HOST$$CDP_PG_PORT" || test -x $(CDP_PG_BIN)/initdb || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15; } || { echo "error: a throwaway PostgreSQL needs postgresql-15: apt-get install -y postgresql-15 (or set CDP_PG_HOST/CDP_PG_PORT)" >&2; exit 1; }

# The serving store's Redis tests start a real redis-server (Debian's package).
redis:
	@test -x $(REDIS_SERVER) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } || { echo "error: the serving-store tests need redis-server: apt-get install -y redis-server" >&2; exit 1; }

# analytics.js for `cdp serve` and its browser test, from npm (pinned in the lock file).
VENDOR_JS := cdp/serve/static/node_modules/.installed
$(VENDOR_JS): cdp/serve/static/package.json cdp/serve/static/package-lock.json
	cd cdp/serve/static && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

vendor-js: $(VENDOR_JS)

# The Spark cross-engine test runs only with CDP_TEST_SPARK=1 (a bare `pytest`
# skips it); `make test` sets it. `make test CDP_TEST_SPARK=0` leaves Spark out.
# Two pytest-xdist workers (the machine's two cores); each group (a package with
# shared fixtures, or a module: tests/scheduling.py) runs whole on one worker,
# longest first (docs/testing.md). `make unit PYTEST_WORKERS=0`
# runs serially.
CDP_TEST_SPARK ?= 1
PYTEST_WORKERS ?= 2
# `make test PYTEST_DURATIONS=0` lists every duration (input of `python -m tests.scheduling LOG`).
PYTEST_DURATIONS ?= 30
unit: $(STAMP) chromium redis postgres vendor-js
	CDP_TEST_SPARK=$(CDP_TEST_SPARK) $(BIN)/pytest --durations=$(PYTEST_DURATIONS) \
		$(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadgroup)

clean:
	rm -rf $(VENV) warehouse data dbt_project/target .dagster_home tests/artifacts
