# Two entry points: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# TensorFlow's C++ start-up chatter goes to stderr; keep pages and logs clean.
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# No progress bars when notebooks run headless (book build, nbval): see rlbook.train.train.
export RLBOOK_PROGRESS := 0

.PHONY: book test unit notebooks bench clean help

help:
	@echo "make book   build the HTML book into _build/html (executes every notebook)"
	@echo "make test   run the unit tests and execute every notebook with nbval"
	@echo "make bench  time-to-solve benchmark of every algorithm, seeds 0-4"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	@touch $@

book: $(VENV)/.installed-book
	$(BIN)/jupyter-book build . --warningiserror --keep-going --builder html
	@test -f _build/html/index.html && echo "Book built: _build/html/index.html"

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests book --nbval-lax -p no:cacheprovider

unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests

notebooks: $(VENV)/.installed-test
	$(BIN)/python -m pytest book --nbval-lax

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/frozenlake.py
	for algo in $$($(BIN)/python -c "from rlbook.bench import ALGOS; print(*ALGOS)"); do \
	  for seed in 0 1 2 3 4; do $(BIN)/python -m rlbook.bench $$algo --seed $$seed; done; done

clean:
	rm -rf _build .pytest_cache
