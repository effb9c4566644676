# medlab: the two commands of the README, and their parts.
#   make book   set up .venv, execute every chapter, write book/_build/html
#   make test   set up .venv, then ruff, unit tests, every notebook through nbval, strict build,
#               and the rendered book in headless Chromium (when Chromium is installed)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.medlab-installed
TORCH := torch==2.13.0
JB_BUILD := $(BIN)/jupyter-book build . --path-output book

# What every command sees: text progress bars and static widgets on the rendered page,
# the venv first on PATH (so notebook kernels use it). No MPLBACKEND: a kernel with
# MPLBACKEND=Agg draws figures nowhere, and the executed notebooks would have none.
export PATH := $(BIN):$(PATH)
export MEDLAB_PROGRESS := text
export MEDLAB_STATIC_WIDGETS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export OMP_NUM_THREADS ?= 2

.PHONY: book test setup upgrade lint unit notebooks build-strict browser bench robust student assign clean

book: setup
	$(JB_BUILD)
	@echo "The book is in book/_build/html/index.html"

test: setup lint unit notebooks build-strict browser
	@echo "All tests passed."

# A stamp file makes set-up idempotent: a second run reuses .venv unless the
# requirements changed. torch is installed first, as the CPU build. Then, on Linux x86-64 with
# CPython 3.11 (this machine, CI), requirements.lock: the exact versions the book was tested
# with, hash-checked, so that `make` next year installs what passed this year. Elsewhere (or
# with `make setup LOCK=`), the ranges of requirements.txt. `make upgrade` refreshes the lock.
LOCK ?= requirements.lock
LOCK_FITS := $(shell $(PYTHON) -c "import platform, sys; print(int(sys.platform == 'linux' and platform.machine() == 'x86_64' and sys.version_info[:2] == (3, 11)))" 2>/dev/null)
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check
setup: $(STAMP)
$(STAMP): requirements.txt requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) $(TORCH)
	@if [ -n "$(LOCK)" ] && [ "$(LOCK_FITS)" = 1 ]; then \
	  echo "installing the tested versions ($(LOCK), hash-checked)"; \
	  $(PIP) --require-hashes --no-deps -r $(LOCK); \
	else \
	  echo "installing the ranges of requirements.txt (no lock for this platform)"; \
	  $(PIP) -r requirements.txt; \
	fi
	$(PIP) --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Refresh requirements.lock: the newest versions requirements.txt allows, for Linux x86-64 and
# CPython 3.11, with hashes (torch stays out: it is installed first, from the CPU build). Then
# run `make test` before committing the new lock.
# The CPU build of torch is resolved from this machine's wheels (or PyTorch's CPU index), so
# that no CUDA packages enter the lock.
TORCH_SOURCE ?= $(if $(wildcard /opt/wheels),--find-links /opt/wheels,--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match)
upgrade: setup
	$(PIP) uv
	echo "$(TORCH)" > $(VENV)/torch-constraint.txt
	$(BIN)/uv pip compile requirements.txt --upgrade --generate-hashes --no-header --no-annotate \
		--python-version 3.11.7 --python-platform x86_64-manylinux_2_28 \
		$(TORCH_SOURCE) -c $(VENV)/torch-constraint.txt --no-emit-package torch \
		-o requirements.lock
	rm -f $(STAMP)

lint: setup
	$(BIN)/ruff check .

# the browser test runs after the build (target browser), not here against an older build
unit: setup
	$(BIN)/python -m pytest -q tests --ignore=tests/browser

# Each notebook runs once here; book/conftest.py stores the executed notebooks in the
# build's execution cache, so build-strict below reuses them instead of running them again.
notebooks: setup
	$(BIN)/python -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
		-p no:cacheprovider book

build-strict: setup
	$(JB_BUILD) -W -n --keep-going

# Headless Chromium on every page of book/_build/html (skipped, saying why, without Chromium);
# screenshots of the introduction and a chapter land in book/_build/screenshots.
browser: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

bench: setup
	$(BIN)/python -m medlab.bench

# The robustness run (a benchmark, not a test; about an hour on 2 cores): every chapter under
# seeds 0, 1, 2 x 1 and 2 threads; every assert must pass under each. A subset:
#   make robust CHAPTERS="book/07_brain_segmentation.ipynb book/11_interpretability.ipynb"
robust: setup
	$(BIN)/python -m medlab.bench $(CHAPTERS) --seeds 0 1 2 --threads 1 2

student: setup
	$(BIN)/python -m medlab.teach student book student

# otter-grader assignments (see book/instructors.md):  make assign CHAPTERS="book/01_concepts.ipynb"
assign: setup
	$(BIN)/python -m medlab.teach assign $(or $(CHAPTERS),$(wildcard book/[0-9]*.ipynb)) assignments

clean:
	rm -rf book/_build student assignments
