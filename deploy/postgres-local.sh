#!/usr/bin/env bash
# Run a private PostgreSQL 15 (Debian's postgresql package) without systemd, for tests and the demo.
#
# Usage: deploy/postgres-local.sh start|stop|status|url|fresh-db NAME|psql ARGS...
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (Debian's package
# creates it). Listens on 127.0.0.1:$WARREN_PG_PORT only. A role `warren` with a password owns the
# database `warren`; `url` prints postgres://warren:PASSWORD@127.0.0.1:PORT/warren (for tests: put it
# in a file and point WARREN_STORE_FILE at it, so the password stays out of argv and logs).
# `fresh-db NAME` drops and creates the database NAME (owned by `warren`, never `warren` itself) and prints
# its URL: benchmarks start from empty tables, as their SQLite files do, whatever earlier runs left.
# Env: WARREN_PG_DIR (default /tmp/warren-postgres), WARREN_PG_PORT (55432), WARREN_PG_PASSWORD (warren-test).
# Idempotent: start on a running server and stop on a stopped one do nothing.
set -euo pipefail

DIR=${WARREN_PG_DIR:-/tmp/warren-postgres}
PORT=${WARREN_PG_PORT:-55432}
PASSWORD=${WARREN_PG_PASSWORD:-warren-test}
BIN=${WARREN_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
DATA=$DIR/data

log() { echo "postgres-local: $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -x $BIN/pg_ctl ]] || die "PostgreSQL binaries not found (apt-get install postgresql; deploy/install-deps.sh does)"

# Runs a command as the server's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

running() { [[ -f $DATA/postmaster.pid ]] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

psql_admin() { "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

start() {
  mkdir -p "$DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres "$DIR"
  if [[ ! -f $DATA/PG_VERSION ]]; then
    log "initdb $DATA"
    # trust only for the postgres superuser on loopback (setup); the warren role logs in with a password.
    as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    {
      echo "local all all trust"
      echo "host all postgres 127.0.0.1/32 trust"
      echo "host all all 127.0.0.1/32 scram-sha-256"
    } >"$DATA/pg_hba.conf"
  fi
  if running; then
    log "already running on 127.0.0.1:$PORT"
  else
    log "starting on 127.0.0.1:$PORT"
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
      { tail -20 "$DIR/server.log" >&2; die "server did not start"; }
  fi
  # The test role and database (idempotent).
  psql_admin -d postgres -c "DO \$\$BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warren') THEN CREATE ROLE warren LOGIN; END IF;
    END\$\$;" -c "ALTER ROLE warren PASSWORD '$PASSWORD'"
  if [[ -z $(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'warren'") ]]; then
    psql_admin -d postgres -c "CREATE DATABASE warren OWNER warren"
  fi
  log "ready: $(url_without_password)"
}

stop() {
  if running; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    log "stopped"
  else
    log "not running"
  fi
}

url() { echo "postgres://warren:$PASSWORD@127.0.0.1:$PORT/${1:-warren}"; }
url_without_password() { echo "postgres://warren@127.0.0.1:$PORT/warren"; }

fresh_db() {
  local name=${1:-}
  [[ $name =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "fresh-db: a database name of lower-case letters, digits and _ (got '$name')"
  [[ $name != warren && $name != postgres && $name != template* ]] || die "fresh-db: refusing to drop '$name'"
  running || die "not running (deploy/postgres-local.sh start)"
  psql_admin -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name OWNER warren" >/dev/null
  log "fresh database $name"
  url "$name"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on 127.0.0.1:$PORT"; else echo "stopped"; exit 3; fi ;;
  url) url ;;
  fresh-db) fresh_db "${2:-}" ;;
  psql) shift; PGPASSWORD=$PASSWORD "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U warren -d warren "$@" ;;
  *) echo "usage: $0 start|stop|status|url|fresh-db NAME|psql ARGS..." >&2; exit 2 ;;
esac
