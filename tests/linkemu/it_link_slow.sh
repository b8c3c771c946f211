# SPDX-License-Identifier: MIT
# it_link_slow: a station behind a slow, long link links up and converges
# (issue 13: at 250 ms one way, or 200 ms and 4 KB/s, it never did).
#
#  1. 250 ms one way (a 500 ms round trip), the link down while the station
#     starts: status says why the link fails (last_error, attempts,
#     failing_since); once the link is up, 120 records reach the town.
#     On the old code the station never linked up: each new socket was
#     given 1 s to finish TCP, ZMTP and CURVE (four round trips) before its
#     growing backoff, and was thrown away after 5 s.
#  2. 200 ms one way and 2 KB/s: 300 records (~47 KB) reach the town. On
#     the old code one batch took all of them, its 24 s on the wire hid
#     every answer behind it, and the child called the link dead after 15 s
#     of silence, again and again.
#  3. The link goes silent (blackhole, no FIN or RST): the station shows
#     "disconnected" within dead_link_s (+2 s), says why, and comes back by
#     itself when the link does; the town drops the dead session within
#     its dead_link_s (and has one again after).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/it_sync_lib.sh"
. "$(dirname "$0")/link_lib.sh"

town_and_station_via_proxy --delay-ms 250 || finish
set_timers "$S" 2 6
set_timers "$TW" 2 6
px down >/dev/null
start_town_station || finish

# ---- 1 ----
rec_n "$S" 120 slow
poll 15 "phase 1: status says why the link is down" up_has "$S" last_error "refused"
check "phase 1: attempts counted" [ "$(up_field "$S" attempts)" -ge 1 ]
check "phase 1: failing_since set" [ "$(up_field "$S" failing_since)" -gt 0 ]
px up >/dev/null
poll 45 "phase 1: 120 records over a 500 ms round trip" no_loss "$TW" "$S"
check "phase 1: failing_since cleared once linked" up_is "$S" failing_since 0
rtt=$(up_field "$S" rtt_ms)
check "phase 1: measured round trip $rtt ms is about 500 ms" test "$rtt" -ge 450 -a "$rtt" -le 3000

# ---- 2 ----
px set delay_ms=200 rate=2048 >/dev/null
b0=$(px_bytes)
t0=$(now_ms)
rec_n "$S" 300 drip
poll 60 "phase 2: 300 more records at 2 KB/s, 200 ms" no_loss "$TW" "$S"
b1=$(px_bytes)
echo "phase 2: $(($(now_ms) - t0)) ms, $((b1 - b0)) bytes on the wire" >&2
check "phase 2: the town's copy verifies" verified_at_town "$TW" "$S"

# ---- 3 ----
px set delay_ms=100 rate=0 >/dev/null
check "phase 3: connected before the blackhole" up_is "$S" connected true
px blackhole on >/dev/null
t0=$(now_ms)
poll 10 "phase 3: disconnected within dead_link_s (6 s) + 2 s" up_is "$S" connected false
check "phase 3: status says the link is dead" up_has "$S" last_error "dead link"
poll 10 "phase 3: the town dropped the dead session" session_is "$TW" xx/longhua/s no
rec_n "$S" 10 hole
px blackhole off >/dev/null
poll 40 "phase 3: back by itself after the blackhole" no_loss "$TW" "$S"
check "phase 3: the town has a session again" session_is "$TW" xx/longhua/s yes
check "phase 3: the town's copy verifies" verified_at_town "$TW" "$S"
finish
