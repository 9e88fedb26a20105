# Two commands on a fresh machine: `make demo` (set up, index the examples, ask) and `make test`.
# The demo indexes into the default data folder (./data, or NEWSBOT_DATA_DIR), so `.venv/bin/newsbot ask …`
# afterwards answers from the same index.
VENV ?= .venv
PY := $(VENV)/bin/python
NEWSBOT := $(VENV)/bin/newsbot
STAMP := $(VENV)/.installed
DEMO_ENV := HF_HUB_OFFLINE=1
QUESTION ?= Wo soll der Gipfel stattfinden?

.PHONY: setup demo test test-llm lint bench bench-stress bench-scale bench-freshness coldstart clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: this takes the CPU build on disk instead of a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(DEMO_ENV) $(NEWSBOT) index add examples/articles
	$(DEMO_ENV) $(NEWSBOT) ask "$(QUESTION)"

# Two workers, a test file each at a time (module fixtures are built once); the slow files go first
# (tests/conftest.py) and keep that order (--no-loadscope-reorder), so both workers end together.
TEST_WORKERS ?= 2
test: setup
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The generative mode's tests against a real llama.cpp server; the extra compiles for several minutes.
# llama.cpp is compiled for any x86-64 CPU, not this one's (-DGGML_NATIVE=OFF): a native build used
# instructions the virtual CPU announces but cannot run (AMX, AVX-512: "invalid opcode" on the first
# answer), and without the cache a native wheel built earlier is not reused.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
test-llm: setup
	$(PY) -c "import llama_cpp" 2>/dev/null || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --quiet --no-cache-dir 'llama-cpp-python[server]'
	$(PY) -m pip install --quiet -e '.[dev,llm-test]'
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -m llm

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	HF_HUB_OFFLINE=1 $(PY) benchmarks/bench.py

# Cold start of one-shot commands (--help, ask, index list): median CPU seconds of whole processes.
coldstart: setup
	HF_HUB_OFFLINE=1 $(PY) benchmarks/coldstart.py --importtime

# 50 askers for 2 minutes while the CLI in another process indexes and polls misbehaving feeds
bench-stress: setup
	HF_HUB_OFFLINE=1 $(PY) benchmarks/stress.py $(STRESS_ARGS)

# Latency, memory and disk against index size (SIZES=25k,100k,250k,1M); writes benchmarks/scale.png.
SIZES ?= 25k,100k
bench-scale: setup
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	HF_HUB_OFFLINE=1 $(PY) benchmarks/scale.py --sizes $(SIZES) --chroma-server

# Seconds from a new feed entry to the running bot's answer about it, polling every 30 s and 5 s.
bench-freshness: setup
	HF_HUB_OFFLINE=1 $(PY) benchmarks/freshness.py --intervals 30,5

# Leaves ./data (the index) alone: delete it yourself to start afresh.
clean:
	rm -rf .pytest_cache .ruff_cache
