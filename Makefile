# Two entry points: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv on first use and reinstall when pyproject.toml changes.
# Three more for CI and instructors: `make test-browser` (the built pages in headless Chromium),
# `make test-env` (Binder's environment.yml in a fresh venv), `make book-student` (no solutions).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# TensorFlow's C++ start-up chatter goes to stderr; keep pages and logs clean.
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# No progress bars when notebooks run headless (book build, nbval): see rlbook.train.train.
export RLBOOK_PROGRESS := 0

# Tests with their own targets (slow, or needing a built book or Chromium): not part of `make test`.
OWN_TARGETS := --ignore=tests/browser --ignore=tests/test_html_links.py
STUDENT     := _build/student

.PHONY: book book-student test unit lint notebooks test-browser test-env bench clean help

help:
	@echo "make book          build the HTML book into _build/html (executes every notebook)"
	@echo "make test          run the unit tests and execute every notebook with nbval"
	@echo "make book-student  the same book without solutions, into $(STUDENT)/_build/html"
	@echo "make test-browser  open every built page in headless Chromium, check links and the student edition"
	@echo "make test-env      install environment.yml (what Binder builds) in a fresh venv and import what the notebooks import"
	@echo "make lint          ruff over rlbook/, tests/ and the notebooks (settings in pyproject.toml, book/ruff.toml)"
	@echo "make bench         time-to-solve benchmark of every algorithm, seeds 0-4"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	@touch $@

book: $(VENV)/.installed-book
	$(BIN)/jupyter-book build . --warningiserror --keep-going --builder html
	@test -f _build/html/index.html && echo "Book built: _build/html/index.html"

# The student edition: the same sources and execution cache, with sphinx-exercise's
# hide_solutions on, built from a copy of _config.yml into its own output folder. No copies of
# the source notebooks (html_copy_source off): they hold the solutions.
book-student: $(VENV)/.installed-book
	@mkdir -p $(STUDENT)
	$(BIN)/python -c "import os, yaml; c = yaml.safe_load(open('_config.yml')); \
	c['title'] += ' (student edition)'; sphinx = c.setdefault('sphinx', {}); \
	sphinx.setdefault('config', {}).update(hide_solutions=True, html_copy_source=False); \
	sphinx['local_extensions'] = {k: os.path.abspath(v) for k, v in sphinx.get('local_extensions', {}).items()}; \
	yaml.safe_dump(c, open('$(STUDENT)/_config.yml', 'w'), sort_keys=False)"
	$(BIN)/jupyter-book build . --config $(STUDENT)/_config.yml --path-output $(STUDENT) \
	  --warningiserror --keep-going --builder html
	@test -f $(STUDENT)/_build/html/index.html && echo "Student edition built: $(STUDENT)/_build/html/index.html"

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests book --nbval-lax -p no:cacheprovider $(OWN_TARGETS)

unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests $(OWN_TARGETS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check rlbook tests book

# Builds _build/html (and the student edition) first when missing or older than the sources.
test-browser: $(VENV)/.installed-test $(VENV)/.installed-book $(VENV)/.installed-browser
	$(BIN)/python -m pytest tests/browser tests/test_html_links.py -p no:cacheprovider

# Slow (downloads or reuses pip's cache of TensorFlow & co.), so not part of `make test`.
test-env: $(VENV)/.installed-test
	RLBOOK_TEST_ENV=1 $(BIN)/python -m pytest tests/test_environment.py -p no:cacheprovider

notebooks: $(VENV)/.installed-test
	$(BIN)/python -m pytest book --nbval-lax

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/frozenlake.py
	for algo in $$($(BIN)/python -c "from rlbook.bench import ALGOS; print(*ALGOS)"); do \
	  for seed in 0 1 2 3 4; do $(BIN)/python -m rlbook.bench $$algo --seed $$seed; done; done

clean:
	rm -rf _build .pytest_cache
