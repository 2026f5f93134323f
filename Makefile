# The one entry point for the project's tasks: `make bench`, `make profile SCENARIO=list_50`, ...
# Every task runs with the project's venv when there is one (python3 -m venv .venv, then
# .venv/bin/pip install -e '.[dev]'), else with python3 on PATH.
PYTHON := $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

# The load benchmark (docs/performance.md) on PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL,
# else postgres@127.0.0.1:5432. BENCH_ARGS adds options: make bench BENCH_ARGS="--compare fastapi".
BENCH_ARGS ?=
# The scenario `make profile` records (python -m integration_tests.load --help lists them) and
# where its flame graph goes.
SCENARIO ?= get_one
PROFILE_DIR ?= build/profiles

.PHONY: test lint openapi bench bench-smoke profile

# The test suite: on TEST_DATABASE_URL (a fresh PostgreSQL database) when set, else on SQLite.
# PYTEST_ARGS adds options: make test PYTEST_ARGS="-k list -x".
PYTEST_ARGS ?=
test:
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# Style, formatting and types, exactly as CI checks them.
lint:
	$(PYTHON) -m ruff check service unit_tests integration_tests
	$(PYTHON) -m ruff format --check service unit_tests integration_tests
	$(PYTHON) -m mypy

# service/openapi.json from its hand-written source service/openapi.yaml.
openapi:
	$(PYTHON) -m unit_tests.openapi_document

bench:
	$(PYTHON) -m integration_tests.load $(BENCH_ARGS)

# What CI runs: every scenario briefly (about 30 s), failing on any error.
bench-smoke:
	$(PYTHON) -m integration_tests.load --smoke

# A py-spy flame graph (SVG) of one scenario under load; the path is printed at the end.
profile:
	$(PYTHON) -m integration_tests.load --scenarios $(SCENARIO) --runs 1 --profile $(PROFILE_DIR) $(BENCH_ARGS)

# The lock files: exact, hashed versions the Docker images install. `make lock` after any change
# to the dependencies in pyproject.toml. requirements/production.txt is what the api image
# installs (runtime and the production extra), requirements/test.txt what the integration-tests
# image adds (the test extra), at the same versions for the packages both share. One universal
# resolution serves every Python the image may run (3.11 in CI's stand-in, 3.12 in the official
# python:3.12-slim), against PyPI only. Versions already pinned stay unless pyproject.toml
# excludes them; `make lock UPGRADE=--upgrade` moves everything to the newest allowed.
UV := $(if $(wildcard .venv/bin/uv),.venv/bin/uv,uv)
UPGRADE ?=
COMPILE = $(UV) pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--quiet --custom-compile-command "make lock" $(UPGRADE)

.PHONY: lock check-lock

lock:
	$(COMPILE) --extra production -o requirements/production.txt
	$(COMPILE) --extra production --extra test -c requirements/production.txt \
		-o requirements/test.txt

# CI: the committed lock files are what `make lock` makes of pyproject.toml.
check-lock: lock
	@git diff --exit-code -- requirements/ \
		|| { echo "requirements/ does not match pyproject.toml: run make lock, commit it" >&2; exit 1; }
