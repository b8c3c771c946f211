# SPDX-License-Identifier: MIT
# it_down: the town's own log replicated down to its stations (feature
# "down", PROTOCOL.md §8), with real daemons.
#  1. Pinning: station a is made with --upstream-id (the town's `wmctl
#     keys` line); station b with --upstream-key alone. The town sends a
#     notice and orders: a receives the town's whole log (status: held to
#     the town's head, pinned key matches; the town's row for a says how
#     far a holds it; a's copy verifies, chain and signatures), lists the
#     order addressed to it; b keeps syncing up and receives nothing.
#     a lists the orders addressed to it, the open ones, and the one to b
#     that answers its own need, not b's other order; it may not accept
#     b's order, nor one the town's log does not hold.
#  2. Live: a record the town writes later reaches a.
#  3. b pins the town later (wmctl upstream-id): a line whose transport key
#     is not b's upstream_key, or of a station, is refused; the town's line
#     is pinned and b receives the log from its next connection.
#  4. Bundles, at station c that has no link: the town's bundle is
#     imported and verified (then again: nothing new); a bundle of another
#     town is refused (wrong_parent), nothing stored.
#  5. Hostile parents, each refused with its reason and nothing stored:
#     records of the town's id signed by another key (bad_signature); a
#     fork of the town's log (a copy of its node directory writing other
#     records at the same seqs): refused as equivocation at a, the proof
#     kept and shown; later records of the real town are refused too (the
#     log stays stopped at the fork).
#  5b. Fork reset (wmctl upstream-id --reset-fork): refused where no fork
#     is recorded; at a, the forked copy is archived (xx/longhua~fork-1,
#     its proof and the record held shown by --forks, text and JSON), the
#     town's log kept to the last common record and taken again to the
#     town's head; the fork mark gone, status says one was reset, order
#     lists show the town's orders once; a second reset is refused.
#  6. A town that offers no "down" (WMSYNCD_FEATURES_OFF=down, as a build
#     before it): a syncs up as before and receives nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town A=$T/a B=$T/b C=$T/c
init_town "$TW" xx/longhua "$PORT" || finish
KEY=$(town_key "$TW")
w "$TW" keys >"$T/town.id" || fail "town keys"
expect_rc 0 "$WMCTL" init --role station --id xx/longhua/a --name 站a --dir "$A" \
    --upstream "tcp://127.0.0.1:$PORT" --upstream-id "$T/town.id"
expect_in "$OUT" "parent: xx/longhua pinned" "init --upstream-id says what it pinned"
check "the pin is the town's line" cmp -s "$A/upstream.id" "$T/town.id"
init_station "$B" xx/longhua/b "$PORT" "$KEY" || finish
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$A" "$TW" && enroll "$B" "$TW" || finish
start_daemon "$A"
wait_ready "$A" || finish
start_daemon "$B"
BPID=$DPID
wait_ready "$B" || finish

# has_town_head NODE: the node holds the town's log up to the town's head.
has_town_head() { down_is "$1" have_seq "$(jget "$(st "$TW")" head_seq)"; }

# down_rejected TOWN ID SLUG: the town's row for ID says the child's last
# refusal of our log was SLUG.
down_rejected() {
    local r
    r=$(town_row "$1" "$2" down_reject)
    echo "down_reject = $r" >"$T/why"
    [ "${r%%:*}" = "$3" ]
}

# ---- 1 ----
expect_rc 0 w "$TW" notice send --title 五月外出考察 --body "各站五月底前组织一次外出考察学习。"
expect_rc 0 w "$TW" order create --title 上门理发 --service-kind assistance --due 2099-03-31 \
    --to xx/longhua/a --json
O1=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT")
expect_rc 0 w "$TW" order create --title 环保宣传 --service-kind environmental --due 2099-04-30 --open
rec "$B" "b's own record" || finish
poll 20 "a holds the town's log to its head (3)" down_is "$A" have_seq 3
check "a: caught up with the town's head" down_is "$A" caught_up true
check "a: the pinned key matches the town's" down_is "$A" pin_ok true
expect_rc 0 w "$A" status
expect_in "$OUT" "xx/longhua's log held to epoch 1 seq 3 of seq 3 (caught up); pinned key matches" \
    "status text says how far the parent's log is held"
poll 10 "the town's row for a: it holds our log to seq 3" row_is "$TW" xx/longhua/a down_seq 3
check "the town's row for a: nothing behind" row_is "$TW" xx/longhua/a down_lag 0
expect_rc 0 w "$TW" status
expect_in "$OUT" "holds our log to epoch 1 seq 3 (0 behind)" "the town's status text says it"
expect_rc 0 w "$A" verify --station xx/longhua
expect_rc 0 w "$A" order list --json
expect_in "$OUT" "$O1" "a lists the order addressed to it, from the town's log"
expect_rc 0 w "$A" notice list
expect_in "$OUT" 五月外出考察 "a lists the town's notice"
poll 20 "b still syncs up" synced "$TW" "$B"
check "b pinned nothing" down_is "$B" pinned false
check "the town's row for b: it never asked for our log" row_is "$TW" xx/longhua/b down_at 0
expect_rc 0 w "$B" notice list
check "b holds none of the town's log" bash -c "! grep -q 五月外出考察 '$OUT'"

# ---- 1b: what a station lists, and what it may accept ----
expect_rc 0 w "$A" need add --title 独居老人需要理发 --service-kind assistance --date 2024-03-04 --json
NEED=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT")
poll 20 "a's need reached the town" synced "$TW" "$A"
expect_rc 0 w "$TW" order create --title 给b的订单 --service-kind legal --due 2099-05-01 \
    --to xx/longhua/b --json
OB=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT")
expect_rc 0 w "$TW" order create --title 答a的需求 --service-kind assistance --due 2099-05-01 \
    --to xx/longhua/b --need "$NEED" --json
ON=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT")
poll 20 "a holds the town's log to seq 5" down_is "$A" have_seq 5
expect_rc 0 w "$A" order list --json
check "a does not list an order addressed to b" bash -c "! grep -q '\"$OB\"' '$OUT'"
expect_in "$OUT" "$ON" "a lists the order addressed to b that answers a's need (it will rate it)"
expect_in "$OUT" 环保宣传 "a lists the town's open order"
expect_rc 2 w "$A" order accept "$OB"
expect_in "$ERR" "addressed to xx/longhua/b" "accepting b's order at a is refused, naming whose it is"
expect_rc 2 w "$A" order accept xx/longhua:1:99
expect_in "$ERR" "has no order xx/longhua:1:99" "accepting an order the town's log does not hold is refused"
expect_in "$ERR" "--id" "the refusal names --id"
expect_rc 0 w "$A" order accept "$O1"

# ---- 2 ----
expect_rc 0 w "$TW" notice send --title 端午节活动 --body "各站组织端午节主题活动。"
poll 10 "a receives the town's new records while connected" has_town_head "$A"

# ---- 3 ----
init_town "$T/other" xx/other "$(free_port)" || finish
w "$T/other" keys >"$T/other.id"
w "$A" keys >"$T/a.id"
expect_rc 2 w "$B" upstream-id "$T/other.id"
expect_in "$ERR" "not this node's upstream_key" "another node's line is refused naming the key"
sed "s/ $(cat "$A/keys/curve.pub") / $KEY /" "$T/a.id" >"$T/a-as-town.id"
expect_rc 2 w "$B" upstream-id "$T/a-as-town.id"
expect_in "$ERR" "must be an aggregator" "a station's line is refused: it has no log to send down"
check "no pin written by the refusals" [ ! -e "$B/upstream.id" ]
expect_rc 0 w "$B" upstream-id "$T/town.id"
expect_in "$OUT" "pinned xx/longhua" "upstream-id pins the town"
stop_daemon "$BPID" TERM
start_daemon "$B"
BPID=$DPID
wait_ready "$B" || finish
poll 20 "b receives the town's log from its next connection" has_town_head "$B"

# ---- 4 ----
expect_rc 0 "$WMCTL" init --role station --id xx/longhua/c --name 站c --dir "$C" \
    --upstream "tcp://127.0.0.1:$(free_port)" --upstream-id "$T/town.id"
start_daemon "$C"
wait_ready "$C" || finish
H=$(jget "$(st "$TW")" head_seq)
expect_rc 0 w "$TW" bundle export --out "$T/town.wmb"
expect_rc 0 w "$C" bundle import "$T/town.wmb"
expect_in "$OUT" "$H new record(s), 0 already held" "c imports the town's bundle"
check "c holds the town's log to its head ($H)" down_is "$C" have_seq "$H"
expect_rc 0 w "$C" bundle import "$T/town.wmb"
expect_in "$OUT" "0 new record(s), $H already held" "importing it again changes nothing"
start_daemon "$T/other"
OPID=$DPID
wait_ready "$T/other" "$OPID" || finish
expect_rc 0 w "$T/other" notice send --title 别镇通知 --body x
expect_rc 0 w "$T/other" bundle export --out "$T/other.wmb"
expect_rc 2 w "$C" bundle import "$T/other.wmb"
expect_in "$ERR" "wrong_parent" "another town's bundle is refused: wrong_parent"
check "nothing of it stored at c" down_is "$C" have_seq "$H"

# ---- 5 ----
# Records of the town's id under another key: a second node made with the
# town's id (its own keys), five records, exported.
init_town "$T/fake" xx/longhua "$(free_port)" || finish
start_daemon "$T/fake"
FPID=$DPID
wait_ready "$T/fake" "$FPID" || finish
for i in 1 2 3 4 5; do w "$T/fake" notice send --title "假通知$i" --body x >/dev/null; done
expect_rc 0 w "$T/fake" bundle export --out "$T/fake.wmb"
expect_rc 2 w "$C" bundle import "$T/fake.wmb"
expect_in "$ERR" "bad_signature" "records not signed by the pinned key are refused: bad_signature"
check "nothing of them stored at c" down_is "$C" have_seq "$H"
stop_daemon "$FPID" TERM
stop_daemon "$OPID" TERM
# A fork: a copy of the town's node directory (keys and log) writes other
# records after its head than the town does.
stop_daemon "$TPID" TERM
H=$(jget "$(st "$TW")" head_seq)
cp -a "$TW" "$T/fork"
FP=$(free_port)
sed -i "s#^listen = .*#listen = tcp://127.0.0.1:$FP#" "$T/fork/wmsync.conf"
start_daemon "$TW"
TPID=$DPID
start_daemon "$T/fork"
KPID=$DPID
wait_ready "$TW" "$TPID" && wait_ready "$T/fork" "$KPID" || finish
expect_rc 0 w "$TW" notice send --title 真通知 --body 真
expect_rc 0 w "$T/fork" notice send --title 分叉通知 --body 假
expect_rc 0 w "$T/fork" notice send --title 分叉通知二 --body 假
poll 20 "a receives the town's record $((H + 1))" down_is "$A" have_seq $((H + 1))
expect_rc 0 w "$T/fork" bundle export --out "$T/fork.wmb"
expect_rc 2 w "$A" bundle import "$T/fork.wmb"
expect_in "$ERR" "equivocation" "a fork of the town's log is refused: equivocation"
check "nothing of the fork stored at a" down_is "$A" have_seq $((H + 1))
expect_rc 0 w "$A" status
expect_in "$OUT" "parent's log FORKED (proof kept)" "a's status shows the fork"
expect_rc 0 w "$TW" notice send --title 再一条 --body x
poll 20 "the town's next record is refused at a (its log stays stopped at the fork)" \
    down_rejected "$TW" xx/longhua/a equivocation
check "a still holds the town's log to seq $((H + 1))" down_is "$A" have_seq $((H + 1))
check "a's status names the last refusal" down_is "$A" last_reject equivocation
stop_daemon "$KPID" TERM

# ---- 5b ----
expect_rc 2 w "$B" upstream-id --reset-fork
expect_in "$ERR" "nothing to reset" "a reset where no fork is recorded is refused, saying so"
expect_rc 0 w "$A" upstream-id --reset-fork
expect_in "$OUT" "kept as xx/longhua~fork-1" "the reset archives the forked copy under an id"
expect_in "$OUT" "held to epoch 1 seq $H " "a keeps the town's log to the last common record"
poll 20 "a takes the town's log again, to its head" has_town_head "$A"
check "a: no fork marked any more" down_is "$A" forked ""
expect_rc 0 w "$A" status
expect_in "$OUT" "1 fork(s) reset, the last at epoch 1 seq $((H + 1))" "a's status says a fork was reset"
expect_rc 0 w "$A" upstream-id --forks
expect_in "$OUT" 分叉通知 "upstream-id --forks shows the proof (the fork's record)"
expect_in "$OUT" 真通知 "... and the record a held at its place"
expect_rc 0 w "$A" upstream-id --forks --json
check "--forks --json: the proof and the held record" python3 -c 'import json,sys
f = json.load(open(sys.argv[1]))[0]
assert f["archive"] == "xx/longhua~fork-1" and f["fork_seq"] == int(sys.argv[2])
assert f["proof"]["seq"] == f["held"]["seq"] == int(sys.argv[2])' "$OUT" $((H + 1))
expect_rc 0 w "$A" order list --json
check "a lists the town's order once, not the archived copy's too" \
    [ "$(grep -o "\"$O1\"" "$OUT" | wc -l)" = 1 ]
expect_rc 2 w "$A" upstream-id --reset-fork
expect_in "$ERR" "nothing to reset" "a second reset is refused: no fork now"

# ---- 6 ----
poll 20 "b holds the town's log to its head" has_town_head "$B"
H=$(jget "$(st "$TW")" head_seq)
stop_daemon "$TPID" TERM
WMSYNCD_FEATURES_OFF=down start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
expect_rc 0 w "$TW" notice send --title 旧版通知 --body x
rec "$B" "b's record under an old town" || finish
poll 20 "b syncs up to a town without \"down\"" synced "$TW" "$B"
steady 3 "b receives nothing from a town without \"down\"" down_is "$B" have_seq "$H"
finish
