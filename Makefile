# medlab: the two commands of the README, and their parts.
#   make book   set up .venv, execute every chapter, write book/_build/html (English) and
#               book/_build/html/zh_CN (the Chinese edition, from the same execution)
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

.PHONY: book test test-py312 setup upgrade lint unit notebooks build-strict browser bench robust smoke student assign clean locale zh-notebooks

# A chapter that fails to execute fails `make book` (medlab.buildcheck names the chapter and the
# cell), so the publishing workflow never deploys a book with a traceback on a page.
# The Chinese edition (issue 30) comes second: the same sources with language = zh_CN and the
# catalogues of locale/zh_CN, into book/_build/html/zh_CN/ (same page paths). It executes
# nothing: it renders the English build's execution cache (book/_build/.jupyter_cache), and
# stops, naming them, if a chapter is not in it (python -m medlab.i18n; ~1 min).
book: setup
	$(JB_BUILD)
	$(BIN)/python -m medlab.buildcheck book/_build
	$(BIN)/python -m medlab.i18n build
	@$(MAKE) --no-print-directory zh-notebooks
	@echo "The book is in book/_build/html/index.html (Chinese: book/_build/html/zh_CN/index.html)"

# Colab from a Chinese page: the chapter notebooks with their markdown translated from the
# catalogues (code cells byte-identical; python -m medlab.i18n_notebooks). Written beside the
# Chinese pages, so that their download button gives the Chinese notebook; the publishing
# workflow pushes the same copies to branch colab-zh_CN, which the Chinese Colab buttons open.
zh-notebooks: setup
	$(BIN)/python -m medlab.i18n_notebooks --locale locale --lang zh_CN \
		--out book/_build/html/zh_CN/_sources $(wildcard book/[0-9]*.ipynb)

# Refresh the catalogues after the English prose changed: extract the messages (a gettext build
# with execution off, into book/_build/gettext), merge them into locale/zh_CN with sphinx-intl
# (changed messages become fuzzy, new ones untranslated), then list the fuzzy and untranslated
# messages of each page with counts. Translate those, and `make test` checks the share.
locale: setup
	$(BIN)/python -m medlab.i18n update
	$(BIN)/python -m medlab.i18n status

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
# what PyRadiomics' setup.py imports, installed before its build without isolation (the lock
# path on 3.11 has them; a 3.12 venv has no setuptools)
RADIOMICS_BUILD := "setuptools>=61" wheel "versioneer>=0.29"
setup: $(STAMP)
$(STAMP): requirements.txt requirements.lock requirements-radiomics.txt requirements-radiomics.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) $(TORCH)
	@if [ -n "$(LOCK)" ] && [ "$(LOCK_FITS)" = 1 ]; then \
	  echo "installing the tested versions ($(LOCK), hash-checked)"; \
	  $(PIP) --require-hashes --no-deps -r $(LOCK) && \
	  echo "building PyRadiomics without build isolation (its setup.py imports numpy)" && \
	  $(PIP) --require-hashes --no-deps --no-build-isolation -r requirements-radiomics.lock; \
	else \
	  echo "installing the ranges of requirements.txt (no lock for this platform)"; \
	  $(PIP) -r requirements.txt && \
	  $(PIP) $(RADIOMICS_BUILD) && \
	  $(PIP) --no-build-isolation -r requirements-radiomics.txt; \
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
	$(BIN)/uv pip compile requirements.txt requirements-radiomics.txt --upgrade --generate-hashes \
		--no-header --no-annotate \
		--python-version 3.11.7 --python-platform x86_64-manylinux_2_28 \
		$(TORCH_SOURCE) -c $(VENV)/torch-constraint.txt --no-emit-package torch \
		--no-emit-package pyradiomics -o requirements.lock
	$(BIN)/uv pip compile requirements-radiomics.txt --no-deps --generate-hashes --no-header \
		--no-annotate --python-version 3.11.7 --python-platform x86_64-manylinux_2_28 \
		-c requirements.lock -o $(VENV)/radiomics.lock
	{ sed -n '/^#/p' requirements-radiomics.lock; sed -n '/^pyradiomics==/,/^[^ ]/p' $(VENV)/radiomics.lock | sed '$$!b;/^[^ ]/d'; } > $(VENV)/radiomics.new
	mv $(VENV)/radiomics.new requirements-radiomics.lock
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

# both editions with -W -n --keep-going: a warning in either fails the build; then the Chinese
# notebooks beside the Chinese pages, as make book writes them (the browser test downloads one)
build-strict: setup
	$(JB_BUILD) -W -n --keep-going
	$(BIN)/python -m medlab.i18n build --strict
	@$(MAKE) --no-print-directory zh-notebooks

# Headless Chromium on every page of book/_build/html (skipped, saying why, without Chromium);
# screenshots of the introduction and a chapter land in book/_build/screenshots.
browser: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

bench: setup
	$(BIN)/python -m medlab.bench

# The robustness run (a benchmark, not a test; on 2 cores about ten times the book's execution
# time): every chapter under design settings (seeds 0, 1, 2) and confirmation seeds (5-10) nobody
# looked at, over 1 and 2 threads and three CPU-kernel settings (this CPU, ATen's portable
# kernels, AVX2-capped oneDNN/MKL); every assert must pass under each. A subset:
#   make robust CHAPTERS="book/07_brain_segmentation.ipynb book/11_interpretability.ipynb"
robust: setup
	$(BIN)/python -m medlab.bench --robust $(CHAPTERS)

# The GPU-scale smoke run: every chapter at MEDLAB_SCALE=gpu with its loops cut (MEDLAB_SMOKE=1),
# on the CPU, each in an empty working folder; any failing cell fails it.
smoke: setup
	$(BIN)/python -m medlab.bench --smoke $(CHAPTERS)

# Colab's Python, as a new Colab-like machine has it: Python 3.12, torch from the package index
# (a CUDA build that runs on the CPU; TORCH312 is the lowest release the ranges admit), medlab[book]
# from the ranges of pyproject.toml (no lock), the unit tests, and the GPU-scale smoke run of
# every chapter. Needs python3.12 (pyenv's is found too).
# the first python3.12 that runs (pyenv's shim is on PATH but refuses when 3.12 is not selected)
PY312 ?= $(shell for p in $$(command -v python3.12) $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
	if "$$p" -c "" 2>/dev/null; then echo "$$p"; break; fi; done)
TORCH312 ?= torch==2.11.0
VENV312 := .venv312
test-py312:
	@test -n "$(PY312)" || { echo "test-py312: no python3.12 found (set PY312=/path/to/python3.12)"; exit 1; }
	test -x $(VENV312)/bin/python || $(PY312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install -q --disable-pip-version-check "$(TORCH312)"
	$(VENV312)/bin/python -m pip install -q --disable-pip-version-check -e ".[book,test]"
	$(VENV312)/bin/python -m pip install -q --disable-pip-version-check $(RADIOMICS_BUILD)
	$(VENV312)/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation -r requirements-radiomics.txt
	$(VENV312)/bin/python -m pip check
	cd $(VENV312) && PATH=$(CURDIR)/$(VENV312)/bin:$$PATH ./bin/python -c "import medlab, torch, sys; print('Python', sys.version.split()[0], '| torch', torch.__version__, '| medlab', medlab.__version__)"
	PATH=$(CURDIR)/$(VENV312)/bin:$$PATH $(VENV312)/bin/python -m pytest -q -p no:cacheprovider tests --ignore=tests/browser
	PATH=$(CURDIR)/$(VENV312)/bin:$$PATH $(VENV312)/bin/python -m medlab.bench --smoke $(CHAPTERS)

student: setup
	$(BIN)/python -m medlab.teach student book student

# otter-grader assignments (see book/instructors.md):  make assign CHAPTERS="book/01_concepts.ipynb"
assign: setup
	$(BIN)/python -m medlab.teach assign $(or $(CHAPTERS),$(wildcard book/[0-9]*.ipynb)) assignments

clean:
	rm -rf book/_build student assignments $(VENV312)
