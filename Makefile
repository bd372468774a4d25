# spreadlab — the two commands a fresh machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: demo test test-all lint bench venv venv-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# runtime install (what `make demo` needs)
$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

# development install: tests, linters, reference libraries (QuantLib, statsmodels), ml extra
$(VENV)/.dev: $(VENV)/.runtime pyproject.toml
	$(BIN)/pip install -q -e '.[dev,ml]'
	@touch $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev

demo: $(VENV)/.runtime
	$(BIN)/spreadlab demo --out spreadlab-demo

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -m "not slow" -n $(PYTEST_WORKERS) -p no:cacheprovider

test-all: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# every benchmark: spreadlab and the peer tools on the same work, each peer in its own venv
bench: $(VENV)/.dev
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .bench-venvs spreadlab-demo benchmarks/.work
