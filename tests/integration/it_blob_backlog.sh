# SPDX-License-Identifier: MIT
# it_blob_backlog: records keep flowing while 200 MB of photos are pending
# (feature "blobs", PROTOCOL.md §7.2: records preempt chunks), between a
# real station and a real town over CURVE on loopback.
#
# The station's blob bytes are capped ([sync] blob_rate = 25 MB/s) so that
# the 200 MB take ~8 s to cross and the records appended meanwhile meet the
# backlog in flight; bench_blobs (make bench) measures the same uncapped.
# 1. Without a backlog: records appended one at a time, each waited for
#    until the town has acked it (bench_reclat): the latencies.
# 2. The town down, the station stores 50 photos of 4 MB (200 MB,
#    blob_seed) and the activities naming them; the town up. While blob
#    bytes are pending, records are appended one at a time and each is
#    waited for: every record is measured while blobs are still pending,
#    most of the 200 MB is still pending when the last is acked, and none
#    waited more than 5 s (behind the backlog one would wait 8 s or more:
#    the limit is wide for a machine busy with other tests). The
#    latencies and rates with and without the backlog are printed.
# 3. All 50 blobs arrive, each hashing to its name; the station shows
#    nothing pending, the town nothing missing; wmctl verify passes there.
#
#   it_blob_backlog.sh WMCTL WMSYNCD BLOB_SEED BENCH_RECLAT
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

SEED=${3:-}
RECLAT=${4:-}
[ -x "$SEED" ] && [ -x "$RECLAT" ] || { echo "usage: $0 WMCTL WMSYNCD BLOB_SEED BENCH_RECLAT" >&2; exit 2; }

N=100           # records measured each way
MB=200
NB=$((MB / 4))  # files of 4 MB
RATE=25000000   # bytes a second
PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
S=$T/st
SID=xx/longhua/xinhe
init_town "$TW" xx/longhua "$PORT" || finish
sed -i 's/^# blob_mb = .*/blob_mb = 0/' "$TW/wmsync.conf"
init_station "$S" "$SID" "$PORT" "$(town_key "$TW")" || finish
sed -i "s/^# blob_rate = .*/blob_rate = $RATE/" "$S/wmsync.conf"
grep -q "^blob_rate = $RATE\$" "$S/wmsync.conf" || { fail "station config has no [sync] blob_rate"; finish; }
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$S" "$TW" || finish
start_daemon "$S"
SPID=$DPID
wait_ready "$S" "$SPID" || finish

# reclat OUTFILE SAMPLES [backlog]: bench_reclat's summary line, or fails.
reclat() {
    local out=$1 samples=$2
    shift 2
    : >"$samples"
    BENCH_RECLAT_SAMPLES=$samples "$RECLAT" "$S/wmsync.conf" "$N" "$@" >"$out" 2>"$T/reclat.err" ||
        { fail "bench_reclat $*: $(cat "$T/reclat.err")"; return 1; }
}
field() { awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' "$1"; }
pending() { jget "$(st "$S")" blob_bytes_pending; }

# ---- 1: without a backlog ----
poll 30 "the station is in step with the town" synced "$TW" "$S"
t0=$(now_ms)
reclat "$T/base" "$T/base.ms" || finish
base_ms=$(($(now_ms) - t0))
check "without a backlog: $N records measured" [ "$(field "$T/base" n)" = "$N" ]

# ---- 2: 200 MB pending behind the records ----
kill9 "$TPID"
"$SEED" "$S/wmsync.conf" "$NB" 4000000 11 >"$T/hashes" 2>"$T/seed.err" ||
    { fail "blob_seed: $(cat "$T/seed.err")"; finish; }
check "the station stored $NB photos" [ "$(wc -l <"$T/hashes")" = "$NB" ]
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
# the first blob bytes at the town: the transfer is under way
part_or_blob() { [ -n "$(find "$TW/blobs" -maxdepth 1 -type f -newer "$T/hashes" -print -quit)" ]; }
poll 30 "blob bytes reach the town" part_or_blob
t0=$(now_ms)
reclat "$T/back" "$T/back.ms" backlog || finish
back_ms=$(($(now_ms) - t0))
left=$(pending)
check "with the backlog: all $N records measured while blob bytes were pending" \
    [ "$(field "$T/back" n)" = "$N" ]
echo "after the last record: $left blob bytes still pending" >"$T/why"
check "most of the $MB MB still pending when the last record was acked ($left bytes)" \
    [ "$left" -gt $((NB * 4000000 / 2)) ]
slowest=$(sort -g "$T/back.ms" | tail -1)
check "no record waited behind the blobs: the slowest took $slowest ms (limit $((5000 * SLOW)))" \
    awk -v v="$slowest" -v lim=$((5000 * SLOW)) 'BEGIN{exit !(v <= lim)}'
echo "record latency without a backlog: $(cat "$T/base") ($N in $base_ms ms)"
echo "record latency with $MB MB pending: $(cat "$T/back") ($N in $back_ms ms)"
echo "p99 ratio: $(awk -v a="$(field "$T/back" p99)" -v b="$(field "$T/base" p99)" 'BEGIN{printf "%.2f", a / b}')"

# ---- 3: the backlog drains, every blob right ----
all_there() {
    local h n=0
    while read -r h; do [ -f "$TW/blobs/$h" ] && n=$((n + 1)); done <"$T/hashes"
    echo "$n of $NB blobs at the town" >"$T/why"
    [ "$n" = "$NB" ]
}
poll 60 "all $NB blobs reach the town" all_there
bad=0
while read -r h; do
    [ "$(b2sum -l 256 "$TW/blobs/$h" | cut -d' ' -f1)" = "$h" ] || bad=$((bad + 1))
done <"$T/hashes"
check "every blob at the town hashes to its name" [ "$bad" = 0 ]
poll 30 "the station shows no blob bytes pending" eval '[ "$(pending)" = 0 ]'
poll 30 "the town shows no blob of the station missing" row_is "$TW" "$SID" blobs_missing 0
poll 30 "the records are in step" synced "$TW" "$S"
expect_rc 0 w "$TW" verify
finish
