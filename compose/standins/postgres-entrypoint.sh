#!/bin/bash
# A small imitation of the official postgres image's docker-entrypoint.sh: on an empty
# $PGDATA, initdb with $POSTGRES_USER/$POSTGRES_PASSWORD and create $POSTGRES_DB, then run
# the server as the postgres user, listening on all interfaces with password auth.
set -euo pipefail

if [[ ${1:-} != postgres ]]; then
    exec "$@"
fi

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
        echo 'Error: Database is uninitialized and superuser password is not specified.' >&2
        echo '       You must specify POSTGRES_PASSWORD to a non-empty value.' >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    chown postgres "$pwfile"
    as_postgres initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    # Like the official image: a temporary server on the socket only, to create the database.
    as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [[ $POSTGRES_DB != postgres ]]; then
        as_postgres psql -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname=postgres \
            -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
    fi
    as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo 'PostgreSQL init process complete; ready for start up.'
fi

# Like the official image, the command's arguments reach the server (`postgres -c name=value`).
exec setpriv --reuid=postgres --regid=postgres --init-groups "$@"
