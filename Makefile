# DeepSeek Studio — `make run` serves the studio, `make test` runs the whole suite.
# Both bootstrap everything from a fresh clone: a Python 3.12+ virtualenv, the pinned
# dependencies, the database, and (for tests) Debian's chromium for the browser tests.

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
# One BLAS thread per process (the studio, its tests, the bench): the experiment statistics fit
# tiny matrices, and OpenBLAS's thread per core made each fit ~6× slower (docs/configuration.md).
export OPENBLAS_NUM_THREADS ?= 1
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST  ?= 127.0.0.1
PORT  ?= 8000

.PHONY: run test bootstrap db demo browser imports lint format css messages clean help

help:
	@echo "make run   - set up and serve the studio on http://$(HOST):$(PORT)"
	@echo "make test  - set up and run the whole test suite"
	@echo "make lint  - import contracts + ruff check + format check;  make css - rebuild the Tailwind theme and the editor bundle"
	@echo "make bench - the streaming benchmark;  make trace - where the first token's time goes"

# Finds a Python >= 3.12: $(PYTHON) if given, then python3.13/python3.12/python3 on PATH
# (each actually run, because pyenv shims exist for versions that are not active), then
# pyenv's installed versions, newest first.
$(STAMP): pyproject.toml
	@set -e; \
	ok() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }; \
	found=""; \
	if [ -n "$(PYTHON)" ]; then \
	  ok "$(PYTHON)" || { echo "error: PYTHON=$(PYTHON) is not a working Python 3.12+." >&2; exit 1; }; \
	  found="$(PYTHON)"; \
	else \
	  for c in python3.13 python3.12 python3; do \
	    if command -v $$c >/dev/null 2>&1 && ok $$c; then found=$$(command -v $$c); break; fi; \
	  done; \
	  if [ -z "$$found" ] && command -v pyenv >/dev/null 2>&1; then \
	    for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.[0-9]+' | sort -rV); do \
	      p="$$(pyenv root)/versions/$$v/bin/python3"; \
	      if [ -x "$$p" ] && ok "$$p"; then found="$$p"; break; fi; \
	    done; \
	  fi; \
	fi; \
	if [ -z "$$found" ]; then \
	  echo "error: DeepSeek Studio needs Python 3.12 or newer (Django 6)." >&2; \
	  echo "       Install one (python.org, your package manager, or 'pyenv install 3.12')," >&2; \
	  echo "       or point at it: make PYTHON=/path/to/python3.12 run" >&2; \
	  exit 1; \
	fi; \
	if [ -x $(PY) ] && ! ok $(PY); then rm -rf $(VENV); fi; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$found"; "$$found" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

bootstrap: $(STAMP)

# `make run` is for development on this machine: DEBUG on unless said otherwise.
db demo run: export DEBUG ?= true

db: bootstrap
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo_templates

demo: db
	$(PY) manage.py ensure_demo_user

run: demo
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's chromium (never a downloaded browser build), with a CJK font
# so that the Chinese UI renders in screenshots.
BROWSER_PACKAGES := chromium fonts-wqy-zenhei
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's $(BROWSER_PACKAGES) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	  else \
	    echo "error: the browser tests need: apt-get install $(BROWSER_PACKAGES)" >&2; exit 1; \
	  fi; \
	fi

# Imports go one way down the layers: the import-linter contracts in pyproject.toml.
imports: bootstrap
	$(VENV)/bin/lint-imports

# The suite on TEST_WORKERS processes (pytest-xdist; one more than the CPUs: about 45 % of a
# worker's time is waiting on paced streams and starting servers, which the extra worker
# fills. Two per CPU starved the fault suites' 200 concurrent streams into connect timeouts on
# this 2-core machine: docs/decisions/test-suite-speed.md), in a random order
# (pytest-randomly: the header prints the seed; PYTEST_ARGS=--randomly-seed=N repeats it).
# --dist loadscope sends each module whole to one worker, so a module-scoped fixture (the
# benchmark run of tests/bench/test_bench_smoke.py) is built once; the packages in
# ONE_SCOPE (tests/conftest.py) go whole, for a package-scoped fixture (the infrastructure
# suite's cluster). (loadgroup and xdist_group would be finer, but pytest-xdist 3.8 cannot
# rename nodes under pytest 9.2.)
# Modules go out in collection order, the longest first (LONGEST_FIRST in tests/conftest.py),
# not xdist's default of the most tests first, which left a one-test module of minutes last.
# TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE, as in
# the image): else every worker, server and command the suite starts compiles the studio from
# source, and pytest rewrites each test module's asserts again (~4.5 s of CPU per worker).
test: export PYTHONDONTWRITEBYTECODE :=
test: bootstrap browser imports
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

lint: bootstrap imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: bootstrap
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Front-end assets: Tailwind and the editor's Markdown toolbar from npm; the built CSS and
# js/vendor/ are committed so that running
# the studio needs no Node.
css: bootstrap
	ln -sfn "$$($(PY) -c 'import crispy_tailwind, pathlib; print(pathlib.Path(crispy_tailwind.__file__).parent)')" theme/vendor-crispy
	cd theme && npm ci --no-audit --no-fund && npm run build

# The streaming benchmark (bench/run.py, 30-50 minutes): the simulator, the studio as `make run`
# starts it and as the Docker image runs it (2 workers, PostgreSQL + Redis), and the LiteLLM proxy
# with 1 and 2 workers, all on loopback. BENCH_NS=1,10,100 picks the levels, BENCH_PATHS the
# paths, BENCH_BASELINE=<rev> adds that revision's studio, BENCH_LITELLM=0 leaves LiteLLM out,
# BENCH_PROFILE=100 adds a py-spy profile at that N. Writes bench/results/ and the generated
# section of docs/benchmark.md (never README.md); knobs in docs/benchmark.md.
BENCH_STAMP := $(VENV)/.bench-$(shell cksum pyproject.toml | cut -d' ' -f1)
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	rm -f $(VENV)/.bench-*
	touch $@

# BENCH_STARTED: when this make began, so the run's deadline (BENCH_DEADLINE, 540 s) also
# covers installing the environments on a fresh clone.
BENCH_T0 := $(shell date +%s)
.PHONY: bench trace bench-campaign
bench: $(BENCH_STAMP)
	BENCH_STARTED=$${BENCH_STARTED:-$(BENCH_T0)} $(PY) -m bench.run $(BENCH_ARGS)

# A 12-deliverable campaign's added time to first token on its board's one stream (bench/campaign.py).
bench-campaign: $(BENCH_STAMP)
	$(PY) -m bench.campaign $(BENCH_ARGS)

# Where the time to the first token goes, one generation at a time (bench/trace.py).
trace: $(BENCH_STAMP)
	$(PY) -m bench.trace

messages: bootstrap
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=theme/node_modules --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) .pytest_cache .import_linter_cache
