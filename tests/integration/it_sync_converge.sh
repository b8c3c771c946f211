# SPDX-License-Identifier: MIT
# it_sync_converge: a town and three stations over TCP loopback converge,
# and keep converging through outages.
#
#  1. Records at each station reach the town: the town says caught_up and
#     holds each station's head; each station has it acked, nothing pending.
#  2. The town stops (SIGTERM). Stations keep recording — local writes never
#     wait for the network — and show pending > 0 and connected false. The
#     town, read with its daemon down, still holds what it held.
#  3. Station b stops too, with records the town never saw. The town comes
#     back: a and c converge while they keep writing; b's seq at the town
#     stays where it was.
#  4. b comes back and records more at once: everything converges.
#  5. verify passes at every station (and the town's own log).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
init_town "$TW" xx/longhua "$PORT" || finish
KEY=$(town_key "$TW")
declare -A PID
for s in a b c; do
    init_station "$T/$s" "xx/longhua/$s" "$PORT" "$KEY" || finish
done
A=$T/a B=$T/b C=$T/c

start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" || finish
for s in a b c; do enroll "$T/$s" "$TW" || finish; done
pass "enrolled a, b, c"
for s in a b c; do
    start_daemon "$T/$s"
    PID[$s]=$DPID
    wait_ready "$T/$s" || finish
done

# ---- 1 ----
for s in a b c; do rec_n "$T/$s" 5 "p1-$s"; done
poll 20 "phase 1: town caught up with a, b, c (5 each)" converged "$TW" "$A" "$B" "$C"
for s in a b c; do
    check "phase 1: town seq for $s is 5" row_is "$TW" "xx/longhua/$s" seq 5
done
check "phase 1: a reports connected" field_is "$A" connected true

# ---- 2 ----
stop_daemon "$TPID" TERM
slow=0
for i in 1 2 3 4; do
    for s in a b c; do
        t0=$(now_ms)
        rec "$T/$s" "p2-$s-$i-town-down" || finish
        [ $(($(now_ms) - t0)) -gt 2000 ] && slow=$((slow + 1))
    done
done
check "phase 2: 12 local writes with the town down, none took over 2 s ($slow did)" [ "$slow" -eq 0 ]
for s in a b c; do
    check "phase 2: $s shows 4 pending" field_is "$T/$s" pending 4
    check "phase 2: $s acked_seq still 5" field_is "$T/$s" acked_seq 5
done
# A station notices a silent town after its silence timeout (15 s).
for s in a b c; do
    poll 25 "phase 2: $s reports connected false" field_is "$T/$s" connected false
done
check "phase 2: the town (daemon down) still holds a at 5" row_is "$TW" xx/longhua/a seq 5
rec "$A" "p2-a-late" && pass "phase 2: a local write still succeeds once the link is known down"
p2a=$(head_seq "$A")

# ---- 3 ----
stop_daemon "${PID[b]}" TERM
b_head=$(head_seq "$B")
check "phase 3: b stopped with records the town never saw ($b_head > 5)" [ "$b_head" -gt 5 ]
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" || finish
for i in 1 2 3; do rec "$A" "p3-a-$i" && rec "$C" "p3-c-$i" || finish; done
poll 45 "phase 3: a and c converge after the town restarts" synced "$TW" "$A" "$C"
check "phase 3: a's head grew past phase 2 ($p2a)" [ "$(head_seq "$A")" -gt "$p2a" ]
steady 2 "phase 3: b (stopped) stays at seq 5 at the town" row_is "$TW" xx/longhua/b seq 5
check "phase 3: b (daemon down) shows $((b_head - 5)) pending" field_is "$B" pending $((b_head - 5))

# ---- 4 ----
start_daemon "$B"
PID[b]=$DPID
wait_ready "$B" || finish
rec_n "$B" 3 "p4-b"
rec_n "$A" 2 "p4-a"
poll 45 "phase 4: all converge after b returns with more records" converged "$TW" "$A" "$B" "$C"
check "phase 4: town seq for b is b's head ($((b_head + 3)))" \
    row_is "$TW" xx/longhua/b seq $((b_head + 3))
for s in a b c; do
    check "phase 4: $s connected" field_is "$T/$s" connected true
    check "phase 4: $s last_reject empty" field_is "$T/$s" last_reject ""
done

# ---- 5 ----
for s in a b c; do stop_daemon "${PID[$s]}" TERM; done
stop_daemon "$TPID" TERM
for s in a b c; do
    expect_rc 0 w "$T/$s" verify
    expect_in "$OUT" "ok:" "verify at $s"
done
expect_rc 0 w "$TW" verify
check "after shutdown the town (read from disk) still holds every head" \
    synced "$TW" "$A" "$B" "$C"
finish
