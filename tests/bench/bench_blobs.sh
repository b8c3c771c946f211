# SPDX-License-Identifier: MIT
#
# Feature "blobs" between a real station and a real town on loopback
# (CURVE), each figure beside its limit measured in the same run:
#   a) blob throughput: BENCH_BLOB_MB (200) MB of photos (4 MB files) from
#      the station's store to the town's, beside bench_curve's raw CURVE
#      rate with the same chunk size and window (target >= 50 %);
#   b) record latency (append at the station to durable at the town, p99 of
#      BENCH_RECLAT_N records) with and without that backlog of blobs
#      behind the records (target: no more than 2x, and <= 20 ms);
#   c) the effective blob rate under [sync] blob_rate = 1000000 (target
#      within 10 % of the cap).
# A benchmark, not a test: it prints figures and fails only if it cannot
# set up or a transfer does not finish.
#
# Usage: bash tests/bench/bench_blobs.sh BUILD_DIR
set -eu

BUILD=$(cd "$1" && pwd)
MB=${BENCH_BLOB_MB:-200}
RN=${BENCH_RECLAT_N:-200}
WMCTL=$BUILD/cli/wmctl
WMSYNCD=$BUILD/daemon/wmsyncd
SEED=$BUILD/tests/integration/blob_seed
CURVE=$BUILD/tests/bench/bench_curve
RECLAT=$BUILD/tests/bench/bench_reclat
for b in "$WMCTL" "$WMSYNCD" "$SEED" "$CURVE" "$RECLAT"; do
    [ -x "$b" ] || { echo "bench_blobs: $b is not built" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/wmbench-blobs.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
PORT=$((20000 + RANDOM % 12000))
TW=$TMP/town
S=$TMP/st
"$WMCTL" init --role town --id xx/lh --name 镇 --dir "$TW" --listen "tcp://127.0.0.1:$PORT" >/dev/null
"$WMCTL" init --role station --id xx/lh/st --name 站 --dir "$S" --upstream "tcp://127.0.0.1:$PORT" \
    --upstream-key "$(cat "$TW/keys/curve.pub")" >/dev/null
sed -i 's/^# blob_mb = .*/blob_mb = 0/' "$TW/wmsync.conf"
start() { "$WMSYNCD" -c "$1/wmsync.conf" >>"$1/daemon.log" 2>&1 & PIDS+=($!); DPID=$!; }
ready() {
    local i
    for i in $(seq 1 200); do
        "$WMCTL" -c "$1/wmsync.conf" status --json 2>/dev/null | grep -q '"daemon_running":true' && return 0
        sleep 0.05
    done
    echo "bench_blobs: $1 not ready" >&2; exit 1
}
start "$TW"; ready "$TW"
"$WMCTL" -c "$S/wmsync.conf" keys | "$WMCTL" -c "$TW/wmsync.conf" enroll - >/dev/null
# blobs_at_town N: waits (deadline 600 s) until the town holds N whole blobs; prints the
# ms from the first byte that arrived (a .part file or a new blob) to then.
blobs_at_town() {
    local t0 n have
    have=$(find "$TW/blobs" -maxdepth 1 -type f | wc -l)
    t0=$(now_ms)
    while [ "$(find "$TW/blobs" -maxdepth 1 -type f | wc -l)" -le "$have" ]; do
        [ $(($(now_ms) - t0)) -gt 600000 ] && { echo "bench_blobs: nothing arrived" >&2; exit 1; }
        sleep 0.005
    done
    t0=$(now_ms)
    while :; do
        n=$(find "$TW/blobs" -maxdepth 1 -name '????????????????????????????????????????????????????????????????' | wc -l)
        [ "$n" -ge "$1" ] && break
        [ $(($(now_ms) - t0)) -gt 600000 ] && { echo "bench_blobs: only $n of $1 blobs arrived" >&2; exit 1; }
        sleep 0.02
    done
    echo $(($(now_ms) - t0))
}

# b) without a backlog first (the station's own records only)
start "$S"; SPID=$DPID; ready "$S"
base=$("$RECLAT" "$S/wmsync.conf" "$RN")

# a) the backlog: the town stopped while the station records its photos
kill -9 "$(pgrep -f "$TW/wmsync.conf" | head -1)" 2>/dev/null || true
NB=$((MB / 4))
"$SEED" "$S/wmsync.conf" "$NB" 4000000 7 >/dev/null
raw=$("$CURVE" "$MB" 262144 4 | awk '{print $2}')
start "$TW"; ready "$TW"
(sleep 0.5; "$RECLAT" "$S/wmsync.conf" "$RN" >"$TMP/reclat_backlog") &
LPID=$!
ms=$(blobs_at_town "$NB")
wait "$LPID"
back=$(cat "$TMP/reclat_backlog")
rate=$((NB * 4000000 * 1000 / (ms > 0 ? ms : 1)))
printf "a) blob throughput, %d MB of 4 MB files: %d bytes/s; raw CURVE %s bytes/s: %s %% of the limit (target >= 50 %%)\n" \
    "$MB" "$rate" "$raw" "$(awk -v a="$rate" -v b="$raw" 'BEGIN{printf "%.1f", 100*a/b}')"
p99() { echo "$1" | awk '{print $5}'; }
printf "b) record latency, %d records: without a backlog %s; with %d MB of blobs behind them %s\n" "$RN" "$base" "$MB" "$back"
printf "   p99 ratio %s (target <= 2), p99 with the backlog %s ms (target <= 20)\n" \
    "$(awk -v a="$(p99 "$back")" -v b="$(p99 "$base")" 'BEGIN{printf "%.2f", a/b}')" "$(p99 "$back")"

# c) the cap: 1,000,000 bytes/s, 20 MB
kill -9 "$SPID" 2>/dev/null || true
sed -i 's/^# blob_rate = .*/blob_rate = 1000000/' "$S/wmsync.conf"
kill -9 "$(pgrep -f "$TW/wmsync.conf" | head -1)" 2>/dev/null || true
start "$S"; SPID=$DPID; ready "$S"
"$SEED" "$S/wmsync.conf" 5 4000000 8 >/dev/null
start "$TW"; ready "$TW"
ms=$(blobs_at_town $((NB + 5)))
crate=$((5 * 4000000 * 1000 / ms))
printf "c) blob_rate = 1000000: 20 MB in %d ms, %d bytes/s: %s %% of the cap (target 90-110 %%)\n" \
    "$ms" "$crate" "$(awk -v a="$crate" 'BEGIN{printf "%.1f", a/10000}')"
