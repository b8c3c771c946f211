# SPDX-License-Identifier: MIT
# it_link_root_ns: a station and its town in two network namespaces
# joined by a veth (linkemu.sh), with the kernel's own TCP in between.
#
#  1. tc tbf at 40 kbit/s both ways (2G's rate; no netem here for its
#     latency: said, not faked): a 200-record backlog recorded offline
#     converges; time and the bytes on the veth (IP packets, all headers)
#     are printed.
#  2. nftables drops everything between them (no FIN, RST or ICMP) for
#     20 s (WM_LINK_FULL: 2 min), records written throughout: the station
#     shows disconnected within dead_link_s + 2 s and says why, the town
#     drops the session; when the drop ends the station's own retries (a
#     new SYN per attempt) bring it back, with nothing lost.
# Root only (exit 77 with a message otherwise).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/it_sync_lib.sh"
. "$(dirname "$0")/link_lib.sh"
. "$(dirname "$0")/linkemu.sh"

le_setup it_link_root_ns
LE_TIMERS_T="2 6" LE_TIMERS_S="2 6 10"
le_town_and_station || finish

# ---- 1 ----
le_blackhole on
rec_n "$S" 200 offline
le_rate 40kbit || { fail "tc tbf"; finish; }
le_blackhole off
b0=$(le_wire_bytes)
t0=$(now_ms)
poll 60 "tbf 40 kbit/s: the 200-record backlog converges" synced "$TW" "$S"
echo "scenario ns-40kbit: $(($(now_ms) - t0)) ms, $(($(le_wire_bytes) - b0)) bytes on the veth, 200 records"

# ---- 2 ----
start_writers writer_loop "$S"
poll 10 "blackhole: linked before" up_is "$S" connected true
le_blackhole on
t0=$(now_ms)
poll 10 "blackhole: disconnected within dead_link_s (6 s) + 2 s" up_is "$S" connected false
check "blackhole: status says why" up_has "$S" last_error "dead link"
poll 12 "blackhole: the town dropped the dead session" session_is "$TW" xx/longhua/s no
sleep "$(dur 20 120)"
le_blackhole off
t1=$(now_ms)
poll 60 "blackhole: linked again by itself" up_is "$S" connected true
echo "ns-blackhole: linked again $(($(now_ms) - t1)) ms after the drop ended"
stop_writers
written=$(wc -l <"$S.count")
check "blackhole: every record written is in the station's log" test "$(head_seq "$S")" = $((200 + written))
poll 30 "blackhole: converged, nothing lost" no_loss "$TW" "$S"
check "blackhole: the town's copy verifies" verified_at_town "$TW" "$S"
echo "scenario ns-blackhole: $(($(now_ms) - t0)) ms, $((200 + written)) records"
finish
