# portaladmin — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# Find a Python >= 3.12 (the .python-version file makes pyenv's python3 resolve to 3.13 here).
PYTHON := $(shell for p in python3 python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then command -v $$p; break; fi; done)

.PHONY: run test e2e venv dev-deps migrate seed lint bench clean check-python

check-python:
	@if [ -z "$(PYTHON)" ]; then echo "portaladmin needs Python >= 3.12 (python3.12 or python3.13 on PATH, or pyenv)." >&2; exit 1; fi

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py demo_setup --base-url "$${PORTALADMIN_SELF_URL:-http://127.0.0.1:$(PORT)}"

# Web server + Celery worker + Celery beat in one foreground command (Ctrl-C stops all three).
run: seed
	$(BIN)/python manage.py devserver --port $(PORT)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

e2e: venv
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check portaladmin tests bench
	$(BIN)/bandit -q -c pyproject.toml -r portaladmin

BENCHES := bench/bench_dataset_list.py bench/bench_fleet_search.py bench/bench_invites.py bench/bench_publish_monitor.py \
	bench/bench_flaky_publish.py bench/bench_status_scan.py bench/bench_bulk_metadata.py bench/bench_detection_lag.py

# With DATABASE_URL/REDIS_URL set, every benchmark runs on the real stack: the ones that start a web server and a
# worker (publish monitor part 2, flaky publish) use PostgreSQL and the Redis broker, bench_detection_lag uses them
# in-process, and the ones needing a fresh database create <name>_list, _fleet, _scan, _invites, _metadata beside
# the given one. Without them, fresh SQLite files. BENCH_SCALE=0.1 runs the scalable ones on a tenth of the data.
bench: venv
	@for f in $(BENCHES); do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf var $(VENV)
