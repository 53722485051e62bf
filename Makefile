# The README's commands: `make demo` (the runtime only), `make test` (everything that needs no
# service), `make test-all` (what CI runs: PostgreSQL, Spark and chromium too).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# two stamps: the runtime (`pip install -e .`), then the test tools on top of it
RUNTIME := $(VENV)/.installed
DEV := $(VENV)/.installed-dev
# pip prints what it collects and installs: a first install takes minutes, never in silence
PIP := $(BIN)/pip install --disable-pip-version-check --progress-bar on

.PHONY: demo test test-all lint bench clean

$(RUNTIME): pyproject.toml
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> installing semantic and what it needs to run (about 400 MB)"
	$(PIP) -e .
	touch $@

# pytest, hypothesis, ruff, mypy, playwright, and the clients of PostgreSQL and Spark (the
# pyspark wheel, 500 MB, is also where .ci/services starts Spark from)
$(DEV): $(RUNTIME)
	@echo "==> installing the test tools (about 800 MB more: pyspark, playwright, ...)"
	$(PIP) -e '.[dev]'
	touch $@

demo: $(RUNTIME)
	@echo "==> checking the models and the glossary"
	$(BIN)/semantic check
	@echo "==> business queries on DuckDB (the first one generates TPC-H at scale 0.01 into data/)"
	$(BIN)/semantic query "SELECT customer_region, order_count, net_revenue, average_order_value ORDER BY net_revenue DESC"
	$(BIN)/semantic compile "SELECT \"Région client\", \"Chiffre d'affaires net\" WHERE year(\"Date de commande\") = 1995 ORDER BY 2 DESC"
	$(BIN)/semantic query "SELECT \"Région client\", \"Chiffre d'affaires net\" WHERE year(\"Date de commande\") = 1995 ORDER BY 2 DESC"
	$(BIN)/semantic query "SELECT order_date.year, market_segment, net_revenue WHERE customer_region = 'EUROPE' ORDER BY 1, 2 LIMIT 10"

# what `make test` and `make test-all` check: lint, types, the test suite
CHECKS := $(BIN)/ruff check src tests bench && $(BIN)/mypy && $(BIN)/pytest -q

lint: $(DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# Tests that need PostgreSQL, Spark or a browser, and the tests marked slow, skip here.
test: $(DEV)
	$(CHECKS)

# Everything, as CI runs it (.ci/run): .ci/services installs (apt, as root) and starts
# PostgreSQL, Java, a Spark cluster and chromium, and exports where they are; .ci/duckdb-client
# makes virtualenvs with DuckDB 1.1 and 1.4 (PyPI), which open the files `views apply` writes
# as BI tools' drivers do; then the same checks with the slow tests and larger budgets of
# generated queries.
test-all: $(DEV)
	services=$$(bash .ci/services) && eval "$$services" && \
	clients=$$(bash .ci/duckdb-client) && eval "$$clients" && \
	export SEMANTIC_SLOW=1 SEMANTIC_DIFFERENTIAL_EXAMPLES=1000 SEMANTIC_FUZZ_EXAMPLES=1000 && \
	$(CHECKS)

bench: $(RUNTIME)
	$(BIN)/python bench/compile_bench.py

clean:
	rm -rf $(VENV) .venv-r2rml data .pytest_cache .mypy_cache .ruff_cache
