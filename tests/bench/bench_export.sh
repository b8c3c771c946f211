# SPDX-License-Identifier: MIT
#
# How fast `wmctl export` loads verified records into PostgreSQL, beside a
# plain COPY of the very same rows into a table of the same shape (its
# primary key and indexes), measured in the same run against a throw-away
# PostgreSQL 15 (tests/integration/pg_lib.sh). Target: >= 0.5x the COPY.
#
#   a) a node with M records (gen_log); `wmctl export` once with --since
#      tomorrow (the schema is created, nothing loaded), then timed: the
#      whole one-shot export, from LMDB to committed rows and cursors;
#   b) the rows it loaded, dumped with COPY TO, loaded again with a plain
#      `\copy` from psql into wmsync.plain (LIKE wmsync.records INCLUDING
#      ALL), timed.
#
# A benchmark, not a test: it prints figures, and fails only if something
# cannot be set up. Skipped, with the reason, where PostgreSQL cannot run.
#
# Usage: bash tests/bench/bench_export.sh BUILD_DIR
#   BENCH_EXPORT_M (100000)   BENCH_KEEP=1 keeps the temporary directory
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
M=${BENCH_EXPORT_M:-100000}
WMCTL=$BUILD/cli/wmctl
GEN=$BUILD/tests/bench/gen_log
export TZ=${TZ:-UTC}
# shellcheck source=../integration/pg_lib.sh
. "$HERE/../integration/pg_lib.sh"
if ! why=$(pg_have); then
    echo "bench_export: skipped: $why"
    exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wmbench-pg.XXXXXX")
chmod 755 "$TMP"
cleanup() {
    pg_cleanup
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench_export: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
now_us() { echo $(($(date +%s%N) / 1000)); }

pg_start "$TMP/pg" || exit 1
"$WMCTL" init --role station --id xx/longhua/bench --name 基准站 --dir "$TMP/node" >/dev/null
"$GEN" "$TMP/node" "$M" >/dev/null
C="$WMCTL -c $TMP/node/wmsync.conf"
$C export --postgres "$PG_CONN" --since "$(date -d tomorrow +%F)" >/dev/null 2>&1

t0=$(now_us)
$C export --postgres "$PG_CONN" >"$TMP/export.out"
t1=$(now_us)
rows=$(pgq 'SELECT count(*) FROM wmsync.records')
[ "$rows" = "$M" ] || { echo "bench_export: exported $rows rows, not $M" >&2; exit 1; }

pgq "CREATE TABLE wmsync.plain (LIKE wmsync.records INCLUDING ALL)"
PGTZ=$TZ psql "$PG_CONN" -X -q -c "\\copy wmsync.records TO '$TMP/rows.copy'"
pgq "CHECKPOINT" >/dev/null
t2=$(now_us)
PGTZ=$TZ psql "$PG_CONN" -X -q -c "\\copy wmsync.plain FROM '$TMP/rows.copy'"
t3=$(now_us)
[ "$(pgq 'SELECT count(*) FROM wmsync.plain')" = "$M" ] || { echo "bench_export: COPY lost rows" >&2; exit 1; }

awk -v m="$M" -v e="$((t1 - t0))" -v c="$((t3 - t2))" -v b="$(stat -c %s "$TMP/rows.copy")" 'BEGIN {
    re = m / (e / 1e6); rc = m / (c / 1e6)
    printf "%-52s | %10s | %8s | %s\n", "what", "rows/s", "/ COPY", "target"
    printf "%-52s | %10.0f | %8s | %s\n", "limit: plain COPY of the same rows (psql \\copy)", rc, "1.00x", "(limit)"
    printf "%-52s | %10.0f | %7.2fx | >= 0.5x: %s\n", "wmctl export, LMDB log to committed rows + cursor", re, re / rc,
           (re / rc >= 0.5 ? "met" : "MISSED")
    printf "%d rows (%.1f MiB as COPY text): export %.2f s, COPY %.2f s\n", m, b / 1048576, e / 1e6, c / 1e6
}'
