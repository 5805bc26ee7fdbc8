# klantreis: `make demo` and `make test` work on a fresh clone; they set up everything they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9
DEMO_DIR ?= demo-workspace
SIZES ?= 1M,10M,100M
BENCH_ARGS ?=

.PHONY: help setup system demo test test-fast lint typecheck format bench clean

help:
	@echo "make demo       build the demo workspace and show it"
	@echo "make test       lint, typecheck and run the whole test suite (DuckDB and Spark)"
	@echo "make test-fast  the test suite without Spark"
	@echo "make bench      the benchmark suite (SIZES=1M,10M,100M); writes docs/benchmarks.md"
	@echo "make lint       ruff lint and format check"
	@echo "make typecheck  mypy on the package"
	@echo "make format     format the code with ruff"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"klantreis needs Python 3.11, found {sys.version.split()[0]}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as here and in CI) Python would
	# otherwise compile every imported module from source in every process (seconds per CLI call)
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	# pyspark is published as a source archive only; uv downloads and builds it again on each new
	# venv and keeps every earlier copy (~1.7 GB each), which once filled the disk under CI.
	# Pruning drops the copies nothing points to and keeps the current one (a failure to prune
	# never fails the install: the leading '-').
	-$(BIN)/uv cache prune -q
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

setup: $(STAMP) system

# System packages (a JDK for Spark). Installed by the project, never by hand.
system:
	@bash scripts/setup-system.sh

demo: setup
	rm -rf $(DEMO_DIR)
	@echo "Tip: the klantreis command is in $(BIN)/; 'source $(BIN)/activate' puts it on your PATH."
	$(BIN)/klantreis demo $(DEMO_DIR) $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

test: setup lint typecheck
	$(BIN)/pytest --cov=klantreis --cov-report=term:skip-covered -q

test-fast: $(STAMP)
	KLANTREIS_SKIP_SPARK=1 $(BIN)/pytest -q -x

# Benchmarks vs pm4py, retentioneering, ChannelAttribution, pandas and the hardware floor.
# The peers come from the lock's bench extra; simulated data is cached in .bench-cache/.
bench: $(STAMP)
	$(BIN)/python -m compileall -q src benchmarks
	$(BIN)/python -m benchmarks --sizes $(SIZES) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .coverage
