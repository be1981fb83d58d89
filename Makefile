# Two entry points do all set-up on a fresh machine (see README):
#   make demo   install into .venv and run the main job on bundled defaults
#   make test   install into .venv and run lint, types, docs and the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck docs pytest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scoru demo

lint: $(STAMP)
	$(BIN)/ruff check spec model checks executable tests bench
	$(BIN)/ruff format --check spec model checks

typecheck: $(STAMP)
	$(BIN)/mypy spec model checks

docs: $(STAMP)
	mkdir -p docs/_build
	$(BIN)/scoru check --jobs 2 --json docs/_build/check-results.json
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

test: lint typecheck docs pytest

clean:
	rm -rf $(VENV) docs/_build
