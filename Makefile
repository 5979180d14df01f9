# Shelf: `make run` serves the site and runs its worker, `make dev` does the same for
# development, `make test` runs every test, `make bench` measures it. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Where `make run` and `make dev` listen: this machine only; HOST=0.0.0.0 for the local network.
HOST ?= 127.0.0.1
HTMX_VERSION := 4.0.1
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run dev prepare test bench lint chromium wrk htmx clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable ".[test]"
	touch $@ $(VENV)/.installed

# `make run` is Shelf as it runs at home: gunicorn (project/gunicorn.py, as the Procfile's
# `web:`) with DEBUG off; `make dev` is Django's server, with DEBUG and reloading on changes.
# Both keep a secret key in .secret_key (made on first run, never committed) unless SECRET_KEY
# is set, and start the worker beside the server.
run dev: export HOST := $(HOST)
run dev: export PORT := $(PORT)
run dev: export SECRET_KEY_FILE ?= $(CURDIR)/.secret_key
run: export DEBUG := 0
dev: export DEBUG := 1

prepare: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	@# It only adds titles that are missing, and a start never stops on it.
	$(BIN)/python manage.py load_demo_catalog || echo "The demo catalog was not loaded (see above); Shelf starts without it." >&2
	@$(BIN)/python manage.py startup_notes

# The worker runs in the background and stops with the web server: on Ctrl-C, or when the
# server exits. --no-reload keeps it one process, so killing its pid ends it all.
run: prepare
	$(BIN)/python manage.py worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(BIN)/gunicorn -c project/gunicorn.py project.wsgi

dev: prepare
	$(BIN)/python manage.py worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(BIN)/python manage.py runserver $(if $(findstring :,$(HOST)),[$(HOST)],$(HOST)):$(PORT)

test: $(VENV)/.installed-test chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# Shelf at scale, on SQLite and on PostgreSQL (127.0.0.1:5432, user postgres): builds or
# reuses the scale data, prints one table, writes docs/benchmark.json. BENCH_ARGS=--help
# The harness is the bench/ package, loaded only by its own settings.
bench: $(VENV)/.installed wrk
	DJANGO_SETTINGS_MODULE=bench.settings $(BIN)/python manage.py bench $(BENCH_ARGS)

# Load and faults (issue 12): a minute of mixed load on the Procfile's gunicorn and worker,
# SIGKILL mid-load, a wrong-password flood; SQLite and PostgreSQL. LOADFAULT_ARGS=--help
.PHONY: loadfault
loadfault: $(VENV)/.installed
	$(BIN)/python bench/loadfault.py $(LOADFAULT_ARGS)

# The load generator for `make bench`, from the system's packages.
wrk:
	@if command -v wrk >/dev/null; then \
		echo "wrk: $$(command -v wrk)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else \
		echo "make bench needs wrk: install it with your package manager (apt, brew, dnf)." >&2; \
		exit 1; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The e2e tests use the system Chromium when there is one (e2e/conftest.py);
# elsewhere Playwright's own build, which needs a download.
chromium: $(VENV)/.installed-test
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "Chromium: $(CHROMIUM)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		$(BIN)/playwright install chromium; \
	fi

# Refresh the pinned htmx from the npm registry: make htmx HTMX_VERSION=4.x.y
htmx:
	rm -rf .htmx-tmp && mkdir .htmx-tmp
	cd .htmx-tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && tar xzf htmx.org-$(HTMX_VERSION).tgz
	rm -f static/vendor/htmx-*.min.js
	cp .htmx-tmp/package/dist/htmx.min.js static/vendor/htmx-$(HTMX_VERSION).min.js
	rm -rf .htmx-tmp
	@echo "Pinned htmx $(HTMX_VERSION); update the <script> in templates/base.html."

clean:
	rm -rf $(VENV) test-results .pytest_cache .ruff_cache *.egg-info bench.sqlite3* .test-db.sqlite3*
