#!/usr/bin/env bash
# Start a local PostgreSQL 15 (Debian's package) for the schema tests and print
# the REELDOCS_DATABASE_URL to use, and nothing else, on standard output:
#
#   url=$(scripts/start-postgres15.sh [CLUSTER_DIR] [PORT]) && REELDOCS_DATABASE_URL=$url pytest tests/db
#
# CLUSTER_DIR (default /tmp/reeldocs-pg15) holds the data directory, the server
# log, the unix socket and the generated password. PORT defaults to 55432. The
# server listens on 127.0.0.1 only and asks for a SCRAM password over TCP. The
# login role `reeldocs` may create databases and roles but is not a superuser,
# as on a managed PostgreSQL service. Running it again reuses the cluster and,
# when the server is already up, only prints the URL.
set -euo pipefail

CLUSTER_DIR="${1:-/tmp/reeldocs-pg15}"
PORT="${2:-55432}"
BIN_DIR=/usr/lib/postgresql/15/bin
LOGIN_ROLE=reeldocs
DATABASE=reeldocs

say() { echo "start-postgres15: $*" >&2; }
fail() { say "$*"; exit 1; }

case "$PORT" in
    '' | *[!0-9]*) fail "The port must be a number, not '$PORT'." ;;
esac

if [ ! -x "$BIN_DIR/initdb" ] || [ ! -x "$BIN_DIR/pg_ctl" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        fail "PostgreSQL 15 is not installed ($BIN_DIR/initdb is missing). Install the Debian package postgresql-15 (sudo apt-get install -y postgresql-15) or run this script as root."
    fi
    say "installing the Debian package postgresql-15"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql-15 >&2
fi

# initdb and the server refuse to run as root: as root they run as the `postgres`
# OS user (created by the Debian package), otherwise as the current user.
if [ "$(id -u)" -eq 0 ]; then
    SERVER_USER=postgres
    id "$SERVER_USER" >/dev/null 2>&1 || fail "The OS user 'postgres' does not exist; reinstall postgresql-15."
    as_server_user() { (cd / && runuser -u "$SERVER_USER" -- "$@"); }
else
    SERVER_USER="$(id -un)"
    as_server_user() { (cd / && "$@"); }
fi

DATA_DIR="$CLUSTER_DIR/data"
PASSWORD_FILE="$CLUSTER_DIR/password"
LOG_FILE="$CLUSTER_DIR/server.log"

mkdir -p "$CLUSTER_DIR"
if [ "$(id -u)" -eq 0 ]; then
    chown "$SERVER_USER": "$CLUSTER_DIR"
fi
chmod 700 "$CLUSTER_DIR"

if [ ! -s "$PASSWORD_FILE" ]; then
    # od reads exactly 24 bytes, so nothing in this pipeline dies of SIGPIPE.
    (umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$PASSWORD_FILE")
fi
PASSWORD="$(cat "$PASSWORD_FILE")"

if [ ! -f "$DATA_DIR/PG_VERSION" ]; then
    say "initialising a PostgreSQL 15 cluster in $DATA_DIR"
    as_server_user "$BIN_DIR/initdb" -D "$DATA_DIR" -U "$SERVER_USER" --encoding=UTF8 \
        --auth-local=peer --auth-host=scram-sha-256 >"$CLUSTER_DIR/initdb.log" 2>&1 \
        || fail "initdb failed; its output is in $CLUSTER_DIR/initdb.log."
fi

running_port() {
    # postmaster.pid's fourth line is the port of the running server.
    sed -n 4p "$DATA_DIR/postmaster.pid" 2>/dev/null || true
}

if as_server_user "$BIN_DIR/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1; then
    current_port="$(running_port)"
    if [ -n "$current_port" ] && [ "$current_port" != "$PORT" ]; then
        say "the server in $DATA_DIR already runs on port $current_port; using that port"
        PORT="$current_port"
    fi
else
    say "starting PostgreSQL 15 on 127.0.0.1:$PORT"
    as_server_user "$BIN_DIR/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k '$CLUSTER_DIR'" start >/dev/null \
        || fail "PostgreSQL 15 did not start; see $LOG_FILE."
fi

for _ in $(seq 1 60); do
    if "$BIN_DIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
        break
    fi
    sleep 0.5
done
"$BIN_DIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" \
    || fail "PostgreSQL 15 does not answer on 127.0.0.1:$PORT; see $LOG_FILE."

# The login role and its database, created or brought back to the expected state.
# The password travels on standard input, not on a command line others could read.
as_server_user "$BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$CLUSTER_DIR" -p "$PORT" \
    -U "$SERVER_USER" -d postgres >/dev/null <<SQL
\\set password '$PASSWORD'
SELECT format('CREATE ROLE %I LOGIN', '$LOGIN_ROLE')
    WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$LOGIN_ROLE') \\gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB CREATEROLE PASSWORD %L',
              '$LOGIN_ROLE', :'password') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$DATABASE', '$LOGIN_ROLE')
    WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DATABASE') \\gexec
SQL

URL="postgresql://$LOGIN_ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
PGCONNECT_TIMEOUT=10 "$BIN_DIR/psql" -X -q -At "$URL" -c "SELECT 1" >/dev/null \
    || fail "could not log in as $LOGIN_ROLE over TCP; see $LOG_FILE."
echo "$URL"
