# SPDX-License-Identifier: MIT
# A throw-away PostgreSQL 15 for the tests and benchmarks of `wmctl export`
# (sourced, after lib.sh or alone): initdb in a fresh directory, a server
# that listens only on a Unix socket in that directory (no TCP port to
# collide on), trust authentication for the one database user "wm", the
# session time zone of this shell's $TZ (UTC if unset).
#
# PostgreSQL refuses to run as root: as root the server runs as the
# unprivileged user $WM_PG_USER (default nobody) through runuser; as any
# other user, as that user. pg_have says why it cannot run (no binaries,
# no such user), so the caller can skip with exit 77 and that message.
#
#   pg_have                 0 if a server can be made here, else prints why
#   pg_start DIR            initdb (once) and start; sets PG_CONN, PG_DIR
#   pg_stop [MODE]          pg_ctl stop (-m fast by default; immediate = crash)
#   pg_restart              start again after pg_stop
#   pgq SQL                 runs SQL through psql, unaligned, tuples only
# The server is stopped by pg_cleanup (call it from the exit trap).

PG_BIN=${WM_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_RUN_USER=${WM_PG_USER:-nobody}
PG_DIR=
PG_CONN=
PG_PORT=

pg_as() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PG_RUN_USER" -- "$@"
    else
        "$@"
    fi
}

pg_have() {
    local b
    for b in initdb pg_ctl postgres; do
        if [ ! -x "$PG_BIN/$b" ]; then
            echo "PostgreSQL 15 is not installed ($PG_BIN/$b missing; packaging/deps.sh installs postgresql)"
            return 1
        fi
    done
    if ! command -v psql >/dev/null 2>&1; then
        echo "psql is not installed (postgresql-client)"
        return 1
    fi
    if [ "$(id -u)" = 0 ]; then
        if ! id "$PG_RUN_USER" >/dev/null 2>&1 || ! command -v runuser >/dev/null 2>&1; then
            echo "running as root, and there is no user $PG_RUN_USER (WM_PG_USER) or no runuser to run PostgreSQL as"
            return 1
        fi
    fi
    return 0
}

pg_start() {
    PG_DIR=$1
    mkdir -p "$PG_DIR" || return 1
    [ "$(id -u)" = 0 ] && chown "$PG_RUN_USER" "$PG_DIR"
    chmod 700 "$PG_DIR"
    if [ ! -d "$PG_DIR/data" ]; then
        (cd / && pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U wm -E UTF8 --locale=C.UTF-8 \
            --no-sync >"$PG_DIR/initdb.log" 2>&1) || {
            echo "initdb failed:" >&2
            tail -5 "$PG_DIR/initdb.log" >&2
            return 1
        }
    fi
    PG_PORT=${PG_PORT:-$((20000 + RANDOM % 20000))}
    PG_CONN="host=$PG_DIR port=$PG_PORT user=wm dbname=postgres"
    pg_restart
}

pg_restart() {
    (cd / && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
        -o "-k $PG_DIR -p $PG_PORT -c listen_addresses='' -c TimeZone=${TZ:-UTC}" \
        start >/dev/null) || {
        echo "PostgreSQL would not start:" >&2
        tail -5 "$PG_DIR/server.log" >&2
        return 1
    }
}

pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    (cd / && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w -t 30 stop >/dev/null 2>&1)
}

pgq() {
    PGTZ=${TZ:-UTC} psql "$PG_CONN" -X -q -At -v ON_ERROR_STOP=1 -c "$1"
}

pg_cleanup() {
    if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
        pg_stop immediate
    fi
}
