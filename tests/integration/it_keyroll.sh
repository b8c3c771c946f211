# SPDX-License-Identifier: MIT
# it_keyroll: the town re-keys twice and its stations follow without being
# pinned again (PROTOCOL.md §8, Key rollover), with real daemons.
#  1. Stations a (online) and b (stopped: offline through both re-keys)
#     pinned the town with --upstream-id; station c has no link and takes
#     the town's log by bundle.
#  2. Re-key 1 (`wmctl rekey`, `wmsyncd --new-epoch`): the town's log ends
#     epoch 1 with a key rollover signed by the old key; a follows it
#     (status: the pin followed, the pinned key matches the town's new one,
#     the pin file unchanged) and takes epoch 2; c imports a bundle.
#  2b. Hostile bundles of the town's log (forge_rollover.c) at station d,
#     which has no link: a rollover signed by another key (bad_rollover),
#     a new epoch under a key no rollover names (no_rollover), a second
#     rollover of epoch 1 signed by the retired key (equivocation: the fork
#     marked); nothing of them stored, the town's true log taken between.
#  3. Re-key 2, the daemon killed (-9) five times as it starts (0-120 ms)
#     and started again with --new-epoch each time: still exactly one
#     rollover per re-key in the town's log,
#     never a record of a new key's epoch without one before it. a follows
#     the second; b, started only now, follows both; c imports the whole
#     log again (the epochs it holds are duplicates). Text and JSON status.
#  4. A second rollover of the same epoch (a copy of the town's directory
#     re-keys too, to another key): c, which took the copy's by bundle,
#     refuses the town's as a fork (equivocation, the proof kept, status).
#  5. A re-key without a rollover (the retired key deleted before the
#     start): a refuses the new epoch (no_rollover, the town's row says so),
#     nothing stored; its operator pins the town's new line by hand and a
#     takes the epoch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

FORGE=${3:-}
[ -x "$FORGE" ] || { echo "usage: $0 WMCTL WMSYNCD FORGE_ROLLOVER" >&2; exit 2; }

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town A=$T/a B=$T/b C=$T/c
init_town "$TW" xx/longhua "$PORT" || finish
w "$TW" keys >"$T/town.id" || fail "town keys"
for s in a b; do
    expect_rc 0 "$WMCTL" init --role station --id "xx/longhua/$s" --name "站$s" --dir "$T/$s" \
        --upstream "tcp://127.0.0.1:$PORT" --upstream-id "$T/town.id"
done
expect_rc 0 "$WMCTL" init --role station --id xx/longhua/c --name 站c --dir "$C" \
    --upstream "tcp://127.0.0.1:$(free_port)" --upstream-id "$T/town.id"
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$A" "$TW" && enroll "$B" "$TW" || finish
start_daemon "$A"
APID=$DPID
start_daemon "$C"
wait_ready "$A" "$APID" && wait_ready "$C" || finish

# down_rejected ID SLUG: the town's row for ID says the child's last
# refusal of its log was SLUG.
down_rejected() {
    local r
    r=$(town_row "$TW" "$1" down_reject)
    echo "down_reject = $r" >"$T/why"
    [ "${r%%:*}" = "$2" ]
}
# forked NODE: the node's status says its parent's log forked.
forked() { ! down_is "$1" forked ""; }
# town_sign: the town's signing key now.
town_sign() { json_field "$(w "$TW" keys --json)" sign_pub; }
# town_log_check: the town's own log: one rollover per re-key, each the
# last record of its epoch and naming the next epoch's key; prints the
# number of rollovers, or fails naming what is wrong.
town_log_check() {
    w "$TW" log --json >"$T/log.json" || return 1
    python3 - "$T/log.json" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by_epoch = {}
for r in recs:
    by_epoch.setdefault(r["epoch"], []).append(r)
rolls = 0
epochs = sorted(by_epoch)
for i, e in enumerate(epochs):
    rs = sorted(by_epoch[e], key=lambda r: r["seq"])
    kinds = [r.get("kind") for r in rs]
    if "key_rollover" in kinds[:-1]:
        sys.exit("epoch %d: a record follows its key rollover" % e)
    if kinds and kinds[-1] == "key_rollover":
        rolls += 1
print(rolls)
EOF
}
# rekey DIR: re-keys the stopped town (wmctl rekey).
rekey() { expect_rc 0 w "$TW" rekey; expect_in "$OUT" "key rollover" "rekey says the children follow"; }

# ---- 1 ----
expect_rc 0 w "$TW" notice send --title 通知一 --body 一
expect_rc 0 w "$TW" order create --title 上门理发 --service-kind assistance --due 2099-03-31 \
    --to xx/longhua/a
poll 20 "a holds the town's log (epoch 1, 2 records)" down_is "$A" have_seq 2
K0=$(town_sign)

# ---- 2 ----
stop_daemon "$TPID" TERM
rekey
start_daemon "$TW" --new-epoch
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
K1=$(town_sign)
check "the town signs with a new key" [ "$K1" != "$K0" ]
check "the town's log holds one key rollover" [ "$(town_log_check)" = 1 ]
expect_in "$TW/daemon.log" "key rollover written at 1/3" "the town's log says where"
expect_rc 0 w "$TW" notice send --title 通知二 --body 二
poll 20 "a takes epoch 2 of the town's log, signed by the new key" down_is "$A" have_epoch 2
check "a: epoch 2 seq 1" down_is "$A" have_seq 1
check "a: its pin followed the rollover to the town's new key" down_is "$A" followed.key "$K1"
check "a: the pinned key matches the town's" down_is "$A" pin_ok true
check "a: the pin file is as its operator wrote it" cmp -s "$A/upstream.id" "$T/town.id"
poll 10 "the town's row for a: it holds epoch 2" row_is "$TW" xx/longhua/a down_epoch 2
expect_rc 0 w "$TW" bundle export --out "$T/town1.wmb"
expect_rc 0 w "$C" bundle import "$T/town1.wmb"
expect_in "$OUT" "4 new record(s)" "c imports the bundle across the re-key"
check "c: its pin followed the rollover" down_is "$C" followed.key "$K1"

# ---- 2b ----
# Hostile bundles of the town's log (forge_rollover), at station d that has
# no link: each refused with its reason, nothing of it stored.
D=$T/d
expect_rc 0 "$WMCTL" init --role station --id xx/longhua/d --name 站d --dir "$D" \
    --upstream "tcp://127.0.0.1:$(free_port)" --upstream-id "$T/town.id"
start_daemon "$D"
DPID_D=$DPID
wait_ready "$D" "$DPID_D" || finish
expect_rc 0 "$FORGE" "$T/town1.wmb" "$T/foreign.wmb" foreign "$A/keys/sign.key"
expect_rc 2 w "$D" bundle import "$T/foreign.wmb"
expect_in "$ERR" "bad_rollover" "a rollover not signed by the town's key is refused: bad_rollover"
check "d holds nothing of that bundle" down_is "$D" have_seq 0
expect_rc 0 w "$D" bundle import "$T/town1.wmb"
check "d takes the town's true log" down_is "$D" have_epoch 2
expect_rc 0 "$FORGE" "$T/town1.wmb" "$T/noroll.wmb" no-roll "$A/keys/sign.key"
expect_rc 2 w "$D" bundle import "$T/noroll.wmb"
expect_in "$ERR" "no_rollover" "a new epoch under a key no rollover names is refused: no_rollover"
check "d holds nothing of epoch 3" down_is "$D" have_epoch 2
check "d still follows K1" down_is "$D" followed.key "$K1"
expect_rc 0 "$FORGE" "$T/town1.wmb" "$T/after.wmb" after "$(ls "$TW"/keys/sign.key.retired-* | grep -v '\.pub$' | head -1)"
expect_rc 2 w "$D" bundle import "$T/after.wmb"
expect_in "$ERR" "equivocation" "a second rollover of epoch 1 by the retired key is refused as a fork"
check "d: the fork is marked" forked "$D"
check "d still holds epoch 2 seq 1" down_is "$D" have_seq 1
stop_daemon "$DPID_D" TERM

# ---- 3 ----
stop_daemon "$TPID" TERM
rekey
# kill -9 as it starts, at several points of its start-up (the rollover and
# the new epoch commit together; a start that committed is followed by
# further --new-epoch starts of the same key, which need no rollover)
for ms in 0 10 30 60 120; do
    start_daemon "$TW" --new-epoch
    sleep "0.$(printf %03d "$ms")" # where the kill lands, not a wait
    kill9 "$DPID"
done
start_daemon "$TW" --new-epoch
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
K2=$(town_sign)
check "the town's log: one rollover per re-key, none followed in its epoch" \
    [ "$(town_log_check)" = 2 ]
expect_rc 0 w "$TW" notice send --title 通知三 --body 三
H=$(jget "$(st "$TW")" epoch)
poll 20 "a takes epoch $H, signed by the second new key" down_is "$A" have_epoch "$H"
check "a: its pin followed the second rollover" down_is "$A" followed.key "$K2"
check "a: the rollover it followed was in epoch 2" down_is "$A" followed.rollover_epoch 2
start_daemon "$B"
wait_ready "$B" || finish
poll 20 "b, offline through both re-keys, takes epoch $H" down_is "$B" have_epoch "$H"
check "b: it followed both rollovers" down_is "$B" followed.key "$K2"
expect_rc 0 w "$B" status
expect_in "$OUT" "pin followed its key rollover at epoch 2 seq" "b's status text says it followed"
expect_in "$OUT" "pinned key matches" "b's status text: the key matches"
expect_rc 0 w "$B" verify --station xx/longhua
expect_rc 0 w "$TW" bundle export --out "$T/town2.wmb"
expect_rc 0 w "$C" bundle import "$T/town2.wmb"
expect_in "$OUT" "already held" "c imports the whole log again: what it holds is duplicates"
check "c: it followed the second rollover" down_is "$C" followed.key "$K2"
check "c: it holds epoch $H" down_is "$C" have_epoch "$H"

# ---- 4 ----
# A second rollover of epoch $H: a copy of the town's node directory (keys,
# retired keys and log) re-keys too, and names another key.
stop_daemon "$TPID" TERM
cp -a "$TW" "$T/fork"
sed -i "s#^listen = .*#listen = tcp://127.0.0.1:$(free_port)#" "$T/fork/wmsync.conf"
expect_rc 0 w "$T/fork" rekey
start_daemon "$T/fork" --new-epoch
KPID=$DPID
wait_ready "$T/fork" "$KPID" || finish
expect_rc 0 w "$T/fork" notice send --title 分叉通知 --body 假
expect_rc 0 w "$T/fork" bundle export --out "$T/fork.wmb"
stop_daemon "$KPID" TERM
rekey
start_daemon "$TW" --new-epoch
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
expect_rc 0 w "$TW" notice send --title 通知四 --body 四
poll 20 "a follows the town's third rollover" down_is "$A" have_epoch "$((H + 1))"
expect_rc 0 w "$TW" bundle export --out "$T/town3.wmb"
expect_rc 0 w "$C" bundle import "$T/fork.wmb"
expect_rc 2 w "$C" bundle import "$T/town3.wmb"
expect_in "$ERR" "equivocation" "c: a second rollover of epoch $H is refused as a fork"
check "c: the fork is marked" forked "$C"
expect_rc 0 w "$C" status
expect_in "$OUT" "parent's log FORKED (proof kept)" "c's status shows the fork"
H=$((H + 1))

# ---- 5 ----
stop_daemon "$TPID" TERM
expect_rc 0 w "$TW" rekey
rm -f "$TW"/keys/sign.key.retired-*
start_daemon "$TW" --new-epoch
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
expect_in "$TW/daemon.log" "no key rollover written" "the town says it wrote no rollover"
check "the town's log: still three rollovers" [ "$(town_log_check)" = 3 ]
expect_rc 0 w "$TW" notice send --title 通知五 --body 五
poll 20 "a refuses the new epoch: no_rollover" down_is "$A" last_reject no_rollover
check "a holds nothing of it" down_is "$A" have_epoch "$H"
poll 10 "the town's row for a names the refusal" down_rejected xx/longhua/a no_rollover
w "$TW" keys >"$T/town4.id" || fail "town keys"
expect_rc 0 w "$A" upstream-id "$T/town4.id"
stop_daemon "$APID" TERM
start_daemon "$A"
APID=$DPID
wait_ready "$A" "$APID" || finish
poll 20 "pinned by hand, a takes the new epoch" down_is "$A" have_epoch "$((H + 1))"
finish
