# SPDX-License-Identifier: MIT
# it_link_root_nat: a NAT that silently forgets idle flows, between a
# station and its town in two network namespaces (linkemu.sh: conntrack
# forgets a flow idle 3 s; its later packets are
# dropped, no RST). The protocol's heartbeat comes every 8 s here, so only
# TCP keepalive can keep the mapping.
#
#  1. keepalive_s = 1: the kernel's probes keep the mapping; the link stays
#     up longer than dead_link_s with no reconnection, and the town keeps
#     the session.
#  2. keepalive_s = 0 (the old behaviour: libzmq's default, no keepalive),
#     the link idle: the NAT forgets the flow between heartbeats, the next
#     one is dropped; the station notices (dead_link_s), says so,
#     reconnects by itself, and converges with nothing lost.
# A proxy cannot show this: its own socket would answer the probes.
# Root only (exit 77 with a message otherwise).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/it_sync_lib.sh"
. "$(dirname "$0")/link_lib.sh"
. "$(dirname "$0")/linkemu.sh"

# nat_dropped_since N: the NAT dropped more than N packets so far.
nat_dropped_since() {
    local n
    n=$(le_nat_drops)
    echo "the NAT dropped $n packets (before: $1)" >"$T/why"
    [ "$n" -gt "$1" ]
}

le_setup it_link_root_nat
# The same in the full form: a 60 s NAT would need heartbeats sparser than a
# minute on both sides and several minutes per phase; the 60 s NAT of the
# full form is it_link_scn nat (the heartbeat keeps the mapping).
IDLE=3
HB=$((IDLE + 5 > 8 ? IDLE + 5 : 8)) # heartbeats sparser than the NAT's timeout
LE_TIMERS_T="$HB $((2 * HB))" LE_TIMERS_S="$HB $((2 * HB)) 10 1"
le_town_and_station || finish
le_nat "$IDLE" "$PORT" || { echo "it_link_root_nat: SKIP: no nft ct timeout here"; exit 77; }
# The flow made before the rules has no timeout policy: start afresh.
stop_daemon "$SPID"
le_start "$S" "$LE_S"
SPID=$DPID
wait_ready "$S" "$SPID" || finish

# ---- 1 ----
rec_n "$S" 5 first
poll 30 "keepalive: linked and in step" synced "$TW" "$S"
d0=$(le_nat_drops)
steady $((2 * HB + 8)) "keepalive 1 s: the NAT (idle ${IDLE}s) keeps the flow, linked throughout" \
    up_is "$S" connected true
d1=$(le_nat_drops)
echo "nat: with keepalive the link held for $((2 * HB + 8)) s (more than dead_link_s, $((2 * HB)) s);" \
    "the NAT dropped $((d1 - d0)) stray packets meanwhile"
check "keepalive: no reconnection" up_is "$S" attempts 0
check "keepalive: the town kept the session" session_is "$TW" xx/longhua/s yes

# ---- 2 ----
stop_daemon "$SPID"
sed -i 's/^keepalive_s = .*/keepalive_s = 0/' "$S/wmsync.conf"
le_start "$S" "$LE_S"
SPID=$DPID
wait_ready "$S" "$SPID" || finish
poll 30 "no keepalive: linked" up_is "$S" connected true
d2=$(le_nat_drops)
t0=$(now_ms)
# Idle now (a writer would keep the flow busy): only heartbeats, every ${HB}s.
poll $((3 * HB + 10)) "no keepalive: the station notices the dead link" up_has "$S" last_error "dead link"
check "no keepalive: the NAT dropped the forgotten flow's packets" nat_dropped_since "$d2"
echo "nat: without keepalive the link died after $(($(now_ms) - t0)) ms idle"
rec_n "$S" 10 after
poll 30 "no keepalive: linked again by itself" up_is "$S" connected true
poll 30 "no keepalive: converged, nothing lost" no_loss "$TW" "$S"
check "no keepalive: the town's copy verifies" verified_at_town "$TW" "$S"
finish
