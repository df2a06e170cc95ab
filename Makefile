# The two commands: `make run` (set up and serve the demo) and `make test` (set up and run the suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_ENV := DEBUG=1
HOST ?= 127.0.0.1:8000

.PHONY: run setup demo test test-postgres lint format bench bench-scale clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_demo

run: demo
	@echo "Serving the demo at http://$(HOST)/ (Ctrl+C to stop)"
	$(DEV_ENV) $(PY) manage.py runserver $(HOST)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: setup
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tracker} $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) benchmarks/bench_parser.py

# Builds national datasets on PostgreSQL (BENCH_PG, default postgres://postgres@127.0.0.1:5432),
# once per size, serves them with gunicorn and prints the tables. SIZES="1000 100000" for less;
# PAGES="dashboard,my actions" times only those pages (see benchmarks/bench_scale.py).
SIZES ?= 1000 100000 1000000
PAGES ?=
bench-scale: setup
	$(PY) benchmarks/bench_scale.py run $(SIZES) $(if $(PAGES),--pages "$(PAGES)")

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles media
