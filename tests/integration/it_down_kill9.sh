# SPDX-License-Identifier: MIT
# it_down_kill9: a station killed with kill -9 while it receives its town's
# log (feature "down"), in a loop: nothing it acknowledged is lost, nothing
# is applied twice.
#
# The town's own log holds N records (default 30,000, made by gen_log before
# its first start) and grows while the test runs (a writer sends notices).
# Station a pinned the town. For ROUNDS rounds (default 20): after a random
# 0.05-0.4 s, the town's row for a says how far a acknowledged the town's
# log (down_seq, as the town last stored it: at or below what a acked);
# kill -9 of a; a's store, read with the daemon down, must hold at least
# that much of the town's log; a restarts.
#
# At the end, with the writer stopped: a holds the town's whole log, it
# verifies at a (every record once, chained, each signature by the pinned
# key: a record applied twice would break the chain), and the town's row
# for a says it holds all of it.
#
#   it_down_kill9.sh WMCTL WMSYNCD GEN_LOG
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

GEN_LOG=${3:-}
[ -x "$GEN_LOG" ] || { echo "usage: $0 WMCTL WMSYNCD GEN_LOG" >&2; exit 2; }
ROUNDS=${ROUNDS:-20}
N=${N:-30000}
PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town A=$T/a
init_town "$TW" xx/longhua "$PORT" || finish
${WM_EXEC_WRAPPER:-} "$GEN_LOG" "$TW" "$N" >"$OUT" 2>"$ERR" || { fail "gen_log: $(cat "$ERR")"; finish; }
w "$TW" keys >"$T/town.id"
"$WMCTL" init --role station --id xx/longhua/a --name 站a --dir "$A" \
    --upstream "tcp://127.0.0.1:$PORT" --upstream-id "$T/town.id" >/dev/null || finish
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$A" "$TW" || finish
start_daemon "$A"
APID=$DPID
wait_ready "$A" "$APID" || finish

# down_have DIR: how far the node holds its parent's log (status, LMDB or live).
down_have() { st "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["down"]["have_seq"])'; }
down_have_is() {
    local v
    v=$(down_have "$1")
    echo "a holds $v" >"$T/why"
    [ "$v" = "$2" ]
}

writer() { # writer town
    local i=0
    while [ -d "$T" ] && [ ! -e "$T/stop" ]; do
        timeout -s KILL 2 "$WMCTL" -c "$TW/wmsync.conf" notice send --title "k9-$i" --body x \
            >/dev/null 2>&1 || sleep 0.02
        i=$((i + 1))
        sleep 0.01
    done
}
start_writers writer town

lost=0 max_acked=0 mid=0
for round in $(seq 1 "$ROUNDS"); do
    sleep "$(printf '0.%02d' $((5 + RANDOM % 36)))"
    acked=$(town_row "$TW" xx/longhua/a down_seq)
    [ "$acked" -gt "$max_acked" ] 2>/dev/null && max_acked=$acked
    kill9 "$APID"
    have=$(down_have "$A")
    if ! [ "$have" -ge "$acked" ] 2>/dev/null; then
        fail "round $round: a acknowledged the town's log to $acked but holds $have after kill -9"
        lost=$((lost + 1))
    fi
    [ "$have" -lt "$N" ] 2>/dev/null && mid=$((mid + 1))
    start_daemon "$A"
    APID=$DPID
    wait_ready "$A" "$APID" 10 || { fail "round $round: a did not restart"; break; }
done
stop_writers
check "nothing acknowledged was lost at any of $ROUNDS kills" [ "$lost" -eq 0 ]
check "the check was not vacuous (a had acknowledged $max_acked before a kill)" [ "$max_acked" -gt 0 ]
check "kills landed while a was still receiving the backlog ($mid of $ROUNDS)" [ "$mid" -gt 0 ]

head=$(jget "$(st "$TW")" head_seq)
poll 60 "a holds the town's whole log ($head records)" down_have_is "$A" "$head"
poll 20 "the town's row for a says so" row_is "$TW" xx/longhua/a down_seq "$head"
stop_daemon "$APID" TERM
expect_rc 0 w "$A" verify --station xx/longhua
expect_in "$OUT" "ok: xx/longhua: $head record(s)" \
    "a's copy verifies: every record once, chained, signed by the pinned key"
stop_daemon "$TPID" TERM
finish
