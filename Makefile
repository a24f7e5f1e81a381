# Two entry points: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv on first use and reinstall when pyproject.toml changes.
# More for CI and instructors: `make test-browser` (the built pages in headless Chromium),
# `make test-env` (Binder's environment.yml in a fresh venv), `make book-student` (no solutions),
# `make student` (regenerate the solution-free notebooks student/ from book/) and `make test-student`
# (run them with every exercise stub left in).
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

.PHONY: book book-student student test test-student unit lint notebooks test-browser test-env bench clean help

help:
	@echo "make book          build the HTML book into _build/html (executes every notebook)"
	@echo "make test          run the unit tests and execute every notebook with nbval"
	@echo "make book-student  the student edition (student/, no solutions), into $(STUDENT)/_build/html"
	@echo "make student       regenerate the solution-free notebooks student/ from book/"
	@echo "make test-student  run every student notebook with its exercise stubs left in (nbval)"
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

# The student edition is built from student/, the notebooks without solutions that
# rlbook/exercises/student.py generates from book/ (committed, kept in sync by
# tests/test_student_edition.py). Its own _config.yml (title, hide_solutions, no copies of the
# sources) and _toc.yml (pages student/NN_name) go into $(STUDENT); the launch buttons are built
# from the page's path, so Binder and Colab open student/NN_name.ipynb.
book-student: $(VENV)/.installed-book
	$(BIN)/python -m rlbook.exercises.student --check
	$(BIN)/python -m rlbook.exercises.student --book-config $(STUDENT)
	$(BIN)/jupyter-book build . --config $(STUDENT)/_config.yml --toc $(STUDENT)/_toc.yml \
	  --path-output $(STUDENT) --warningiserror --keep-going --builder html
	@test -f $(STUDENT)/_build/html/index.html && echo "Student edition built: $(STUDENT)/_build/html/index.html"

# Regenerate student/ after editing a notebook in book/ (then commit both).
student: $(VENV)/.installed-test
	$(BIN)/python -m rlbook.exercises.student

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests book --nbval-lax -p no:cacheprovider $(OWN_TARGETS)

# "Run all" on every student notebook with the stubs left in: each check says "not yet" and no
# later cell may crash. Its own target (it executes every chapter once more), run by .ci/run.
test-student: $(VENV)/.installed-test
	$(BIN)/python -m rlbook.exercises.student --check
	$(BIN)/python -m pytest student --nbval-lax -p no:cacheprovider

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
