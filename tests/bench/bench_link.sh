# SPDX-License-Identifier: MIT
# bench_link: the sync path on a thin link (issue 13), each figure beside
# its limit measured in the same run:
#  1. catch-up of one month (~3,000 records, gen_log) over a 2G-like link
#     (wmproxy: 5,000 bytes/s each way, 300 ms one way, 50 ms jitter):
#     the link's use (wire bytes up / time / rate, target >= 80 %), and the
#     records' own bytes delivered per second beside the link rate;
#  2. a link dying (blackhole, no FIN or RST; then a reset) to the child
#     showing "disconnected", and the link returning to the child linked
#     again with nothing pending, beside dead_link_s;
#  3. the idle station's VmRSS while linked (target <= 8 MiB).
#
# Usage: bash tests/bench/bench_link.sh BUILD_DIR
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
set -- "$BUILD/cli/wmctl" "$BUILD/daemon/wmsyncd"
. "$HERE/../integration/lib.sh"
. "$HERE/../integration/it_sync_lib.sh"
. "$HERE/../linkemu/link_lib.sh"

N=${BENCH_LINK_RECORDS:-3000}
RATE=5000
town_and_station_via_proxy --delay-ms 300 --jitter-ms 50 --rate "$RATE" || finish
"$BUILD/tests/bench/gen_log" "$S" "$N" >"$T/gen.out" || { fail "gen_log"; finish; }
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$S" "$TW" || finish
start_daemon "$S"
SPID=$DPID
wait_ready "$S" "$SPID" || finish

# 1 ---- from the moment the link is up (Welcome) to the last ack
deadline=$(($(now_ms) + 60000))
until [ "$(up_field "$S" connected)" = true ] || [ "$(now_ms)" -ge "$deadline" ]; do sleep 0.05; done
t0=$(now_ms)
up0=$(px stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["up_bytes"])')
poll 600 "catch-up of $N records over the 2G-like link" field_is "$S" acked_seq "$N"
t1=$(now_ms)
up1=$(px stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["up_bytes"])')
recbytes=$(sed -n 's/.* records, \([0-9]*\) bytes.*/\1/p' "$T/gen.out")
python3 - "$t0" "$t1" "$up0" "$up1" "$RATE" "$N" "${recbytes:-0}" <<'PY'
import sys
t0, t1, u0, u1, rate, n, rb = map(float, sys.argv[1:])
s = (t1 - t0) / 1000
use = (u1 - u0) / s / rate
print("catch-up of %d records (%d bytes of signed records) over 2G-like (%d B/s, 600 ms RTT): %.1f s" % (n, rb, rate, s))
print("   link use: %.0f bytes up in %.1f s = %.0f B/s, %.0f %% of the link rate; target >= 80 %%: %s" % (
    u1 - u0, s, (u1 - u0) / s, 100 * use, "met" if use >= 0.8 else "MISSED"))
if rb:
    print("   records delivered: %.0f B/s of signed records = %.2f x the link rate (compressed on the wire); %.1f wire bytes/record" % (
        rb / s, rb / s / rate, (u1 - u0) / n))
PY

# 3 ---- idle, linked (a station idle 2 s gives memory back: wait for it)
sleep 4
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SPID/status")
anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$SPID/status")
pss=$(awk '/^Pss:/ {print $2}' "/proc/$SPID/smaps_rollup" 2>/dev/null)
echo "idle station while linked, after the catch-up: VmRSS $((rss / 1024)).$(((rss % 1024) * 10 / 1024)) MiB ($rss KiB;" \
    "$anon KiB its own memory, the rest shared libraries' pages; PSS ${pss:-?} KiB); target <= 8 MiB: $([ "$rss" -le 8192 ] && echo met || echo MISSED)"

# 2 ---- link death and return
dead_s=$(sed -n 's/^dead_link_s *= *//p' "$S/wmsync.conf")
dead_s=${dead_s:-15}
for how in blackhole reset; do
    px set rate=0 delay_ms=300 jitter_ms=0 >/dev/null
    t0=$(now_ms)
    if [ $how = blackhole ]; then px blackhole on >/dev/null; else px down >/dev/null; fi
    deadline=$(($(now_ms) + 120000))
    until [ "$(up_field "$S" connected)" = false ] || [ "$(now_ms)" -ge "$deadline" ]; do sleep 0.05; done
    t1=$(now_ms)
    "$WMCTL" -c "$S/wmsync.conf" record activity --date 2024-03-01 --category theme_lecture \
        --title "断链-$how" >/dev/null
    sleep 2
    t2=$(now_ms)
    if [ $how = blackhole ]; then px blackhole off >/dev/null; else px up >/dev/null; fi
    deadline=$(($(now_ms) + 120000))
    until { [ "$(up_field "$S" connected)" = true ] && [ "$(jget "$(st "$S")" pending)" = 0 ]; } ||
        [ "$(now_ms)" -ge "$deadline" ]; do sleep 0.05; done
    t3=$(now_ms)
    awk -v how="$how" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v dl="$dead_s" 'BEGIN {
        printf "link death by %s: child shows disconnected after %.1f s (bound: dead_link_s %d s); linked again with nothing pending %.1f s after the link returned (600 ms RTT)\n", how, (b - a) / 1000, dl, (d - c) / 1000 }'
done
finish
