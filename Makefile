# Two entry points: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv on first use and install requirements.lock (exact versions) into it, then
# rlbook itself; they reinstall when the lock or pyproject.toml changes.
# More for CI and instructors: `make test-browser` (the built pages in headless Chromium),
# `make test-env` (Binder's environment.yml in a fresh venv), `make book-student` (no solutions),
# `make student` (regenerate student/ and the launch buttons' plain notebooks colab/ from book/)
# and `make test-student` (run the student notebooks with every exercise stub left in).
# For maintainers: `make lock` / `make lock-upgrade` (re-resolve the lock), `make test-latest`
# (the newest versions pyproject.toml allows) and `make test-colab` (the Colab install cell).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The lock: pyproject.toml's dependencies plus these extras, resolved by uv for Binder's and
# CI's Python. environment.yml's pip list is generated from it (tools/lockfile.py).
LOCK        := requirements.lock
LOCK_EXTRAS := book test browser lab box2d
LOCK_PYTHON := 3.11
UV_VERSION  := 0.13.9
comma := ,
space := $(subst ,, )
# TensorFlow's C++ start-up chatter goes to stderr; keep pages and logs clean.
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# No progress bars when notebooks run headless (book build, nbval): see rlbook.train.train.
export RLBOOK_PROGRESS := 0

# pytest workers (pytest-xdist) for `make test` and `make test-student`. A notebook, and most
# tests, keep one core busy, so two workers take about half the time on a 2-core machine. Each
# notebook file stays on one worker, in order (--dist loadfile). More workers need more memory
# (each runs TensorFlow and a kernel); `make test WORKERS=1` runs everything in one process.
WORKERS ?= 2
XDIST    = $(if $(filter-out 0 1,$(WORKERS)),-n $(WORKERS) --dist loadfile)

# Tests with their own targets (slow, or needing a built book or Chromium): not part of `make test`.
OWN_TARGETS := --ignore=tests/browser --ignore=tests/test_html_links.py
STUDENT     := _build/student
# One execution per notebook: nbval's runs (make test, make notebooks, make test-student) save
# each notebook that passes, with its outputs, into $(EXECUTED); make book and make book-student
# put those whose code is unchanged into the build's execution cache, and execute only the rest
# (tools/executed.py).
EXECUTED    := _build/executed
NBVAL       := RLBOOK_EXECUTED=$(EXECUTED) $(BIN)/python -m pytest --nbval-lax -p no:cacheprovider

.PHONY: book book-student student test test-student unit lint notebooks test-browser test-env \
        test-latest test-colab test-robust lock lock-upgrade bench clean help

help:
	@echo "make book          build the HTML book into _build/html (executes every notebook)"
	@echo "make test          ruff, then the unit tests, then every notebook executed with nbval"
	@echo "make unit          the unit tests alone (tests/, without the browser and link tests)"
	@echo "make notebooks     the notebooks of book/ alone, executed with nbval"
	@echo "make book-student  the student edition (student/, no solutions), into $(STUDENT)/_build/html"
	@echo "make student       regenerate student/ (no solutions) and colab/ (plain Markdown) from book/"
	@echo "make test-student  run every student notebook with its exercise stubs left in (nbval)"
	@echo "make test-browser  open every built page in headless Chromium, check links and the student edition"
	@echo "make test-env      install environment.yml (what Binder builds) in a fresh venv and import what the notebooks import"
	@echo "make lint          ruff check over rlbook/, tests/ and the notebooks, ruff format --check over rlbook/, tests/ and tools/ (settings in pyproject.toml, book/ruff.toml)"
	@echo "make bench         time-to-solve benchmark of every algorithm, seeds 0-4"
	@echo "make test-robust   every chapter's claims over shifted seeds, oneDNN on/off, 1/2 threads (~1.5 h)"
	@echo "make lock          re-resolve $(LOCK) after a change to pyproject.toml, regenerate environment.yml"
	@echo "make lock-upgrade  the same, moving every package to the newest version pyproject.toml allows"
	@echo "make test-latest   the unit tests and chapters 2-3 in a fresh venv with the newest allowed versions"
	@echo "make test-colab    Colab's install cell in a fresh venv with Colab-like TensorFlow/NumPy/matplotlib"
	@echo "make clean         remove _build (the built books, the execution cache) and .pytest_cache"
	@echo "make help          this list"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Everything the targets need comes from the one lock (it covers every extra they use), then
# rlbook itself without dependencies.
$(VENV)/.installed: $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# The lock tool, pinned so that every maintainer's `make lock` writes the same file.
$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# Resolve for Binder's and CI's Python on Linux, whatever machine runs this. `make lock` keeps
# the versions already in the lock where pyproject.toml still allows them; `make lock-upgrade`
# moves everything to the newest (run `make test-latest` first).
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml $(addprefix --extra ,$(LOCK_EXTRAS)) \
  --python-version $(LOCK_PYTHON) --python-platform x86_64-manylinux_2_28 \
  --custom-compile-command "make lock" --quiet -o $(LOCK)

lock: $(BIN)/uv
	$(UV_COMPILE)
	$(BIN)/python tools/lockfile.py environment

lock-upgrade: $(BIN)/uv
	$(UV_COMPILE) --upgrade
	$(BIN)/python tools/lockfile.py environment

book: $(VENV)/.installed
	$(BIN)/python tools/executed.py _build/.jupyter_cache book
	$(BIN)/jupyter-book build . --warningiserror --keep-going --builder html
	@test -f _build/html/index.html && echo "Book built: _build/html/index.html"

# The student edition is built from student/, the notebooks without solutions that
# tools/student.py generates from book/ (committed, kept in sync by
# tests/test_student_edition.py). Its own _config.yml (title, hide_solutions, no copies of the
# sources) and _toc.yml (pages student/NN_name) go into $(STUDENT); the launch buttons are built
# from the page's path, so Binder and Colab open colab/student/NN_name.ipynb (plain Markdown).
book-student: $(VENV)/.installed
	$(BIN)/python tools/student.py --check
	$(BIN)/python tools/student.py --book-config $(STUDENT)
	$(BIN)/python tools/executed.py $(STUDENT)/.jupyter_cache student
	$(BIN)/jupyter-book build . --config $(STUDENT)/_config.yml --toc $(STUDENT)/_toc.yml \
	  --path-output $(STUDENT) --warningiserror --keep-going --builder html
	@test -f $(STUDENT)/_build/html/index.html && echo "Student edition built: $(STUDENT)/_build/html/index.html"

# Regenerate every generated edition after editing a notebook in book/ (then commit them all):
# student/ (MyST, no solutions: the student HTML book) and the plain-Markdown notebooks that the
# launch buttons open, colab/book/ and colab/student/ (tools/plain_markdown.py).
student: $(VENV)/.installed
	$(BIN)/python tools/student.py

# ruff first (seconds), then the tests and the notebooks (many minutes).
test: $(VENV)/.installed
	$(BIN)/ruff check rlbook tests book
	$(BIN)/ruff format --check rlbook tests tools
	$(NBVAL) tests book $(XDIST) $(OWN_TARGETS)

# "Run all" on every student notebook with the stubs left in: each check says "not yet" and no
# later cell may crash. Its own target (it executes every chapter once more), run by .ci/run.
test-student: $(VENV)/.installed
	$(BIN)/python tools/student.py --check
	$(NBVAL) student $(XDIST)

# The robustness sweep (tools/robust.py): every chapter and the training tests on seeds shifted by
# 0-400 (RLBOOK_SEED_OFFSET) under oneDNN on and off and one and two TensorFlow threads; prints each
# claim's pass count and worst margin. Too slow for .ci/run (about 1.5 hours on 2 cores): run it
# before a release and after changing a chapter's settings. ROBUST_ARGS="--chapters 03" for less.
test-robust: $(VENV)/.installed
	$(BIN)/python tools/robust.py $(ROBUST_ARGS)

unit: $(VENV)/.installed
	$(BIN)/python -m pytest tests $(OWN_TARGETS)

lint: $(VENV)/.installed
	$(BIN)/ruff check rlbook tests book
	$(BIN)/ruff format --check rlbook tests tools

# Builds _build/html (and the student edition) first when missing or older than the sources.
test-browser: $(VENV)/.installed
	$(BIN)/python -m pytest tests/browser tests/test_html_links.py -p no:cacheprovider

# Slow (downloads or reuses pip's cache of TensorFlow & co.), so not part of `make test`.
test-env: $(VENV)/.installed
	RLBOOK_TEST_ENV=1 $(BIN)/python -m pytest tests/test_environment.py -p no:cacheprovider

# The rot check (not part of .ci/run: an upstream release must not block a landing). A fresh
# venv gets the newest versions pyproject.toml allows, with the same extras as the lock; it prints
# them and what differs from the lock, then runs the unit tests and one tabular and one neural
# chapter. When it passes, `make lock-upgrade` records those versions.
LATEST        := _build/latest-venv
LATEST_PYTHON ?= $(PYTHON)
LATEST_CHAPTERS := book/02_tabular_q_learning.ipynb book/03_dqn.ipynb
test-latest:
	rm -rf $(LATEST)
	$(LATEST_PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet -e ".[$(subst $(space),$(comma),$(LOCK_EXTRAS))]"
	$(LATEST)/bin/python -m pip freeze --all --exclude-editable > $(LATEST)/freeze.txt
	@$(LATEST)/bin/python -c "import sys, importlib.metadata as m; \
	print('=== newest versions pyproject.toml allows today: Python', sys.version.split()[0]); \
	[print('   ', p, m.version(p)) for p in ('tensorflow', 'keras', 'gymnasium', 'numpy', \
	'ale-py', 'matplotlib', 'ipywidgets', 'jupyter-book', 'myst-nb', 'sphinx')]"
	$(LATEST)/bin/python tools/lockfile.py compare $(LATEST)/freeze.txt
	env -u PYTHONPATH $(LATEST)/bin/python -m pytest tests -p no:cacheprovider $(OWN_TARGETS)
	env -u PYTHONPATH $(LATEST)/bin/python -m pytest $(LATEST_CHAPTERS) --nbval-lax -p no:cacheprovider
	@echo "test-latest passed: \`make lock-upgrade\` records these versions in $(LOCK)"

# Colab's install cell as Colab runs it (tests/test_colab_install.py): Colab-like TensorFlow,
# NumPy and matplotlib first (tests/colab_preinstalled.txt), then the notebooks' own `%pip
# install` line against this checkout; nothing preinstalled may change; then chapter 1 with nbval.
COLAB_PYTHON ?= $(PYTHON)
test-colab: $(VENV)/.installed
	RLBOOK_TEST_COLAB=1 RLBOOK_COLAB_PYTHON="$$(command -v $(COLAB_PYTHON))" \
	  $(BIN)/python -m pytest tests/test_colab_install.py -p no:cacheprovider -rP

notebooks: $(VENV)/.installed
	$(NBVAL) book

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/frozenlake.py
	for algo in $$($(BIN)/python -c "from rlbook.bench import VARIANTS; print(*VARIANTS)"); do \
	  for seed in 0 1 2 3 4; do $(BIN)/python -m rlbook.bench $$algo --seed $$seed; done; done

clean:
	rm -rf _build .pytest_cache
