# SPDX-License-Identifier: MIT
#
# The operator's view of speed: how fast `wmctl record activity` appends
# through a running station daemon (one process per record: parse, validate,
# control-socket round trip, sign, durable commit), beside the limit of one
# fsynced raw LMDB put measured by bench_store --raw-fsync; then the daemon's
# idle memory (VmRSS, target <= 8 MiB). The wmctl figure includes process
# start-up; bench_ctl then measures the same durable append over one open
# control connection (no start-up), with 1 client and with BENCH_CTL_K
# concurrent client processes (the daemon's group commit), target p99 <= 5
# ms. A benchmark, not a test: it prints figures and fails only if the
# station cannot be set up or a record is refused.
#
# Usage: bash tests/bench/bench_daemon.sh BUILD_DIR   (N=500 wmctl records
# by default, BENCH_N to change it; bench_ctl sends BENCH_CTL_N=2000 with
# BENCH_CTL_K=4 clients)
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd)
N=${BENCH_N:-500}
CTL_N=${BENCH_CTL_N:-2000}
CTL_K=${BENCH_CTL_K:-4}
WMCTL=$BUILD/cli/wmctl
WMSYNCD=$BUILD/daemon/wmsyncd
BENCH_STORE=$BUILD/tests/bench/bench_store
BENCH_CTL=$BUILD/tests/bench/bench_ctl
for b in "$WMCTL" "$WMSYNCD"; do
    if [ ! -x "$b" ]; then
        echo "bench_daemon: $b is not built" >&2
        exit 1
    fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wmbench-daemon.XXXXXX")
D=$TMP/station
CONF=$D/wmsync.conf
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# Microseconds from a monotonic-enough clock without forking: bash 5's
# EPOCHREALTIME, else date(1) (whose own fork then adds to each figure).
now_us() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        local t=${EPOCHREALTIME/[.,]/}
        echo "$t"
    else
        echo $(($(date +%s%N) / 1000))
    fi
}

"$WMCTL" init --role station --id bench/station --name 测试站 --dir "$D" >/dev/null

"$WMSYNCD" -c "$CONF" 2>"$TMP/wmsyncd.log" &
PID=$!

# Wait for the daemon to answer on its control socket, with a deadline.
deadline=$(($(now_us) + 10000000))
until "$WMCTL" -c "$CONF" status --json 2>/dev/null | grep -q '"daemon_running":true'; do
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "bench_daemon: wmsyncd exited during start-up:" >&2
        cat "$TMP/wmsyncd.log" >&2
        exit 1
    fi
    if [ "$(now_us)" -gt "$deadline" ]; then
        echo "bench_daemon: wmsyncd did not answer within 10 s:" >&2
        cat "$TMP/wmsyncd.log" >&2
        exit 1
    fi
done
rss_start=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")

LAT=$TMP/lat_us
: >"$LAT"
t_start=$(now_us)
for ((i = 0; i < N; i++)); do
    t0=$(now_us)
    if ! "$WMCTL" -c "$CONF" record activity --date 2024-03-05 --category theme_lecture \
        --title 主题宣讲 >/dev/null 2>"$TMP/wmctl.err"; then
        echo "bench_daemon: record $((i + 1)) was refused:" >&2
        cat "$TMP/wmctl.err" >&2
        exit 1
    fi
    t1=$(now_us)
    echo $((t1 - t0)) >>"$LAT"
done
t_end=$(now_us)

# The daemon is idle now: its resident memory after serving N records.
rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
hwm_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status")

raw=
if [ -x "$BENCH_STORE" ]; then
    raw=$("$BENCH_STORE" --raw-fsync | awk '/^raw_fsync_put_us/ {print $2, $3, $4}')
fi

# The same durable append without process start-up: one open control
# connection, then CTL_K client processes at once.
ctl_out=
ctl_appended=0
if [ -x "$BENCH_CTL" ]; then
    # shellcheck disable=SC2086 # $raw is three numbers, or nothing
    ctl_out=$("$BENCH_CTL" "$CONF" "$CTL_N" "$CTL_K" $raw)
    ctl_appended=$(echo "$ctl_out" | awk '/^ctl_appended/ {print $2}')
fi
head_seq=$("$WMCTL" -c "$CONF" status --json | sed -n 's/.*"head_seq":\([0-9]*\).*/\1/p')

kill -TERM "$PID"
deadline=$(($(now_us) + 10000000))
while kill -0 "$PID" 2>/dev/null; do
    if [ "$(now_us)" -gt "$deadline" ]; then
        echo "bench_daemon: wmsyncd did not stop within 10 s of SIGTERM" >&2
        exit 1
    fi
    sleep 0.01 # poll interval, not a wait for a guessed duration
done
stop_rc=0
wait "$PID" || stop_rc=$?
PID=

if [ "$head_seq" != "$((N + ctl_appended))" ]; then
    echo "bench_daemon: the log holds seq $head_seq after $((N + ctl_appended)) records" >&2
    exit 1
fi

# Where a one-process-per-record CLI spends its time: a bare fork+exec, and
# wmctl starting up (dynamic loading, libsodium init) without a socket.
spawn_us() {
    local k s e
    s=$(now_us)
    for ((k = 0; k < 100; k++)); do "$@" >/dev/null 2>&1 || true; done
    e=$(now_us)
    echo $(((e - s) / 100))
}
true_us=$(spawn_us /bin/true)
help_us=$(spawn_us "$WMCTL" --help)

sort -n "$LAT" | awk -v n="$N" -v total_us=$((t_end - t_start)) -v raw="$raw" \
    -v rss="$rss_kib" -v rss0="$rss_start" -v hwm="$hwm_kib" -v rc="$stop_rc" \
    -v true_us="$true_us" -v help_us="$help_us" '
    { v[NR] = $1; sum += $1 }
    END {
        p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
        split(raw, r, " ")
        printf "%-40s | %12s | %12s | %12s\n", "what", "per second", "p50 ms", "p99 ms"
        printf "%-40s-+-%12s-+-%12s-+-%12s\n", "----------------------------------------",
               "------------", "------------", "------------"
        printf "%-40s | %12.0f | %12.2f | %12.2f\n",
               sprintf("wmctl record activity (N=%d)*", n), n / (total_us / 1e6),
               p50 / 1000, p99 / 1000
        if (raw != "")
            printf "%-40s | %12.0f | %12.2f | %12.2f\n", "limit: raw fsynced LMDB put",
                   1e6 / r[1], r[2] / 1000, r[3] / 1000
        else
            printf "%-40s | %12s | %12s | %12s\n", "limit: raw fsynced LMDB put",
                   "(no bench_store)", "-", "-"
        printf "%-40s | %12.0f | %12.2f | %12s\n", "reference: fork+exec /bin/true",
               1e6 / true_us, true_us / 1000, "(mean)"
        printf "%-40s | %12.0f | %12.2f | %12s\n", "reference: wmctl --help (start-up)",
               1e6 / help_us, help_us / 1000, "(mean)"
        printf "* one wmctl process per record: includes process start-up (see the references)\n"
        if (raw != "")
            printf "ratio appends/s to the limit: %.1f%%; mean call %.2f ms, of which the fsync is %.2f ms\n",
                   100 * (n / (total_us / 1e6)) / (1e6 / r[1]), sum / NR / 1000, r[1] / 1000
        printf "\nwmsyncd idle VmRSS after the run: %.1f MiB (%d KiB; %.1f MiB at start, peak %.1f MiB); target <= 8 MiB: %s\n",
               rss / 1024, rss, rss0 / 1024, hwm / 1024, rss <= 8192 ? "met" : "MISSED"
        printf "wmsyncd stopped on SIGTERM with exit status %d\n", rc
    }'

echo
if [ -n "$ctl_out" ]; then
    echo "bench_ctl: durable appends over the open control socket, no process start-up"
    echo "$ctl_out" | grep -v '^ctl_appended'
else
    echo "bench_ctl: skipped ($BENCH_CTL not built)"
fi
