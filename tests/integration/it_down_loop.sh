# SPDX-License-Identifier: MIT
# it_down_loop: the whole loop of issue 11 (群众点单 → 中心派单 → 站点接单 →
# 群众评单) with real daemons, each station learning what it needs from the
# town's log sent down (feature "down"), nobody typing ids across PCs:
#  1. station a raises a need; it syncs up; the town reviews it and
#     dispatches an order answering it to station b, which is offline;
#  2. b comes back: it receives the town's log, lists the order addressed
#     to it, accepts it; the town's word (order_assigned) comes down to a,
#     which lists the order answering its need as accepted by b;
#  3. b records the activity and completes the order; the town's word
#     (order_completed) comes down: a lists it done, and rates it; the
#     town lists it rated, taken by b, and the need accepted;
#  4. the figures: the town's rollup of the period counts one closed loop
#     and the rating;
#  5. the county's leg: a real county daemon above the town (the town
#     pinned it); the town publishes the period; the county's rollup shows
#     the closed loop, the rating and the satisfaction rate, its report
#     the paragraph (群众点单 … 群众满意率);
#  6. 层层派单: the county's own order reaches the town in the county's log
#     sent down; the town dispatches it again in its own log to b, naming
#     the county's order (--from-order); b lists it with that link, never
#     the county's own order (a station holds only its parent's log), and
#     takes it; the county's order counts in no figure of the town's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PC=$(free_port) || { fail "no free port"; finish; }
C=$T/county
"$WMCTL" init --role county --id xx --name 县中心 --dir "$C" --listen "tcp://127.0.0.1:$PC" \
    >/dev/null || { fail "init county"; finish; }
w "$C" keys >"$T/county.id"
start_daemon "$C"
CPID=$DPID
wait_ready "$C" "$CPID" || finish
PARENT=$C pinned_town --upstream "tcp://127.0.0.1:$PC" --upstream-id "$T/county.id" || finish
start_daemon "$A"
wait_ready "$A" || finish

new_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT"; }
DAY=$(date +%F)
MONTH=$(date +%Y-%m)

# ---- 1 ----
expect_rc 0 w "$A" need add --date "$DAY" --title 独居老人需要理发 --service-kind assistance \
    --resident 王秀英 --phone 13800001111 --json
NEED=$(new_id)
poll 20 "the need reached the town" synced "$TW" "$A"
poll 10 "the town lists the need, pending" state_is "$TW" need "$NEED" pending
expect_rc 0 w "$TW" need review "$NEED" --accept --date "$DAY"
expect_rc 0 w "$TW" order create --title 上门理发 --service-kind assistance --due 2099-12-31 \
    --to xx/longhua/b --need "$NEED" --date "$DAY" --json
ORD=$(new_id)
poll 20 "a lists the order answering its need, dispatched" state_is "$A" order "$ORD" dispatched

# ---- 2 ----
start_daemon "$B"
wait_ready "$B" || finish
poll 20 "b, back online, lists the order addressed to it" state_is "$B" order "$ORD" dispatched
expect_rc 0 w "$B" order accept "$ORD" --team yiliao --date "$DAY"
poll 30 "the town's word comes down: a sees the order accepted" state_is "$A" order "$ORD" accepted
check "a sees b took it" [ "$(list_field "$A" order "$ORD" station)" = xx/longhua/b ]

# ---- 3 ----
expect_rc 0 w "$B" record activity --date "$DAY" --category volunteer_service \
    --service-kind assistance --title 上门理发 --participants 3 --volunteers 2
ACT=$(w "$B" log --json | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["seq"])')
expect_rc 0 w "$B" order done "$ORD" --seq "$ACT" --date "$DAY"
poll 30 "the town's word comes down: a sees the order done" state_is "$A" order "$ORD" done
expect_rc 0 w "$A" order rate "$ORD" --score 5 --comment 很满意 --date "$DAY"
check "a lists it rated" state_is "$A" order "$ORD" rated
poll 30 "the town lists it rated" state_is "$TW" order "$ORD" rated
check "the town: taken by b" [ "$(list_field "$TW" order "$ORD" station)" = xx/longhua/b ]
check "the town: the need accepted" state_is "$TW" need "$NEED" accepted
check "no name or phone left station a" bash -c "! grep -rqa -e 王秀英 -e 13800001111 '$TW' '$B'"

# ---- 4 ----
poll 30 "everything verified at the town" converged "$TW" "$A" "$B"
# loop_figs FILE: the rollup's orders show one closed loop rated 5 (satisfied).
loop_figs() {
    python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["totals"].get("orders", {})
want = {"needs_received": 1, "needs_accepted": 1, "orders_dispatched": 1, "orders_accepted": 1,
        "orders_done": 1, "loops_closed": 1, "rating_sum": 5, "ratings_satisfied": 1,
        "rating_avg": 5.0, "satisfaction_rate": 1.0}
bad = {k: (o.get(k), v) for k, v in want.items() if o.get(k) != v}
print("orders differ (got, want): %s" % bad)
sys.exit(1 if bad else 0)' "$1" >"$T/why"
}
expect_rc 0 w "$TW" rollup --period "$MONTH" --format json --out "$T/town.json"
check "the town's rollup: one closed loop, its rating ($(loop_figs "$T/town.json"; cat "$T/why"))" \
    loop_figs "$T/town.json"
expect_rc 0 w "$TW" report --period "$MONTH" --lang zh
expect_in "$OUT" "群众点单1个，派单1个，完成1个，群众满意率100" "the town's report: the loop's paragraph"

# ---- 5: the county sees it after publication ----
expect_rc 0 w "$C" rollup --period "$MONTH" --format json --out "$T/c0.json"
check "the county counts no loop before the town publishes" \
    bash -c "! grep -q '\"loops_closed\": *1' '$T/c0.json'"
expect_rc 0 w "$TW" publish --period "$MONTH"
county_has() {
    rm -f "$T/county.json"
    w "$C" rollup --period "$MONTH" --format json --out "$T/county.json" >/dev/null 2>"$T/why" &&
        loop_figs "$T/county.json"
}
poll 30 "the county's rollup: the closed loop, its rating and satisfaction rate" county_has
expect_rc 0 w "$C" report --period "$MONTH" --lang zh
expect_in "$OUT" "群众点单1个，派单1个，完成1个，群众满意率100" "the county's report: the loop's paragraph"

# ---- 6: 层层派单 ----
expect_rc 0 w "$C" order create --title 县级文艺汇演 --service-kind other --due "$DAY" \
    --to xx/longhua --date "$DAY" --json
CORD=$(new_id)
poll 30 "the county's order comes down to the town" state_is "$TW" order "$CORD" dispatched
expect_rc 2 w "$TW" order create --title 县级文艺汇演 --service-kind other --due 2099-12-31 \
    --to xx/longhua/b --from-order not-an-id
expect_in "$ERR" "--from-order" "a bad --from-order is refused naming it"
expect_rc 0 w "$TW" order create --title 县级文艺汇演 --service-kind other --due 2099-12-31 \
    --to xx/longhua/b --from-order "$CORD" --date "$DAY" --json
TORD=$(new_id)
check "the town lists its order as the county's, dispatched again" \
    [ "$(list_field "$TW" order "$TORD" from_order)" = "$CORD" ]
poll 30 "b lists the town's order" state_is "$B" order "$TORD" dispatched
check "… naming the county's order" [ "$(list_field "$B" order "$TORD" from_order)" = "$CORD" ]
check "b holds only its town's log: the county's own order is not listed" \
    [ -z "$(list_field "$B" order "$CORD" id)" ]
expect_rc 0 w "$B" order accept "$TORD" --date "$DAY"
poll 30 "the town's word: the re-dispatched order accepted by b" state_is "$TW" order "$TORD" accepted
# The county's order is the county's, never the town's own figure (a town
# takes no order): the town counts its two orders, and the county's, due
# today and never taken, is no overdue order of the town's (it would be,
# in every town that holds the county's log, and added up again above).
town_orders() {
    rm -f "$T/t6.json"
    w "$TW" rollup --period "$MONTH" --format json --out "$T/t6.json" >/dev/null 2>"$T/why" &&
        python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
o = j["totals"]["orders"]
over = [p for p in j["problems"] if p["kind"] == "order_overdue"]
print("town orders %s, overdue problems %s" % (o, over))
sys.exit(0 if o["orders_dispatched"] == 2 and o["orders_accepted"] == 2 and
         o["orders_overdue"] == 0 and not over else 1)' "$T/t6.json" >"$T/why"
}
check "the town counts its own two orders, not the county's ($(town_orders; cat "$T/why"))" town_orders
expect_rc 0 w "$TW" publish --period "$MONTH"
county_twice() {
    rm -f "$T/c6.json"
    w "$C" rollup --period "$MONTH" --format json --out "$T/c6.json" >/dev/null 2>"$T/why" &&
        python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))["totals"]["orders"]
print("county orders %s" % o)
sys.exit(0 if o["orders_dispatched"] == 2 and o["orders_overdue"] == 0 else 1)' "$T/c6.json" >"$T/why"
}
poll 30 "the county: the loop's order and the one dispatched again, none overdue" county_twice
finish
