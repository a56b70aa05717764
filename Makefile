# One-command set-up and checks for the book. See README.md.
#   make book   create .venv (pinned), fetch MathJax (npm), execute notebooks, build _build/html
#   make test   every check: unit + property tests, mypy, nbval (strict), zero-warning build,
#               real-browser test of every page (offline), the PDF (when TeX Live is installed)
#   make pdf    the whole book as one PDF (_build/latex/book.pdf), linked from the site
#   make test-slow  the long sweeps and oracle comparisons (pytest -m slow), run by .ci/run
#   make test-portable  nbval (strict) and the unit tests again under other BLAS kernels
#               and one BLAS thread: no committed output may depend on the processor
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
MATHJAX := node_modules/mathjax/es5/tex-chtml-full.js
HTML   := _build/html
PDF    := _build/latex/book.pdf
# Debian's packages for `make pdf` (XeLaTeX, latexmk, fonts) and its test (poppler's tools).
TEXLIVE_DEBS := texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk \
                fonts-freefont-otf poppler-utils
# Their commands, each looked for on its own (`command -v a b` succeeds if any one exists).
TEXLIVE_TOOLS := xelatex latexmk pdftotext pdfimages
TEXLIVE_MISSING := $(strip $(foreach t,$(TEXLIVE_TOOLS),$(if $(shell command -v $(t) 2>/dev/null),,$(t))))
HAVE_TEX := $(if $(TEXLIVE_MISSING),,yes)
PORT   ?= 8000
JOBS   ?= 2
# Deterministic hashing for every command below (notebooks keep their inline figures).
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help env book html pdf test test-unit test-slow test-types test-workflows test-notebooks \
        test-build test-browser test-pdf skip-pdf texlive-debs texlive-missing test-binder test-links \
        test-portable notebooks colab-cell serve lab bench lock clean distclean screenshots

help:
	@echo "make book     set up .venv and node_modules, execute the notebooks, build $(HTML)"
	@echo "make test     run every test (unit, property, types, workflow, nbval, build, browser, PDF)"
	@echo "make pdf      the whole book as $(PDF) (TeX Live: apt-get install $(TEXLIVE_DEBS))"
	@echo "make serve    preview the built site on http://127.0.0.1:$(PORT)"
	@echo "make lab      JupyterLab with hw4lib importable"
	@echo "make test-slow      the long sweeps and oracle comparisons (marked slow)"
	@echo "make test-portable  nbval + unit tests under other BLAS kernels and 1 thread"
	@echo "make notebooks  re-execute the committed notebooks in place (fresh kernels)"
	@echo "make colab-cell BOOK_REPOSITORY_URL=https://github.com/OWNER/REPO  Colab's install cell"
	@echo "make bench    run the benchmarks under benchmarks/ (TORCH=1: against PyTorch)"
	@echo "make lock     re-resolve requirements.in into requirements.lock (and binder/)"
	@echo "make test-binder  build Binder's environment in a fresh venv, run every notebook"
	@echo "make test-links   build the site with and without a repository URL and PDF; check"
	@echo "make screenshots  each chapter's top, answer box, widest equations at 1280/390 px"
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

# Jupyter Book 1's LaTeX builder: Sphinx writes _build/latex/book.tex, then latexmk runs
# XeLaTeX. The site is rebuilt after it (from the cache: seconds) so that it links the PDF.
pdf: env
	@test -z "$(filter xelatex latexmk,$(TEXLIVE_MISSING))" || { echo "make pdf needs TeX" \
	  "Live ($(filter xelatex latexmk,$(TEXLIVE_MISSING)) not found):" \
	  "apt-get install --no-install-recommends $(TEXLIVE_DEBS)"; exit 1; }
	LATEXOPTS="-interaction=nonstopmode -halt-on-error -file-line-error" \
	  $(BIN)/jupyter-book build . --builder pdflatex -W -n --keep-going
	$(MAKE) --no-print-directory html
	@echo
	@echo "The PDF is built: $(CURDIR)/$(PDF) (the site links $(HTML)/book.pdf)."

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
	$(BIN)/nbstripout --keep-output --keep-count --keep-id --unix-newlines chapters/*.ipynb

# Colab's install cell as the first cell of each chapter (_ext/colab_cell.py; MAINTAINING.md).
colab-cell: env
	$(BIN)/python tools/insert_colab_cell.py

# ---------------------------------------------------------------- tests
UNIT := tests --ignore=tests/browser --ignore=tests/publish
test-unit: env
	$(BIN)/python -m pytest -q -n $(JOBS) $(UNIT) --doctest-modules hw4lib

# The tests marked slow (pyproject.toml leaves them out of every other run).
test-slow: env
	$(BIN)/python -m pytest -q -n $(JOBS) -m slow $(UNIT)

test-types: env
	$(BIN)/mypy --strict hw4lib

# The GitHub Actions workflow (.github/workflows/): actionlint from requirements.lock.
test-workflows: env
	$(BIN)/actionlint .github/workflows/*.yml

test-notebooks: env
	$(BIN)/python -m pytest -p no:cacheprovider -q -n $(JOBS) --dist loadfile \
	  --nbval --nbval-current-env chapters --nbval-sanitize-with tests/nbval_sanitize.cfg

# A rebuild after `make book` is served from the execution cache (seconds).
test-build: html

test-browser: test-build
	$(BIN)/python -m pytest -p no:cacheprovider -q tests/browser

# The PDF read back with pdftotext and pdfimages (tests/publish/test_pdf.py).
test-pdf: pdf
	$(BIN)/python -m pytest -p no:cacheprovider -q tests/publish/test_pdf.py

# Each chapter's first screen, answer box and widest equations at 1280 and 390 px.
screenshots: test-build
	$(BIN)/python tools/screenshots.py

texlive-debs:  # the list, for .ci/run
	@echo $(TEXLIVE_DEBS)

texlive-missing:  # the TeX Live and poppler commands not found, for .ci/run
	@echo $(TEXLIVE_MISSING)

# Binder's environment built from binder/ alone in a fresh venv; every notebook run in it.
test-binder: env
	$(BIN)/python -m pytest -p no:cacheprovider -q tests/publish/test_binder.py

# The site built both ways, with a repository URL and a PDF and with neither
# (in _build/links/), then every page of both in the browser (tests/browser/test_browser.py:
# links, console, MathJax, layout). The rest of tests/browser checks what the two builds
# share with _build/html (furniture, the checks' own bite): make test runs it there.
test-links: env
	$(BIN)/python -m pytest -q tests/publish/test_links.py
	for site in with without; do \
	  BOOK_HTML=_build/links/$$site/_build/html BOOK_SCREENSHOTS=_build/links/$$site/screenshots \
	    $(BIN)/python -m pytest -q tests/browser/test_browser.py; \
	done

skip-pdf:
	@echo "make test: SKIPPING test-pdf: TeX Live is not installed" \
	  "(apt-get install --no-install-recommends $(TEXLIVE_DEBS); .ci/run does it)"

# test-pdf runs before test-browser, so the browser sees the site with its PDF link.
test: test-unit test-types test-workflows test-notebooks $(if $(HAVE_TEX),test-pdf,skip-pdf) test-browser
	@echo "make test: all checks passed$(if $(HAVE_TEX),, (test-pdf SKIPPED: no TeX Live))"

# test-unit and test-notebooks once per OpenBLAS kernel (Haswell, SkylakeX, Prescott with
# numpy's AVX loops off) and with one BLAS thread; see tools/test_portable.sh.
test-portable: env
	tools/test_portable.sh

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
	/tmp/hw4-lock-venv/bin/python tools/binder_requirements.py  # binder/requirements.txt
	rm -rf /tmp/hw4-lock-venv

clean:
	rm -rf _build .pytest_cache .hypothesis .mypy_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
