# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/semantic check
	$(BIN)/semantic query "SELECT customer_region, order_count, net_revenue, average_order_value ORDER BY net_revenue DESC"
	$(BIN)/semantic compile "SELECT \"Région client\", \"Chiffre d'affaires net\" WHERE year(\"Date de commande\") = 1995 ORDER BY 2 DESC"
	$(BIN)/semantic query "SELECT \"Région client\", \"Chiffre d'affaires net\" WHERE year(\"Date de commande\") = 1995 ORDER BY 2 DESC"
	$(BIN)/semantic query "SELECT order_date.year, market_segment, net_revenue WHERE customer_region = 'EUROPE' ORDER BY 1, 2 LIMIT 10"

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/compile_bench.py

clean:
	rm -rf $(VENV) .venv-r2rml data .pytest_cache .mypy_cache .ruff_cache
