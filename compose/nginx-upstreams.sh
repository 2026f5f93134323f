#!/bin/sh
# nginx in front of several API replicas: this script is the nginx container's command.
#
# nginx resolves the names in an `upstream` block once, when it loads its configuration; a
# replica that is replaced (restarted, recreated, scaled) may come back with another address.
# Open-source nginx re-resolves an upstream server only from 1.27.3 on (`server ... resolve`),
# and the stand-in image runs Debian's 1.22, so this script does it for any version: once a
# second it resolves the API service's name (Docker's DNS answers with every running replica),
# asks each address for /health/ready, writes one `server` line per ready replica into the file
# that compose/nginx.conf includes in its upstream block, and reloads nginx gracefully when the
# set changed. Readiness, not mere presence, because a replica is in DNS from the moment its
# container starts (before it has migrated and listens) until it has stopped (after it has
# drained); a draining replica answers 503 at once and keeps serving for DRAIN_DELAY_SECONDS,
# which is longer than one round of this loop, so nginx stops sending it new requests before it
# stops accepting them.
#
# POSIX sh with getent and curl, which the official nginx images (Debian and Alpine) ship.
set -eu

service=${UPSTREAM_SERVICE:-api}
port=${UPSTREAM_PORT:-8000}
interval=${UPSTREAM_INTERVAL_SECONDS:-1}
servers_file=/etc/nginx/upstreams/$service.conf

log() { printf '%s nginx-upstreams: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# The `server` lines for the replicas that are ready, sorted; all resolved ones when none is
# ready (the database is down, say: the API's own 503s are better than nginx's 502s); a
# placeholder marked down when the name does not resolve at all (no replica is running).
upstream_servers() {
    addresses=$(getent ahostsv4 "$service" 2>/dev/null | awk '{ print $1 }' | sort -u)
    ready=
    for address in $addresses; do
        if curl -fsS -o /dev/null --max-time 2 -H "Host: $service" \
            "http://$address:$port/health/ready" 2>/dev/null; then
            ready="$ready $address"
        fi
    done
    for address in ${ready:-$addresses}; do
        printf 'server %s:%s max_fails=1 fail_timeout=5s;\n' "$address" "$port"
    done
    [ -n "$addresses" ] || printf 'server 127.0.0.1:%s down;\n' "$port"
}

write_servers() {
    printf '%s\n' "$1" >"$servers_file.new"
    mv "$servers_file.new" "$servers_file"
}

mkdir -p "$(dirname "$servers_file")"
current=$(upstream_servers)
write_servers "$current"
log "upstream $service: $(echo "$current" | awk '{ print $2 }' | tr '\n' ' ')"

nginx -g 'daemon off;' &
nginx_pid=$!
# `docker stop` signals this script (PID 1): pass it on, QUIT being nginx's graceful stop.
trap 'kill -QUIT "$nginx_pid" 2>/dev/null || true' QUIT TERM INT

while kill -0 "$nginx_pid" 2>/dev/null; do
    sleep "$interval" &
    wait $! || true # a trapped signal ends the wait early
    next=$(upstream_servers)
    if [ "$next" != "$current" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        write_servers "$next"
        if nginx -t -q 2>/dev/null && nginx -s reload; then
            log "upstream $service: $(echo "$next" | awk '{ print $2 }' | tr '\n' ' ')"
            current=$next
        else
            log "upstream $service: nginx refused $(echo "$next" | tr '\n' ' ')"
        fi
    fi
done
wait "$nginx_pid"
