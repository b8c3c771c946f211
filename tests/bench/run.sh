# SPDX-License-Identifier: MIT
#
# Runs every benchmark of a build and prints its figures (`make bench`).
# bench_wire prints the bytes per record of a batch with and without
# compression (feature "zstd") beside its target ratio, bench_wire.sh the
# same between real daemons (status counters and TCP bytes).
# bench_blobs.sh: the attachments behind the records (feature blobs).
# Benchmarks are not tests: this prints what it measured and fails only if
# a benchmark could not run. The storage figures come from bench_store; the
# rollup cost and query latency from bench_rollup; a phone photo's
# normalisation time and bytes from bench_photo; the daemon round trip
# (wmctl, and bench_ctl without process start-up) from bench_daemon.sh and
# the town's catch-up and memory from bench_sync.sh, the PostgreSQL export
# beside a plain COPY from bench_export.sh, the report latency at every
# tier of a simulated province from bench_tiers.sh, the town's log down
# to a station beside the verify rate (feature "down") from bench_down.sh;
# these are skipped
# (with a note) when the build has no wmctl or wmsyncd yet.
#
# Usage: bash tests/bench/run.sh BUILD_DIR
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)

BENCH_STORE=$BUILD/tests/bench/bench_store
if [ ! -x "$BENCH_STORE" ]; then
    echo "run.sh: $BENCH_STORE is missing; build first (cmake --build $1)" >&2
    exit 1
fi

echo "== bench_store: storage API beside raw LMDB and libsodium"
"$BENCH_STORE"
echo

if [ -x "$BUILD/tests/bench/bench_wire" ]; then
    echo "== bench_wire: bytes on the wire per record, plain and compressed (feature zstd), a station's month"
    "$BUILD/tests/bench/bench_wire"
    if [ -x "$BUILD/cli/wmctl" ] && [ -x "$BUILD/daemon/wmsyncd" ]; then
        bash "$HERE/bench_wire.sh" "$BUILD"
    fi
else
    echo "== bench_wire: skipped ($BUILD/tests/bench/bench_wire not built)"
fi
echo

if [ -x "$BUILD/tests/bench/bench_photo" ]; then
    echo "== bench_photo: a 12-MP phone photo through wmctl's normalisation (time, bytes)"
    "$BUILD/tests/bench/bench_photo"
else
    echo "== bench_photo: skipped ($BUILD/tests/bench/bench_photo not built)"
fi
echo

if [ -x "$BUILD/tests/bench/bench_rollup" ]; then
    echo "== bench_rollup: rollup maintenance cost at ingest, and query latency (1000 stations x 366 days)"
    "$BUILD/tests/bench/bench_rollup"
else
    echo "== bench_rollup: skipped ($BUILD/tests/bench/bench_rollup not built)"
fi
echo

if [ -x "$BUILD/cli/wmctl" ] && [ -x "$BUILD/daemon/wmsyncd" ]; then
    echo "== bench_daemon: wmctl record (with process start-up) and bench_ctl (without) through a running station daemon"
    bash "$HERE/bench_daemon.sh" "$BUILD"
else
    echo "== bench_daemon: skipped ($BUILD/cli/wmctl or $BUILD/daemon/wmsyncd not built)"
fi

echo
if [ -x "$BUILD/cli/wmctl" ] && [ -x "$BUILD/daemon/wmsyncd" ] &&
    [ -x "$BUILD/tests/bench/bench_ingest" ]; then
    echo "== bench_sync: a town catching up with its stations, and 1000 stations connected"
    bash "$HERE/bench_sync.sh" "$BUILD"
else
    echo "== bench_sync: skipped ($BUILD/cli/wmctl, daemon/wmsyncd or tests/bench/bench_ingest not built)"
fi

echo
if [ -x "$BUILD/cli/wmctl" ] && [ -x "$BUILD/tests/bench/gen_log" ]; then
    echo "== bench_export: wmctl export into PostgreSQL beside a plain COPY of the same rows"
    bash "$HERE/bench_export.sh" "$BUILD"
else
    echo "== bench_export: skipped ($BUILD/cli/wmctl or tests/bench/gen_log not built)"
fi

echo
if [ -x "$BUILD/tests/bench/bench_report" ] && [ -x "$BUILD/tests/integration/sim_town" ]; then
    echo "== bench_tiers: report latency at town, county and province of a simulated province"
    bash "$HERE/bench_tiers.sh" "$BUILD"
else
    echo "== bench_tiers: skipped ($BUILD/tests/bench/bench_report or tests/integration/sim_town not built)"
fi

echo
if [ -x "$BUILD/cli/wmctl" ] && [ -x "$BUILD/daemon/wmsyncd" ] && [ -x "$BUILD/tests/bench/gen_log" ] &&
    [ -x "$BUILD/tests/bench/bench_ingest" ]; then
    echo "== bench_down: the town's own log down to a station (feature down): records/s beside the verify rate, the station's extra RSS"
    bash "$HERE/bench_down.sh" "$BUILD"
else
    echo "== bench_down: skipped ($BUILD/cli/wmctl, daemon/wmsyncd, tests/bench/gen_log or bench_ingest not built)"
fi

echo
if [ -x "$BUILD/cli/wmctl" ] && [ -x "$BUILD/daemon/wmsyncd" ] && [ -x "$BUILD/tests/bench/gen_log" ]; then
    echo "== bench_link: a month's catch-up over a 2G-like link, link death and return, idle RSS while linked"
    bash "$HERE/bench_link.sh" "$BUILD"
else
    echo "== bench_link: skipped (wmctl, wmsyncd or gen_log not built)"
fi

if [ -x "$BUILD/web/wmweb" ] && [ -x "$BUILD/tests/integration/sim_town" ]; then
    echo
    echo "== bench_web: the web console (wmweb): POST records beside the control socket, a town month's rollup, memory"
    bash "$HERE/bench_web.sh" "$BUILD"
else
    echo "== bench_web: skipped ($BUILD/web/wmweb or sim_town not built)"
fi

echo
if [ -x "$BUILD/tests/bench/bench_curve" ] && [ -x "$BUILD/tests/integration/blob_seed" ]; then
    echo "== bench_blobs: photos behind the records (feature blobs): throughput beside raw CURVE, record latency with a backlog, blob_rate"
    bash "$HERE/bench_blobs.sh" "$BUILD"
else
    echo "== bench_blobs: skipped ($BUILD/tests/bench/bench_curve or tests/integration/blob_seed not built)"
fi
