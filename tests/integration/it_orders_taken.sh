# SPDX-License-Identifier: MIT
# it_orders_taken: an open order accepted by two stations that were both
# offline — exactly one wins, the OTHER SEES IT AS TAKEN through the town's
# log sent down (feature "down"), and the figures count it once (issue 11,
# Tests, second bullet; it_orders_race covers the town's side under kill -9).
#  1. Stations a and b pinned the town (--upstream-id); the town makes an
#     open order; both list it "dispatched".
#  2. The town goes down; a and b both accept the order; each lists it
#     "accepted" (each believes it took it).
#  3. The town comes back: it writes one order_assigned naming the winner;
#     the word comes down: the loser lists the order "taken" with the
#     winner as its station, the winner "accepted"; at the loser
#     `order accept` and `order done` are refused naming --id, nothing
#     recorded.
#  4. The winner completes it: the loser still lists it "taken", the town
#     "done"; the town's rollup counts one order dispatched, accepted, done.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

pinned_town || finish
for n in "$A" "$B"; do
    start_daemon "$n"
    wait_ready "$n" || finish
done
new_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT"; }
DAY=$(date +%F)
MONTH=$(date +%Y-%m)

# ---- 1 ----
expect_rc 0 w "$TW" order create --title 环保宣传 --service-kind environmental --due 2099-12-31 \
    --open --date "$DAY" --json
OPEN=$(new_id)
poll 20 "a lists the open order, dispatched" state_is "$A" order "$OPEN" dispatched
poll 20 "b lists the open order, dispatched" state_is "$B" order "$OPEN" dispatched

# ---- 2 ----
stop_daemon "$TPID"
expect_rc 0 w "$A" order accept "$OPEN" --date "$DAY"
expect_rc 0 w "$B" order accept "$OPEN" --team yiliao --date "$DAY"
check "a, offline, lists it accepted" state_is "$A" order "$OPEN" accepted
check "b, offline, lists it accepted" state_is "$B" order "$OPEN" accepted

# ---- 3 ----
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
poll 30 "the town assigns the open order" state_is "$TW" order "$OPEN" accepted
WIN=$(list_field "$TW" order "$OPEN" station)
check "the winner is a or b (got '$WIN')" \
    bash -c "[ '$WIN' = xx/longhua/a ] || [ '$WIN' = xx/longhua/b ]"
LOSER=$A LOSER_ID=xx/longhua/a WIN_DIR=$B
[ "$WIN" = xx/longhua/a ] && LOSER=$B LOSER_ID=xx/longhua/b WIN_DIR=$A
poll 30 "the town's word comes down: the loser sees the order taken" \
    state_is "$LOSER" order "$OPEN" taken
check "… taken by the winner" [ "$(list_field "$LOSER" order "$OPEN" station)" = "$WIN" ]
poll 30 "the winner lists it accepted" state_is "$WIN_DIR" order "$OPEN" accepted
HEAD=$(head_seq "$LOSER")
expect_rc 2 w "$LOSER" order accept "$OPEN"
expect_in "$ERR" "--id" "the loser's accept is refused naming --id"
expect_in "$ERR" "taken by $WIN" "… saying who took it"
expect_rc 0 w "$LOSER" record activity --date "$DAY" --category volunteer_service \
    --service-kind environmental --title 环保宣传 --participants 5
expect_rc 2 w "$LOSER" order done "$OPEN" --seq "$(head_seq "$LOSER")"
expect_in "$ERR" "--id" "the loser's completion is refused naming --id"
expect_in "$ERR" "cannot be completed here" "… saying it cannot be completed there"
check "nothing but the activity was recorded at the loser" \
    [ "$(head_seq "$LOSER")" = $((HEAD + 1)) ]

# ---- 4 ----
expect_rc 0 w "$WIN_DIR" record activity --date "$DAY" --category volunteer_service \
    --service-kind environmental --title 环保宣传 --participants 7
expect_rc 0 w "$WIN_DIR" order done "$OPEN" --seq "$(head_seq "$WIN_DIR")" --date "$DAY"
poll 30 "the town lists it done" state_is "$TW" order "$OPEN" done
poll 30 "the town's word comes down to the winner: done" state_is "$WIN_DIR" order "$OPEN" done
check "the loser still sees it taken" state_is "$LOSER" order "$OPEN" taken
poll 30 "everything verified at the town" converged "$TW" "$A" "$B"
expect_rc 0 w "$TW" rollup --period "$MONTH" --format json --out "$T/m.json"
check "the town's figures count the order once" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
t = j["totals"]["orders"]
rows = {r["id"]: r["totals"].get("orders", {}) for r in j["stations"]}
want = {"orders_dispatched": 1, "orders_accepted": 1, "orders_done": 1}
ok = all(t.get(k) == v for k, v in want.items())
for k in ("orders_accepted", "orders_done"):
    ok = ok and sum(r.get(k, 0) for r in rows.values()) == 1
    ok = ok and rows.get(sys.argv[2], {}).get(k) == 1
print(t, rows, file=sys.stderr)
sys.exit(0 if ok else 1)' "$T/m.json" "$WIN"
finish
