# SPDX-License-Identifier: MIT
# it_orders_race: the aggregator's word on its orders, with real daemons at
# one town and two stations (issue 11 slice 2, PROTOCOL.md §3 "The
# aggregator's word").
#  1. The town makes an open order and an order to b, then stops. While it
#     is down, a and b both accept the open order, a accepts b's order, b
#     accepts its own and completes it with an activity. (The stations
#     type the ids `order create` printed: the town's log does not flow
#     down yet.)
#  2. The town starts with WMSYNCD_CRASH_AT=orders-pending: it promotes
#     the stations' steps and is killed (SIGKILL) before it writes its
#     word. Its log holds no order_assigned.
#  3. It starts again, normally, and writes the word from the stored logs:
#     exactly one order_assigned for the open order, naming a or b; one for
#     b's order, naming b (a's acceptance of it is stored, not counted);
#     one order_completed naming b.
#  4. A later acceptance (after the word) and a completion by the loser
#     add nothing; killed again right after writing (orders-written) and
#     restarted: still one word of each.
#  5. The town's rollup counts each order once: two dispatched, two
#     accepted, two done, in the totals and summed over the rows; its
#     problems list the steps not counted (the loser's acceptance: "order
#     taken by another station", its completion, a's acceptance of b's
#     order), and the report says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

orders_town || finish
TODAY=$(date +%F)
new_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT"; }

# words KIND ORDER: the town's own records of KIND naming ORDER, one line
# each with the station named (its log read with the daemon up or down).
words() {
    w "$TW" log --json 2>/dev/null | python3 -c '
import json, sys
kind, oid = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    o = json.loads(line)
    b = o.get(kind)
    if o.get("kind") == kind and b and "%s:%s:%s" % (b.get("order_station"), b.get("order_epoch", 0), b.get("order_seq")) == oid:
        print(b.get("station"))' "$1" "$2"
}
count_is() { [ "$(words "$1" "$2" | grep -c .)" = "$3" ]; }

# ---- 1 ----
expect_rc 0 w "$TW" order create --title 环保宣传 --service-kind environmental --due 2099-04-30 \
    --open --json
OPEN=$(new_id)
expect_rc 0 w "$TW" order create --title 上门理发 --service-kind assistance --due 2099-03-31 \
    --to xx/longhua/b --json
TOB=$(new_id)
stop_daemon "$TPID"
for n in "$A" "$B"; do
    start_daemon "$n"
    wait_ready "$n" || finish
done
expect_rc 0 w "$A" order accept "$OPEN"
expect_rc 0 w "$B" order accept "$OPEN" --team yiliao
expect_rc 0 w "$A" order accept "$TOB"
expect_rc 0 w "$B" order accept "$TOB"
expect_rc 0 w "$B" record activity --date "$TODAY" --category volunteer_service --service-kind assistance \
    --title 上门理发 --participants 3
ACT=$(head_seq "$B")
expect_rc 0 w "$B" order done "$TOB" --seq "$ACT"

# ---- 2 ----
WMSYNCD_CRASH_AT=orders-pending start_daemon "$TW"
TPID=$DPID
if wait_exit "$TPID" 30; then
    check "the town was killed after promoting the steps (rc $EXIT_RC)" [ "$EXIT_RC" = 137 ]
else
    fail "the town did not reach its crash point"
    kill9 "$TPID"
fi
check "the town logged its crash point" grep -q "WMSYNCD_CRASH_AT=orders-pending" "$TW/daemon.log"
check "no word was written before the crash" count_is order_assigned "$OPEN" 0

# ---- 3 ----
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
poll 20 "a and b reached the town" synced "$TW" "$A" "$B"
poll 20 "one order_completed for b's order" count_is order_completed "$TOB" 1
check "exactly one order_assigned for the open order" count_is order_assigned "$OPEN" 1
WIN=$(words order_assigned "$OPEN")
check "the open order went to a or b (got '$WIN')" \
    bash -c "[ '$WIN' = xx/longhua/a ] || [ '$WIN' = xx/longhua/b ]"
check "b's order was assigned once, to b" [ "$(words order_assigned "$TOB")" = xx/longhua/b ]
check "b's order was completed by b" [ "$(words order_completed "$TOB")" = xx/longhua/b ]
poll 10 "the town logs a's acceptance of b's order as not counted" \
    grep -q "xx/longhua/a's order_accept .* is stored, not counted: order addressed to another station" \
    "$TW/daemon.log"
poll 10 "the town logs the losing acceptance of the open order" \
    grep -q "order_accept .* is stored, not counted: order taken by another station" "$TW/daemon.log"
w "$TW" order list --json >"$T/list" 2>/dev/null
check "the town lists the open order accepted by the winner" python3 -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
o = [x for x in o if x["id"] == sys.argv[2]][0]
sys.exit(0 if o["state"] == "accepted" and o["station"] == sys.argv[3] else 1)' "$T/list" "$OPEN" "$WIN"

# ---- 4 ----
LOSER=$A
[ "$WIN" = xx/longhua/a ] && LOSER=$B
expect_rc 0 w "$LOSER" record activity --date "$TODAY" --category volunteer_service --service-kind environmental \
    --title 环保宣传 --participants 5
expect_rc 0 w "$LOSER" order done "$OPEN" --seq "$(head_seq "$LOSER")"
stop_daemon "$TPID"
WMSYNCD_CRASH_AT=orders-written start_daemon "$TW"
TPID=$DPID
WIN_DIR=$A
[ "$WIN" = xx/longhua/b ] && WIN_DIR=$B
expect_rc 0 w "$WIN_DIR" record activity --date "$TODAY" --category volunteer_service --service-kind environmental \
    --title 环保宣传 --participants 7
expect_rc 0 w "$WIN_DIR" order done "$OPEN" --seq "$(head_seq "$WIN_DIR")"
if wait_exit "$TPID" 30; then
    check "the town was killed right after writing its word (rc $EXIT_RC)" [ "$EXIT_RC" = 137 ]
else
    fail "the town did not reach its second crash point"
    kill9 "$TPID"
fi
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
poll 20 "a and b reached the town again" synced "$TW" "$A" "$B"
poll 10 "the winner's completion got its word" count_is order_completed "$OPEN" 1
check "… naming the winner" [ "$(words order_completed "$OPEN")" = "$WIN" ]
check "still one order_assigned for the open order after the kill" count_is order_assigned "$OPEN" 1
check "still one order_assigned for b's order" count_is order_assigned "$TOB" 1
check "still one order_completed for b's order" count_is order_completed "$TOB" 1
# The town decides after promoting, and promoting follows storing, so
# "synced" can hold before the loser's steps are in its log: wait for its word.
poll 10 "the loser's completion is not counted" \
    grep -q "order_done .* is stored, not counted: order not accepted by this station" "$TW/daemon.log"
# ---- 5: the figures count each order once ----
MONTH=$(date +%Y-%m)
expect_rc 0 w "$TW" rollup --period "$MONTH" --format json --out "$T/m.json"
check "the town's figures count each order once" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
t = j["totals"]["orders"]
rows = [r["totals"].get("orders", {}) for r in j["stations"]]
want = {"orders_dispatched": 2, "orders_accepted": 2, "orders_done": 2}
ok = all(t[k] == v for k, v in want.items())
ok = ok and sum(r.get("orders_accepted", 0) for r in rows) == 2
ok = ok and sum(r.get("orders_done", 0) for r in rows) == 2
print(t, file=sys.stderr)
sys.exit(0 if ok else 1)' "$T/m.json"
LOSER_ID=xx/longhua/a
[ "$WIN" = xx/longhua/a ] && LOSER_ID=xx/longhua/b
check "the problems list every step not counted, and why" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
got = {(p["station"], p["order"], p["step"], p["reason"]) for p in j["problems"]
       if p["kind"] == "order_step_not_counted"}
want = {(sys.argv[2], sys.argv[3], "order_accept", "order_taken"),
        (sys.argv[2], sys.argv[3], "order_done", "order_not_accepted"),
        ("xx/longhua/a", sys.argv[4], "order_accept", "order_not_addressed")}
print(sorted(got), file=sys.stderr)
sys.exit(0 if got == want else 1)' "$T/m.json" "$LOSER_ID" "$OPEN" "$TOB"
expect_rc 0 w "$TW" report --period "$MONTH" --lang zh
expect_in "$OUT" "订单已被其他站点接走" "the report names the order taken by another station"
finish
