# Every target installs what it needs into .venv first, so a fresh machine needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lint docs test soak demo bench chat serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check qoder tests benchmarks examples
	$(BIN)/ruff format --check qoder tests benchmarks examples
	$(BIN)/mypy --strict qoder tests

# The documentation site, built strictly: a broken link or reference fails it (into site/).
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

test: lint docs
	$(BIN)/python -m pytest

# Minutes: 20,000 fault-soak turns and 1,500 cancellations; writes the figures into the doc.
soak: install
	$(BIN)/python -m tests.reliability.soak --turns 20000 --cancellations 1500 --write docs/reliability.md

demo: install
	$(BIN)/python -m qoder demo

bench: install
	$(BIN)/python benchmarks/run.py

chat: install
	$(BIN)/python -m qoder chat --local

serve: install
	$(BIN)/python -m qoder serve

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist *.egg-info
