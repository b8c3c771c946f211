# SPDX-License-Identifier: MIT
# it_sync_auth: only enrolled, unrevoked keys reach the town's log.
#
#  1. u has the right town key but was never enrolled: the town never lists
#     it, u never reports connected, and the town logs the refused key.
#  2. w is enrolled but configured with the wrong upstream key (another
#     town's): it never connects and the town holds nothing of it.
#  3. r is revoked while it records continuously and syncs: from the moment
#     the revoke returns, the town's seq for r does not move (sampled for a
#     few seconds) while r's own head keeps growing; the town shows r as
#     "revoked", r's status shows last_reject "revoked..." and connected
#     false; a restarted r is refused at the door; a bundle of r is refused.
#     Meanwhile a keeps syncing and the town is caught up (revoked nodes
#     do not count).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
init_town "$TW" xx/longhua "$PORT" || finish
init_town "$T/other" xx/other 1 || finish # only for its (wrong) key
KEY=$(town_key "$TW")
A=$T/a R=$T/r U=$T/u W=$T/w
init_station "$A" xx/longhua/a "$PORT" "$KEY" || finish
init_station "$R" xx/longhua/r "$PORT" "$KEY" || finish
init_station "$U" xx/longhua/u "$PORT" "$KEY" || finish
init_station "$W" xx/longhua/w "$PORT" "$(town_key "$T/other")" || finish
RID=xx/longhua/r

start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" || finish
enroll "$A" "$TW" && enroll "$R" "$TW" && enroll "$W" "$TW" && pass "enrolled a, r, w (not u)" || finish
declare -A PID
for s in a r u w; do
    start_daemon "$T/$s"
    PID[$s]=$DPID
    wait_ready "$T/$s" || finish
    rec_n "$T/$s" 3 "auth-$s"
done
poll 20 "a and r sync" synced "$TW" "$A" "$R"

# ---- 1, 2 ----
outsiders_out() {
    local tj uj wj
    tj=$(st "$TW")
    uj=$(st "$U")
    wj=$(st "$W")
    echo "town: $tj; u: $uj; w: $wj" >"$T/why"
    [ "$(python3 -c "$SYNC_PY" row "$tj" xx/longhua/u seq)" = absent ] &&
        [ "$(python3 -c "$SYNC_PY" row "$tj" xx/longhua/w seq)" = 0 ] &&
        [ "$(python3 -c "$SYNC_PY" row "$tj" xx/longhua/w state)" = "never seen" ] &&
        [ "$(jget "$uj" connected acked_seq pending | tr '\n' ' ')" = "false 0 3 " ] &&
        [ "$(jget "$wj" connected acked_seq pending | tr '\n' ' ')" = "false 0 3 " ]
}
steady 3 "unenrolled u is not listed and never connects; w (wrong town key) never connects, town holds nothing of it" \
    outsiders_out
poll 10 "the town logs the refused unenrolled key" \
    grep -q "refused a connection from unenrolled transport key" "$TW/daemon.log"
check "u's records are still local only (head 3)" [ "$(head_seq "$U")" = 3 ]

# ---- 3 ----
r_writer() {
    local i=0
    while [ -d "$T" ] && [ ! -e "$T/stop" ]; do
        timeout -s KILL 5 "$WMCTL" -c "$R/wmsync.conf" record activity --date 2024-03-01 \
            --category theme_lecture --title "r-live-$i-宣讲" >/dev/null 2>&1 || sleep 0.05
        i=$((i + 1))
        sleep 0.01
    done
}
r_writer &
WPID=$!
on_exit() {
    touch "$T/stop" 2>/dev/null
    kill "$WPID" 2>/dev/null
    wait "$WPID" 2>/dev/null
    cleanup
}
trap on_exit EXIT

seq_above() { # seq_above ID N: the town holds more than N of ID
    local v
    v=$(town_row "$TW" "$1" seq)
    echo "town seq for $1 = $v, want > $2" >"$T/why"
    [ "$v" -gt "$2" ] 2>/dev/null
}
poll 20 "r syncs live while it writes (town seq > 13)" seq_above "$RID" 13
expect_rc 0 w "$TW" revoke --id "$RID"
frozen=$(town_row "$TW" "$RID" seq)
r_at_revoke=$(head_seq "$R")
steady 4 "after the revoke the town's seq for r stays at $frozen while r writes" \
    row_is "$TW" "$RID" seq "$frozen"
r_now=$(head_seq "$R")
check "r kept recording locally meanwhile (head $r_at_revoke -> $r_now)" [ "$r_now" -gt "$r_at_revoke" ]
check "town shows r as revoked" row_is "$TW" "$RID" state revoked
r_rejected() {
    local v
    v=$(jget "$(st "$R")" last_reject)
    echo "r last_reject = $v" >"$T/why"
    case "$v" in revoked*) return 0 ;; *) return 1 ;; esac
}
poll 10 "r's status last_reject says revoked" r_rejected
poll 20 "r reports connected false" field_is "$R" connected false
check "r shows records pending" [ "$(jget "$(st "$R")" pending)" -gt 0 ]

rec_n "$A" 3 "auth-a-after"
poll 20 "a keeps syncing after r's revocation" synced "$TW" "$A"
check "town: w (enrolled, never seen) keeps the town from being caught up" \
    python3 -c 'import json,sys; assert json.loads(sys.argv[1])["caught_up"] is False' "$(st "$TW")"
expect_rc 0 w "$TW" revoke --id xx/longhua/w
poll 10 "with r and w revoked, the town is caught up with a (revoked nodes do not count)" \
    converged "$TW" "$A"

# a restarted r is refused at the door, not just on its old connection
touch "$T/stop"
wait "$WPID" 2>/dev/null
stop_daemon "${PID[r]}" TERM
refusals() { grep -c "refused a connection from revoked $RID" "$TW/daemon.log"; }
before=$(refusals)
start_daemon "$R"
PID[r]=$DPID
wait_ready "$R" || finish
rec "$R" "r-after-restart" && pass "r records after its restart"
more_refusals() { echo "refusals: $(refusals), before $before" >"$T/why"; [ "$(refusals)" -gt "$before" ]; }
poll 15 "the town refuses the restarted r at the door (ZAP)" more_refusals
steady 2 "the town's seq for r still $frozen" row_is "$TW" "$RID" seq "$frozen"
check "restarted r is not connected" field_is "$R" connected false

expect_rc 0 w "$R" bundle export --out "$T/r.wmb"
w "$TW" bundle import "$T/r.wmb" >"$OUT" 2>"$ERR"
check "a bundle of revoked r is refused" [ $? -ne 0 ]
expect_in "$ERR" "revoked" "the refusal says r is revoked"
check "the town's seq for r is still $frozen" row_is "$TW" "$RID" seq "$frozen"

for s in a r u w; do stop_daemon "${PID[$s]}" TERM; done
stop_daemon "$TPID" TERM
for s in a r; do
    expect_rc 0 w "$T/$s" verify
done
finish
