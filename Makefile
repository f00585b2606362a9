# chatapp: `make run` serves it, `make test` tests it. Both set up whatever is missing first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT

.PHONY: run test test-fast lint lint-js system-deps setup deps npm db clean lock

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# requirements.in and requirements-dev.in name what chatapp needs; `make lock` compiles them into
# requirements.txt and requirements-dev.txt: every package, direct or not, pinned with its hashes,
# so that every install is the same set. Pins already there are kept (pip-compile only moves one
# when an .in file asks for another version); the machine's own indexes are not written out.
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links

lock: $(VENV)/.deps
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

deps: $(VENV)/.deps node_modules/.package-lock.json

db: deps
	$(PY) -m flask --app wsgi db upgrade
	$(PY) -m flask --app wsgi seed-demo

run: db
	$(PY) wsgi.py

# The whole suite needs Chromium, Redis, PostgreSQL and nginx too: scripts/system-deps.sh
# installs what is missing (as root), or stops at once with the command that would.
system-deps:
	bash scripts/system-deps.sh

# ruff (lint and import order) and mypy, configured in pyproject.toml, and eslint (lint-js); `make test` runs them first.
lint: deps lint-js
	$(VENV)/bin/ruff check chatapp tests wsgi.py
	$(VENV)/bin/mypy

test: system-deps deps lint
	$(PY) -m pytest

# eslint's recommended rules on the browser scripts (eslint.config.js).
lint-js: node_modules/.package-lock.json
	npx eslint chatapp/static/js

# The inner loop: unit, HTTP and socket-test-client tests; no browser, live server or cluster.
# They run in parallel, one worker per core (pytest-xdist): each test has its own temporary
# database and no port. The full suite stays serial: live, browser and cluster tests start servers.
FAST_TESTS := -m "not browser and not live and not cluster" --ignore=tests/browser --ignore=tests/cluster

test-fast: deps
	$(PY) -m pytest -n auto $(FAST_TESTS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache

# The benchmark (bench/, docs/performance.md): `make bench` runs it in full (under 10
# minutes), `make bench-smoke` in seconds. Results land in bench/results/.
.PHONY: bench bench-smoke bench-deps
BENCH_NPM := bench/loadgen/node_modules/.package-lock.json bench/node-baseline/node_modules/.package-lock.json

bench/%/node_modules/.package-lock.json: bench/%/package.json bench/%/package-lock.json
	cd bench/$* && npm ci --no-audit --no-fund

bench-deps: $(VENV)/.deps $(BENCH_NPM)

bench: bench-deps
	$(PY) bench/bench.py --mode full

bench-smoke: bench-deps
	$(PY) bench/bench.py --mode smoke

# Past one machine (docs/deployment.md): Redis, PostgreSQL, three app processes and nginx,
# all on 127.0.0.1 in a temporary folder; prints the URL and the admin password; Ctrl-C
# stops everything. Needs redis-server, postgresql and nginx (apt-get install ...).
.PHONY: cluster
cluster: deps
	$(PY) scripts/cluster.py --processes 3

# Translations (babel.cfg): `make translations` re-extracts the marked strings and merges
# them into chatapp/translations/*/messages.po; translate the new entries, tests/test_i18n.py
# fails until every one has its Chinese. The .mo files are compiled at app start.
.PHONY: translations
translations: deps
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output -o /tmp/chatapp-messages.pot .
	$(VENV)/bin/pybabel update -i /tmp/chatapp-messages.pot -d chatapp/translations --no-wrap --no-fuzzy-matching --ignore-obsolete
	# The browser scripts' strings (babel-js.cfg: _(), ngettext() and pgettext()) go to the `js` domain, js.po.
	$(VENV)/bin/pybabel extract -F babel-js.cfg --no-default-keywords -k _ -k ngettext:1,2 -k pgettext:1c,2 --no-location --sort-output -o /tmp/chatapp-js.pot .
	$(VENV)/bin/pybabel update -D js -i /tmp/chatapp-js.pot -d chatapp/translations --no-wrap --no-fuzzy-matching --ignore-obsolete

# The README's pictures (docs/screenshots/), made by Playwright in Chromium from a throwaway
# server, so they show what the code does today (tests/test_screenshots.py keeps the list honest).
.PHONY: screenshots
screenshots: deps
	$(PY) scripts/screenshots.py
	$(PY) scripts/classroom_screenshots.py
	$(PY) scripts/messaging_screenshots.py
