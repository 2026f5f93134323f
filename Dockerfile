# One Dockerfile, two images:
#   --target api                (the default, last stage) the API, lean: no tests, no pip
#   --target integration-tests  the same runtime plus pytest/httpx and integration_tests/
# Works with Docker 19's classic builder (no BuildKit syntax).
ARG BASE_IMAGE=python:3.12-slim

# --- runtime base: what both final images share -------------------------------------------
FROM ${BASE_IMAGE} AS base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin app \
    && mkdir /app \
    && chown app:app /app
WORKDIR /app

# --- build: the virtual environment, made with the base image's pip -------------------------
# The venv has no pip of its own, so nothing that installs packages reaches the final images.
FROM base AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=
RUN python -m venv --without-pip /opt/venv
WORKDIR /src
# Dependencies first, at the exact versions and hashes of the lock file (`make lock` writes it
# from pyproject.toml), so that a code change reuses this layer and every build installs the same.
COPY requirements/production.txt ./requirements/
RUN pip --python /opt/venv/bin/python install --require-hashes -r requirements/production.txt
COPY pyproject.toml README.md ./
COPY service ./service
# Only the service itself: its dependencies are all installed above.
# hadolint ignore=DL3013
RUN pip --python /opt/venv/bin/python install --no-deps . \
    && rm -rf build ./*.egg-info

FROM build AS build-tests
COPY requirements/test.txt ./requirements/
RUN pip --python /opt/venv/bin/python install --require-hashes -r requirements/test.txt

# --- integration-tests: runs the suite against $API_URL -------------------------------------
FROM base AS integration-tests
# The curl scripts' test runs them with bash, curl and jq; the distribution's current ones.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl jq \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build-tests /opt/venv /opt/venv
COPY pyproject.toml ./
COPY integration_tests ./integration_tests
COPY compose/wait-for-api.py /usr/local/bin/wait-for-api
USER 10001:10001
HEALTHCHECK NONE
# `docker-compose run` does not wait for a healthy api; this entrypoint does, then runs CMD.
ENTRYPOINT ["python", "/usr/local/bin/wait-for-api"]
# Reference clients (json-server, from npm) are CI's: the image has no Node. So are the tests
# that start a PostgreSQL server of their own (private_postgres): it has no PostgreSQL.
CMD ["pytest", "-p", "no:cacheprovider", "-m", "not reference_client and not private_postgres", \
     "integration_tests"]

# --- api: the default image ------------------------------------------------------------------
FROM base AS api
COPY --from=build /opt/venv /opt/venv
# Without DATABASE_URL it serves an SQLite file in /app, so `docker run -p 8000:8000` works.
ENV HOST=0.0.0.0 \
    PORT=8000
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["python", "-m", "service"]
