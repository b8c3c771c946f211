# SPDX-License-Identifier: MIT
# it_link_scn: one thin-link scenario with real daemons, records being
# written at the station throughout (writer_loop), ending in convergence
# with nothing lost or duplicated (the town's copy verifies, its seq is
# the station's head), and a line "scenario NAME: N ms, N bytes, N records"
# (the proxy's payload bytes both ways).
#
#   it_link_scn.sh WMCTL WMSYNCD SCENARIO
#
#   2g         ~40 kbit/s, ~600 ms round trip, 50 ms jitter; a 200-record backlog
#   3g         ~384 kbit/s, ~200 ms round trip; a 600-record backlog
#   flap       the town's link down and up every 5 s for 30 s (full: 10 s, 3 min)
#   blackhole  nothing passes for 20 s (full: 2 min), no FIN or RST: the
#              station notices within dead_link_s and says so, the town drops
#              the session, both come back by themselves
#   nat        a NAT that forgets flows idle 8 s (full: 60 s): the heartbeat
#              keeps the mapping, the link never drops in 3x that time
#
# Short forms in make test; WM_LINK_FULL=1 (make test-links): full length.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/it_sync_lib.sh"
. "$(dirname "$0")/link_lib.sh"

# at_town_at_least N: the town holds the station's log up to seq N.
at_town_at_least() {
    local v
    v=$(town_row "$TW" xx/longhua/s seq)
    echo "town seq $v (want >= $1)" >"$T/why"
    [ "$v" != absent ] && [ "$v" -ge "$1" ]
}

SCN=${3:-}
case $SCN in
2g) PX_ARGS=(--delay-ms 300 --jitter-ms 50 --rate 5000) BACKLOG=200 ;;
3g) PX_ARGS=(--delay-ms 100 --jitter-ms 20 --rate 48000) BACKLOG=600 ;;
flap | blackhole | nat) PX_ARGS=(--delay-ms 50) BACKLOG=50 ;;
*) echo "usage: $0 WMCTL WMSYNCD 2g|3g|flap|blackhole|nat" >&2; exit 2 ;;
esac

town_and_station_via_proxy "${PX_ARGS[@]}" || finish
set_timers "$TW" 2 6
[ "$SCN" != nat ] && set_timers "$S" 2 6 10
px down >/dev/null # the backlog is recorded offline, then the link comes up
start_town_station || finish
rec_n "$S" "$BACKLOG" backlog
t0=$(now_ms)
b0=$(px_bytes)
px up >/dev/null
start_writers writer_loop "$S"

case $SCN in
2g | 3g)
    poll 40 "$SCN: the backlog of $BACKLOG is at the town" at_town_at_least "$BACKLOG"
    echo "$SCN: backlog of $BACKLOG records at the town in $(($(now_ms) - t0)) ms," \
        "$(($(px_bytes) - b0)) bytes"
    ;;
flap)
    every=$(dur 5 10) total=$(dur 30 180)
    end=$(($(now_ms) + total * 1000)) n=0
    while [ "$(now_ms)" -lt "$end" ]; do
        px down >/dev/null
        sleep "$every"
        px up >/dev/null
        sleep "$every"
        n=$((n + 1))
    done
    pass "flap: $n down/up cycles of ${every}s"
    ;;
blackhole)
    hole=$(dur 20 120)
    poll 20 "blackhole: linked before" up_is "$S" connected true
    px blackhole on >/dev/null
    poll 10 "blackhole: disconnected within dead_link_s (6 s) + 2 s" up_is "$S" connected false
    check "blackhole: status says why" up_has "$S" last_error "dead link"
    poll 10 "blackhole: the town dropped the dead session" session_is "$TW" xx/longhua/s no
    sleep "$hole"
    px blackhole off >/dev/null
    t1=$(now_ms)
    poll 40 "blackhole: linked again" up_is "$S" connected true
    echo "blackhole: resumed $(($(now_ms) - t1)) ms after the link returned"
    ;;
nat)
    idle=$(dur 8 60)
    px set idle_drop="$idle" >/dev/null
    poll 20 "nat: linked" up_is "$S" connected true
    a0=$(px stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted"])')
    steady $((3 * idle)) "nat: the heartbeat keeps the NAT mapping (idle drop ${idle}s)" \
        up_is "$S" connected true
    check "nat: no flow was dropped idle" test "$(px stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["idle_dropped"])')" = 0
    a1=$(px stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted"])')
    check "nat: no reconnection ($a0 -> $a1 connections)" test "$a0" = "$a1"
    ;;
esac

stop_writers
written=$(cat "$S.count" 2>/dev/null | wc -l)
check "$SCN: the writer recorded throughout ($written records)" test "$written" -gt 0
check "$SCN: every record written is in the station's log" \
    test "$(head_seq "$S")" = $((BACKLOG + written))
poll 60 "$SCN: converged, nothing lost" no_loss "$TW" "$S"
check "$SCN: the town's copy verifies (no record twice, none altered)" verified_at_town "$TW" "$S"
echo "scenario $SCN: $(($(now_ms) - t0)) ms, $(($(px_bytes) - b0)) bytes, $((BACKLOG + written)) records"
finish
