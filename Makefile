# One command sets up and runs the tests, one sets up and runs the offline demo.
# Both create .venv and install the project with its dependencies when missing or stale.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint bench reliability clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/newswatch demo

bench: $(STAMP)
	$(BIN)/python bench/extraction_settings.py
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/dedup.py
	$(BIN)/python bench/scheduler_cycles.py
	$(BIN)/python bench/peers.py
	$(BIN)/python bench/memory.py

reliability: $(STAMP)
	NEWSWATCH_FUZZ_EXAMPLES=10000 $(BIN)/pytest -m reliability --durations=0

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
