# The two commands the README promises: `make run` and `make test` (and `make bench`).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test bench install install-test system-packages lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# constraints.txt locks every package (direct and indirect) to the versions tested.
# The argos extra lets Argos Translate packages installed on this machine be used.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[argos]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[argos,test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Optional for running (translations need Apertium), required for the tests.
system-packages:
	scripts/install-system-packages.sh

run: install
	$(BIN)/reeldocs serve

test: install-test system-packages
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/pytest $(PYTEST_ARGS)
	url=$$(scripts/start-postgres15.sh) && REELDOCS_DATABASE_URL=$$url $(BIN)/pytest tests/db $(PYTEST_ARGS)

bench: install-test system-packages
	$(BIN)/python -m bench.run

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
