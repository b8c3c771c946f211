# SPDX-License-Identifier: MIT
#
# Runs every benchmark of a build and prints its figures (`make bench`).
# Benchmarks are not tests: this prints what each measured, beside the
# limit it measured in the same run, and fails only if a benchmark could
# not run. A part whose programs are not built is skipped with a note.
#
#   bench_store    the storage API beside raw LMDB and libsodium
#   bench_wire     bytes on the wire per record, plain and compressed
#                  (feature "zstd"); bench_wire.sh the same between daemons
#   bench_photo    a phone photo's normalisation time and bytes
#   bench_rollup   the rollup's cost at ingest and its query latency
#   bench_daemon   the daemon round trip (wmctl, and bench_ctl without
#                  process start-up)
#   bench_sync     the town's catch-up, ingest beside raw LMDB, memory
#   bench_export   the PostgreSQL export beside a plain COPY
#   bench_tiers    report latency at every tier of a simulated province
#   bench_down     the town's log down to a station beside the verify rate
#   bench_link     catch-up and recovery over a thin link, idle memory
#   bench_web      the web console beside the control socket
#   bench_blobs    attachments behind the records: throughput beside raw
#                  CURVE, record latency with a backlog, blob_rate
#
# Usage: bash tests/bench/run.sh BUILD_DIR
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$BUILD/tests/bench/bench_store" ]; then
    echo "run.sh: $BUILD/tests/bench/bench_store is missing; build first (cmake --build $1)" >&2
    exit 1
fi

# part NAME WHAT NEEDS COMMAND...: prints "== NAME: WHAT" and runs
# COMMAND when every program in NEEDS (paths under the build, separated by
# spaces) is built; otherwise says which are missing.
part() {
    local name=$1 what=$2 needs=$3 missing="" p
    shift 3
    for p in $needs; do
        [ -x "$BUILD/$p" ] || missing="$missing $p"
    done
    echo
    if [ -n "$missing" ]; then
        echo "== $name: skipped (not built:$missing)"
        return 0
    fi
    echo "== $name: $what"
    "$@"
}

DAEMON="cli/wmctl daemon/wmsyncd"
part bench_store "storage API beside raw LMDB and libsodium" \
    tests/bench/bench_store "$BUILD/tests/bench/bench_store"
part bench_wire "bytes on the wire per record, plain and compressed (feature zstd), a station's month" \
    tests/bench/bench_wire "$BUILD/tests/bench/bench_wire"
part bench_wire.sh "the same between real daemons (status counters and TCP bytes)" \
    "tests/bench/bench_wire $DAEMON" bash "$HERE/bench_wire.sh" "$BUILD"
part bench_photo "a 12-MP phone photo through wmctl's normalisation (time, bytes)" \
    tests/bench/bench_photo "$BUILD/tests/bench/bench_photo"
part bench_rollup "rollup maintenance cost at ingest, and query latency (1000 stations x 366 days)" \
    tests/bench/bench_rollup "$BUILD/tests/bench/bench_rollup"
part bench_daemon "wmctl record (with process start-up) and bench_ctl (without) through a running station daemon" \
    "$DAEMON" bash "$HERE/bench_daemon.sh" "$BUILD"
part bench_sync "a town catching up with its stations, and 1000 stations connected" \
    "$DAEMON tests/bench/bench_ingest" bash "$HERE/bench_sync.sh" "$BUILD"
part bench_export "wmctl export into PostgreSQL beside a plain COPY of the same rows" \
    "cli/wmctl tests/bench/gen_log" bash "$HERE/bench_export.sh" "$BUILD"
part bench_tiers "report latency at town, county and province of a simulated province" \
    "tests/bench/bench_report tests/integration/sim_town" bash "$HERE/bench_tiers.sh" "$BUILD"
part bench_down "the town's own log down to a station (feature down): records/s beside the verify rate, the station's extra RSS" \
    "$DAEMON tests/bench/gen_log tests/bench/bench_ingest" bash "$HERE/bench_down.sh" "$BUILD"
part bench_link "a month's catch-up over a 2G-like link, link death and return, idle RSS while linked" \
    "$DAEMON tests/bench/gen_log" bash "$HERE/bench_link.sh" "$BUILD"
part bench_web "the web console (wmweb): POST records beside the control socket, a town month's rollup, memory" \
    "web/wmweb tests/integration/sim_town" bash "$HERE/bench_web.sh" "$BUILD"
part bench_blobs "photos behind the records (feature blobs): throughput beside raw CURVE, record latency with a backlog, blob_rate" \
    "tests/bench/bench_curve tests/integration/blob_seed" bash "$HERE/bench_blobs.sh" "$BUILD"
