# SPDX-License-Identifier: MIT
# it_link_clock: a station whose wall clock says 1970 (a dead clock
# battery), then jumps forward a year (1971), then on to next year (the
# clock set right, decades at once), then back to 1970,
# while it records and syncs through wmproxy (100 ms one way). Its
# daemon and wmctl run under libfaketime with DONT_FAKE_MONOTONIC=1 (the
# machine's clock is never touched), the offset read from a file at each
# call. Every link timer runs on the monotonic clock, so at each jump the
# link stays up (no reconnection, heartbeats answered) and records keep
# flowing; at the end everything converges, nothing lost.
#
#   it_link_clock.sh WMCTL WMSYNCD      (exit 77 without faketime)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/it_sync_lib.sh"
. "$(dirname "$0")/link_lib.sh"

LIBFT=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
if [ -z "$LIBFT" ]; then
    echo "it_link_clock: SKIP: libfaketime (Debian package faketime) is not installed"
    exit 77
fi
CLOCK=$T/clock
# Days from 1970-01-02 to now: the offset that puts the clock there.
DAYS=$(($(date +%s) / 86400 - 1))
echo "-${DAYS}d" >"$CLOCK"
# fake PROGRAM: a wrapper running it under the offset in $CLOCK (same pid).
fake() {
    local w=$T/fake-$(basename "$1")
    printf '#!/bin/sh\nexec env LD_PRELOAD=%s FAKETIME_TIMESTAMP_FILE=%s FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 FAKETIME_DONT_FAKE_MONOTONIC=1 %s "$@"\n' \
        "$LIBFT" "$CLOCK" "$1" >"$w"
    chmod +x "$w"
    echo "$w"
}
FCTL=$(fake "$WMCTL") FSYNCD=$(fake "$WMSYNCD") FDATE=$(fake "$(command -v date)")
if [ "$("$FDATE" +%Y)" != 1970 ]; then
    echo "it_link_clock: SKIP: libfaketime does not fake the clock here"
    exit 77
fi

town_and_station_via_proxy --delay-ms 100 || finish
set_timers "$S" 2 6
set_timers "$TW" 2 6
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$S" "$TW" || finish
REAL=$WMSYNCD WMSYNCD=$FSYNCD
start_daemon "$S"
WMSYNCD=$REAL
SPID=$DPID
wait_ready "$S" "$SPID" || finish
# writer: records through the faked wmctl until $T/stop exists.
fake_writer() {
    local i=0
    while [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        "$FCTL" -c "$S/wmsync.conf" record activity --date 2024-03-01 --category theme_lecture \
            --title "钟-$i-宣讲" >/dev/null 2>>"$T/writer.err" && echo "$i" >>"$S.count"
        sleep 0.3
    done
}
poll 20 "1970: linked" up_is "$S" connected true
start_writers fake_writer s
NEXT=$(($(date +%Y) + 1))
TO_NEXT=$((($(date -d "$NEXT-01-15" +%s) - $(date +%s)) / 86400)) # days to mid-January next year
for step in "-$((DAYS - 365))d:1971" "+${TO_NEXT}d:$NEXT" "-${DAYS}d:1970"; do
    spec=${step%%:*} what=${step#*:}
    sleep 2
    seq0=$(town_row "$TW" xx/longhua/s seq)
    echo "$spec" >"$CLOCK"
    check "jump to $what: the station's clock says $("$FDATE" +%Y)" test "$("$FDATE" +%Y)" = "$what"
    steady 8 "jump to $what: linked throughout (over a dead_link_s)" up_is "$S" connected true
    check "jump to $what: no reconnection" up_is "$S" attempts 0
    seq1=$(town_row "$TW" xx/longhua/s seq)
    check "jump to $what: records kept flowing ($seq0 -> $seq1)" test "$seq1" -gt "$seq0"
done
stop_writers
written=$(wc -l <"$S.count")
check "the writer recorded throughout ($written records)" test "$written" -gt 10
check "every record written is in the station's log" test "$(head_seq "$S")" = "$written"
poll 30 "converged, nothing lost" no_loss "$TW" "$S"
check "the town's copy verifies" verified_at_town "$TW" "$S"
finish
