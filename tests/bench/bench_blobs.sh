# SPDX-License-Identifier: MIT
#
# Feature "blobs" between a real station and a real town on loopback
# (CURVE), each figure beside its limit measured in the same run, over
# BENCH_BLOB_RUNS (3) runs, then the median and the spread (min-max):
#   a) blob throughput: BENCH_BLOB_MB (200) MB of photo-sized files (4 MB
#      of random bytes each, named by activities through the real record
#      path, as a station's tools append them) from the station's store to
#      the town's, from the first byte at the town to the last blob present
#      (verified); beside bench_curve's raw CURVE rate on loopback with the
#      same 256 KiB messages and window of 4, run just before (target >= 50 %);
#   b) record latency (append at the station to durable at the town:
#      bench_reclat) without a backlog, and while another BENCH_BLOB_MB MB
#      of blobs is being sent behind the records (only the records appended
#      while blob bytes were pending count); p50 and p99 of each run and of
#      all runs pooled (targets: p99 with <= 2x without, and <= 20 ms);
#   c) the effective blob rate under [sync] blob_rate = 1000000 (target
#      within 10 % of the cap), once.
# The load average is printed before and after: the machine is shared, and
# the ratios (both sides measured in the same run) are the figures to read.
# A benchmark, not a test: it prints figures and fails only if it cannot
# set up or a transfer does not finish. Every daemon it starts is stopped
# (and reaped) on any exit.
#
# Usage: bash tests/bench/bench_blobs.sh BUILD_DIR
set -eu

BUILD=$(cd "$1" && pwd)
MB=${BENCH_BLOB_MB:-200}
RN=${BENCH_RECLAT_N:-200}
RUNS=${BENCH_BLOB_RUNS:-3}
WMCTL=$BUILD/cli/wmctl
WMSYNCD=$BUILD/daemon/wmsyncd
SEED=$BUILD/tests/integration/blob_seed
CURVE=$BUILD/tests/bench/bench_curve
RECLAT=$BUILD/tests/bench/bench_reclat
for b in "$WMCTL" "$WMSYNCD" "$SEED" "$CURVE" "$RECLAT"; do
    [ -x "$b" ] || { echo "bench_blobs: $b is not built" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/wmbench-blobs.XXXXXX)
# The daemons' pids: each is this shell's child until `wait` reaps it, so
# a kill can never reach a process that took over a reused pid.
TPID= SPID=
reap() { kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cleanup() {
    set +e
    [ -n "$SPID" ] && reap "$SPID"
    [ -n "$TPID" ] && reap "$TPID"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now_ms() { echo $(($(date +%s%N) / 1000000)); }
PORT=$((20000 + RANDOM % 12000))
TW=$TMP/town
S=$TMP/st
"$WMCTL" init --role town --id xx/lh --name 镇 --dir "$TW" --listen "tcp://127.0.0.1:$PORT" >/dev/null
"$WMCTL" init --role station --id xx/lh/st --name 站 --dir "$S" --upstream "tcp://127.0.0.1:$PORT" \
    --upstream-key "$(cat "$TW/keys/curve.pub")" >/dev/null
sed -i 's/^# blob_mb = .*/blob_mb = 0/' "$TW/wmsync.conf"
ready() {
    local i
    for i in $(seq 1 200); do
        "$WMCTL" -c "$1/wmsync.conf" status --json 2>/dev/null | grep -q '"daemon_running":true' && return 0
        sleep 0.05
    done
    echo "bench_blobs: $1 not ready" >&2; exit 1
}
start_town() { "$WMSYNCD" -c "$TW/wmsync.conf" >>"$TW/daemon.log" 2>&1 & TPID=$!; ready "$TW"; }
start_station() { "$WMSYNCD" -c "$S/wmsync.conf" >>"$S/daemon.log" 2>&1 & SPID=$!; ready "$S"; }
stop_town() { reap "$TPID"; TPID=; }    # kill -9: the town goes down as a power cut would
stop_station() { reap "$SPID"; SPID=; }
start_town
"$WMCTL" -c "$S/wmsync.conf" keys | "$WMCTL" -c "$TW/wmsync.conf" enroll - >/dev/null
start_station
present() { find "$TW/blobs" -maxdepth 1 -name "$(printf '?%.0s' $(seq 1 64))" | wc -l; }
# first_byte: waits (deadline 600 s) until something of a new blob is at the
# town (a .part, or a new blob).
first_byte() {
    local t0 have
    have=$(find "$TW/blobs" -maxdepth 1 -type f | wc -l)
    t0=$(now_ms)
    while [ "$(find "$TW/blobs" -maxdepth 1 -type f | wc -l)" -le "$have" ]; do
        [ $(($(now_ms) - t0)) -gt 600000 ] && { echo "bench_blobs: nothing arrived" >&2; exit 1; }
        sleep 0.005
    done
}
# blobs_at_town N: waits (deadline 600 s) until the town holds N whole blobs.
blobs_at_town() {
    local t0 n
    t0=$(now_ms)
    while :; do
        n=$(present)
        [ "$n" -ge "$1" ] && return 0
        [ $(($(now_ms) - t0)) -gt 600000 ] && { echo "bench_blobs: only $n of $1 blobs arrived" >&2; exit 1; }
        sleep 0.01
    done
}
field() { echo "$1" | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }
# median and spread of the numbers on stdin: "MEDIAN (MIN-MAX)"
med() { sort -g | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
    printf "%.2f (%.2f-%.2f)", m, v[1], v[NR]}'; }
# pooled percentile P of the samples in file F
pct() { sort -g "$1" | awk -v p="$2" '{v[NR] = $1} END {i = int((NR - 1) * p / 100) + 1; printf "%.2f", v[i]}'; }

NB=$((MB / 4))
total=0
: >"$TMP/runs"
echo "bench_blobs: $RUNS runs of $MB MB ($NB files of 4 MB); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$RUNS"); do
    # b) without a backlog: every blob so far is at the town
    base=$(BENCH_RECLAT_SAMPLES=$TMP/base.ms "$RECLAT" "$S/wmsync.conf" "$RN")
    # a) the town down while the station records its photos; then up
    stop_town
    "$SEED" "$S/wmsync.conf" "$NB" 4000000 $((2 * r)) >/dev/null
    total=$((total + NB))
    # the limit: the median of three runs of bench_curve (it varies most)
    raw=$(for i in 1 2 3; do "$CURVE" "$MB" 262144 4 | awk '{print $2}'; done | sort -n | sed -n 2p)
    start_town
    first_byte
    t0=$(now_ms)
    blobs_at_town "$total"
    ms=$(($(now_ms) - t0))
    rate=$((NB * 4000000 * 1000 / (ms > 0 ? ms : 1)))
    # b) with a backlog: another MB megabytes behind the records
    stop_town
    "$SEED" "$S/wmsync.conf" "$NB" 4000000 $((2 * r + 1)) >/dev/null
    total=$((total + NB))
    start_town
    first_byte
    back=$(BENCH_RECLAT_SAMPLES=$TMP/back.ms "$RECLAT" "$S/wmsync.conf" "$RN" backlog)
    blobs_at_town "$total"
    pctraw=$(awk -v a="$rate" -v b="$raw" 'BEGIN{printf "%.1f", 100 * a / b}')
    ratio=$(awk -v a="$(field "$back" p99)" -v b="$(field "$base" p99)" 'BEGIN{printf "%.2f", a / b}')
    printf "run %d: a) %d MB in %d ms, %d bytes/s; raw CURVE %s bytes/s: %s %%\n" \
        "$r" "$MB" "$ms" "$rate" "$raw" "$pctraw"
    printf "       b) without a backlog p50 %s p99 %s ms (n %s); with it p50 %s p99 %s ms (n %s): p99 ratio %s\n" \
        "$(field "$base" p50)" "$(field "$base" p99)" "$(field "$base" n)" \
        "$(field "$back" p50)" "$(field "$back" p99)" "$(field "$back" n)" "$ratio"
    printf "          (blob bytes pending %s at the first of them, %s at the last)\n" \
        "$(field "$back" blob_bytes_pending)" "$(field "$back" to)"
    echo "$pctraw $rate $raw $(field "$base" p99) $(field "$back" p99) $ratio" >>"$TMP/runs"
done
col() { awk -v c="$1" '{print $c}' "$TMP/runs" | med; }
echo "== median (min-max) of $RUNS runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "a) blob throughput: $(col 1) % of raw CURVE (target >= 50 %); $(col 2) bytes/s beside $(col 3) bytes/s"
echo "b) record latency p99: without a backlog $(col 4) ms, with $MB MB behind $(col 5) ms; ratio $(col 6) (target <= 2)"
echo "   pooled ($(wc -l <"$TMP/base.ms") and $(wc -l <"$TMP/back.ms") records): without p50 $(pct "$TMP/base.ms" 50) p99 $(pct "$TMP/base.ms" 99) ms;" \
    "with p50 $(pct "$TMP/back.ms" 50) p99 $(pct "$TMP/back.ms" 99) ms (target <= 20 ms)"

# c) the cap: 1,000,000 bytes/s, 20 MB
stop_station
sed -i 's/^# blob_rate = .*/blob_rate = 1000000/' "$S/wmsync.conf"
stop_town
start_station
"$SEED" "$S/wmsync.conf" 5 4000000 1000 >/dev/null
start_town
first_byte
t0=$(now_ms)
blobs_at_town $((total + 5))
ms=$(($(now_ms) - t0))
crate=$((5 * 4000000 * 1000 / ms))
printf "c) blob_rate = 1000000: 20 MB in %d ms, %d bytes/s: %s %% of the cap (target 90-110 %%)\n" \
    "$ms" "$crate" "$(awk -v a="$crate" 'BEGIN{printf "%.1f", a / 10000}')"
