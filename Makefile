# One-command set-up and checks for the book. See README.md.
#   make book   create .venv (pinned), fetch MathJax (npm), execute notebooks, build _build/html
#   make test   every check: unit + property tests, mypy, nbval (strict), zero-warning build,
#               real-browser test of every page (offline)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
MATHJAX := node_modules/mathjax/es5/tex-chtml-full.js
HTML   := _build/html
PORT   ?= 8000
JOBS   ?= 2
# Deterministic hashing for every command below (notebooks keep their inline figures).
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help env book html test test-unit test-types test-notebooks test-build test-browser \
        notebooks serve lab bench lock clean distclean

help:
	@echo "make book     set up .venv and node_modules, execute the notebooks, build $(HTML)"
	@echo "make test     run every test (unit, property, types, nbval, build, browser)"
	@echo "make serve    preview the built site on http://127.0.0.1:$(PORT)"
	@echo "make lab      JupyterLab with hw4lib importable"
	@echo "make notebooks  re-execute the committed notebooks in place (fresh kernels)"
	@echo "make bench    run the benchmarks under benchmarks/ (TORCH=1: against PyTorch)"
	@echo "make lock     re-resolve requirements.in into requirements.lock"
	@echo "make clean    remove _build (distclean: also .venv and node_modules)"

# ---------------------------------------------------------------- environment
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed, got " + sys.version'
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (hw4-book)" >/dev/null
	touch $@

$(MATHJAX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

env: $(STAMP) $(MATHJAX)

# ---------------------------------------------------------------- the book
html: env
	$(BIN)/jupyter-book build . -W -n --keep-going

book: html
	@echo
	@echo "The book is built: open $(CURDIR)/$(HTML)/index.html, or run 'make serve'."

serve: env
	@test -f $(HTML)/index.html || $(MAKE) html
	@echo "Serving $(HTML) on http://127.0.0.1:$(PORT) (Ctrl-C to stop)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(HTML) $(PORT)

lab: env
	$(BIN)/jupyter lab --ip=127.0.0.1 --no-browser --notebook-dir=.

notebooks: env
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
	  --ExecutePreprocessor.record_timing=False chapters/*.ipynb

# ---------------------------------------------------------------- tests
test-unit: env
	$(BIN)/python -m pytest -p no:cacheprovider -q -n $(JOBS) tests --ignore=tests/browser \
	  --doctest-modules hw4lib

test-types: env
	$(BIN)/mypy --strict hw4lib

test-notebooks: env
	$(BIN)/python -m pytest -p no:cacheprovider -q -n $(JOBS) --dist loadfile \
	  --nbval --nbval-current-env chapters --nbval-sanitize-with tests/nbval_sanitize.cfg

# A rebuild after `make book` is served from the execution cache (seconds).
test-build: html

test-browser: test-build
	$(BIN)/python -m pytest -p no:cacheprovider -q tests/browser

test: test-unit test-types test-notebooks test-browser
	@echo "make test: all checks passed"

# TORCH=1 also installs PyTorch 2.13.0 (a local CPU wheel on the project's machines) so that
# bench_residual.py compares against PyTorch's autograd; otherwise it uses `autograd`.
bench: env
	@if [ -n "$${TORCH:-}" ]; then $(BIN)/python -m pip install --quiet torch==2.13.0; fi
	@status=0; for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || status=1; done; \
	  exit $$status

lock:
	rm -rf /tmp/hw4-lock-venv
	$(PYTHON) -m venv /tmp/hw4-lock-venv
	/tmp/hw4-lock-venv/bin/python -m pip install --quiet --upgrade pip
	/tmp/hw4-lock-venv/bin/python -m pip install --quiet -r requirements.in
	{ echo "# Pinned, tested versions of everything in requirements.in (Python 3.11, Linux x86_64)."; \
	  echo "# Regenerate with \`make lock\`; install with \`make env\` (done by \`make book\`)."; \
	  /tmp/hw4-lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf /tmp/hw4-lock-venv

clean:
	rm -rf _build .pytest_cache .hypothesis .mypy_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
