# SPDX-License-Identifier: MIT
# it_orders: needs and orders at a town and two stations with real
# daemons (slice 1 of issue 11: the loop as it works today, orders typed
# at the stations by id; the parent's log does not yet flow down).
#  1. Station a raises a need with a resident's name and phone: the name
#     and phone stay in a's residents.tsv (0600) and appear in no log, at
#     a or at the town; the need reaches the town, which lists it pending.
#  2. The town reviews it, creates an order to b answering it, an open
#     one, one already overdue, and sends a notice; order list --json
#     shows each with the id order create printed.
#  3. b accepts (today), records the activity, completes (dated before
#     the acceptance: still applied); a and b accept the open order (one
#     taker); a rates b's order. The town's list shows rated, accepted,
#     overdue, cancelled as the records say. (A station does not list the
#     town's orders yet: the town's log flows down in slice 3.)
#  3b. The town's rollup of March 2024 counts the need, the orders, the
#     closed loop and its rating at the right stations; one order overdue
#     at the period's end; the report has its needs-and-orders paragraph.
#  4. Bad input is refused naming the field, nothing recorded; so is a
#     kind of the other tier (a station's order create, a town's need add).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

orders_town || finish
for n in "$A" "$B"; do
    start_daemon "$n"
    wait_ready "$n" || finish
done

new_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT"; }

# ---- 1 ----
expect_rc 0 w "$A" need add --date 2024-03-04 --title 独居老人需要理发 --service-kind assistance \
    --detail 每月一次 --resident 王秀英 --phone 13800001111 --json
NEED=$(new_id)
check "need id names station a's log" [ "${NEED%%:*}" = xx/longhua/a ]
m=$(stat -c %a "$A/residents.tsv" 2>/dev/null)
check "residents.tsv is mode 0600 (got $m)" [ "$m" = 600 ]
check "the resident's name is in a's local table" grep -q $'\t王秀英\t13800001111$' "$A/residents.tsv"
ref=$(cut -f1 "$A/residents.tsv")
expect_rc 0 w "$A" log --json
expect_in "$OUT" "$ref" "the need carries the random reference"
check "no name or phone in a's log" bash -c "! grep -q -e 王秀英 -e 13800001111 '$OUT'"
poll 20 "the need reached the town" synced "$TW" "$A"
poll 10 "the town lists the need, pending" state_is "$TW" need "$NEED" pending
check "the town's store holds no name or phone" bash -c \
    "! grep -rqa -e 王秀英 -e 13800001111 '$TW'"

# ---- 2 ----
expect_rc 0 w "$TW" need review "$NEED" --accept --date 2024-03-05
check "the town sees the need accepted" state_is "$TW" need "$NEED" accepted
expect_rc 0 w "$TW" order create --title 上门理发 --service-kind assistance --due 2099-03-31 \
    --to xx/longhua/b --need "$NEED" --date 2024-03-05 --json
O1=$(new_id)
expect_rc 0 w "$TW" order create --title 环保宣传 --service-kind environmental --due 2099-04-30 --open --json
O2=$(new_id)
expect_rc 0 w "$TW" order create --title 普法讲座 --service-kind legal --due 2024-03-10 \
    --to xx/longhua/b --date 2024-03-01 --json
O3=$(new_id)
expect_rc 0 w "$TW" order create --title 交通引导 --service-kind traffic --due 2099-01-01 --open --json
O4=$(new_id)
check "order ids name the town's log" [ "${O1%%:*}" = xx/longhua ]
check "order 1 dispatched" state_is "$TW" order "$O1" dispatched
check "order 3 overdue (due 2024-03-10, not done)" state_is "$TW" order "$O3" overdue
check "order 1's due in the listing" [ "$(list_field "$TW" order "$O1" due)" = 2099-03-31 ]
# The listing's columns line up by display width in any locale (the tests
# run with LANG=C): a Chinese title takes two columns a character, so the
# addressee starts at column 73 (id 24, state 10, due 10, title 24, gaps).
expect_rc 0 w "$TW" order list
check "order list: the addressee column lines up under Chinese titles" python3 -c '
import sys, unicodedata
def width(s): return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
rows = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
at = [width(l[:max(l.rfind(" xx/"), l.rfind(" ("))]) + 1 for l in rows]
sys.exit(0 if len(rows) == 4 and set(at) == {73} else 1)' "$OUT"
expect_rc 0 w "$TW" order cancel "$O4" --reason 天气原因
check "order 4 cancelled" state_is "$TW" order "$O4" cancelled
expect_rc 0 w "$TW" notice send --title 五月外出考察 --body "各站五月底前组织一次外出考察学习。"
expect_rc 0 w "$TW" notice list --json
expect_in "$OUT" 五月外出考察 "the town lists its notice"

# ---- 3 ----
expect_rc 0 w "$B" order accept "$O1" --team yiliao
expect_rc 0 w "$B" record activity --date 2024-03-06 --category volunteer_service \
    --service-kind assistance --title 上门理发 --participants 3
ACT=$(w "$B" log --json | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["seq"])')
expect_rc 0 w "$B" order done "$O1" --seq "$ACT" --date 2024-03-06
expect_rc 0 w "$A" order accept "$O2"
expect_rc 0 w "$B" order accept "$O2"
expect_rc 0 w "$A" order rate "$O1" --score 5 --comment 很满意 --date 2024-03-07
poll 20 "a and b reached the town" synced "$TW" "$A" "$B"
check "the town: order 1 rated" state_is "$TW" order "$O1" rated
check "the town: order 1 taken by b" [ "$(list_field "$TW" order "$O1" station)" = xx/longhua/b ]
check "the town: open order 2 accepted" state_is "$TW" order "$O2" accepted
check "the town: one taker of order 2 (a, applied first)" \
    [ "$(list_field "$TW" order "$O2" station)" = xx/longhua/a ]

# ---- 3b: the figures of March 2024 and the report's paragraph ----
# need 03-04 (a), reviewed 03-05; orders 1 (03-05, to b) and 3 (03-01, to b,
# due 03-10, never done: overdue); 1 done 03-06, rated 5 by a (its need) 03-07
expect_rc 0 w "$TW" rollup --period 2024-03 --format json --out "$T/m.json"
# fig PATH: a figure of the town's March rollup (totals.orders.PATH, or a row's)
fig() {
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
o = j["totals"] if len(sys.argv) < 4 else [r for r in j["stations"] if r["id"] == sys.argv[3]][0]["totals"]
print(json.dumps(o["orders"][sys.argv[2]]))' "$T/m.json" "$@"
}
for kv in needs_received=1 needs_accepted=1 needs_rejected=0 orders_dispatched=2 orders_done=1 \
    orders_overdue=1 loops_closed=1 rating_sum=5 ratings_satisfied=1 rating_avg=5.0 \
    satisfaction_rate=1.0; do
    check "the town's March figure ${kv%%=*} is ${kv#*=} (got $(fig "${kv%%=*}"))" \
        [ "$(fig "${kv%%=*}")" = "${kv#*=}" ]
done
check "the need counts at a" [ "$(fig needs_received xx/longhua/a)" = 1 ]
check "the orders count at b, the station that took them" \
    [ "$(fig orders_done xx/longhua/b)" = 1 ] && [ "$(fig loops_closed xx/longhua/b)" = 1 ]
check "March problems: order 3 overdue at b" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["problems"]
sys.exit(0 if [x for x in p if x["kind"] == "order_overdue" and x["order"] == sys.argv[2] and x["station"] == "xx/longhua/b"] else 1)' "$T/m.json" "$O3"
expect_rc 0 w "$TW" report --period 2024-03 --lang zh
expect_in "$OUT" "群众点单1个，派单2个，完成1个，群众满意率100%" "the report's paragraph on needs and orders"
expect_rc 0 w "$TW" report --period 2024-02 --lang zh
check "no needs in February: no such paragraph" bash -c "! grep -q 群众点单 '$OUT'"

# ---- 4 ----
before=$(head_seq "$A")
expect_rc 2 w "$A" order rate "$O1" --score 6
expect_in "$ERR" "--score" "a score of 6 is refused naming --score"
expect_rc 2 w "$A" order accept not-an-id
expect_in "$ERR" "--id" "a bad order id is refused naming the id"
expect_rc 2 w "$TW" order create --title x --service-kind legal --due 2099-01-01
expect_in "$ERR" "--to" "an order with neither --to nor --open is refused"
expect_rc 2 w "$A" need add --title x --service-kind nope
expect_in "$ERR" "--service-kind" "an unknown service kind is refused naming it"
expect_rc 2 w "$TW" need review "$NEED" --reject
expect_in "$ERR" "--reason" "a rejection without a reason is refused naming --reason"
# who may write what: each daemon refuses the other tier's kinds, naming the field
expect_rc 2 w "$A" order create --title x --service-kind legal --due 2099-01-01 --open
expect_in "$ERR" "kind" "a station's daemon refuses a service order naming the kind"
expect_in "$ERR" "service_order" "… and names the record kind"
expect_rc 2 w "$A" notice send --title x --body y
expect_in "$ERR" "kind" "a station's daemon refuses a notice naming the kind"
expect_rc 2 w "$A" order cancel "$O2" --reason x
expect_in "$ERR" "kind" "a station's daemon refuses an order cancel naming the kind"
expect_rc 2 w "$A" need review "$NEED" --accept
expect_in "$ERR" "kind" "a station's daemon refuses a need review naming the kind"
tbefore=$(head_seq "$TW")
expect_rc 2 w "$TW" need add --title x --service-kind legal
expect_in "$ERR" "kind" "a town's daemon refuses a need naming the kind"
expect_rc 2 w "$TW" order accept "$O2"
expect_in "$ERR" "kind" "a town's daemon refuses an order acceptance naming the kind"
expect_rc 2 w "$TW" order rate "$O1" --score 5
expect_in "$ERR" "kind" "a town's daemon refuses a rating naming the kind"
check "nothing recorded at the town by the refused commands" [ "$(head_seq "$TW")" = "$tbefore" ]
check "nothing recorded at a by the refused commands" [ "$(head_seq "$A")" = "$before" ]
finish
