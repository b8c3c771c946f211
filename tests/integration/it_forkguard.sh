# SPDX-License-Identifier: MIT
# it_forkguard: a signing key restored without its log must not restart the
# chain. The daemon refuses (exit 3, naming the fork and --new-epoch) when
# the data directory is missing, older than what the key last signed, or
# belongs to another node; --new-epoch starts epoch 2 at seq 1 and the log
# verifies across both epochs.
. "$(dirname "$0")/lib.sh"

N=$T/node
M=$T/other
init_node "$N" || finish
STATE=$N/keys/sign.key.state

rec() { w "$N" record activity --date 2024-03-01 --category theme_lecture --title "$1"; }

# refuses WHY NEEDLE... : start the daemon on N with no flags; it must exit
# 3 and its log must contain every NEEDLE; the guard file must not change.
refuses() {
    local why=$1 needle
    shift
    local before
    before=$(cat "$STATE" 2>/dev/null)
    : >"$N/daemon.log"
    start_daemon "$N"
    if ! wait_exit "$DPID" 10; then
        fail "$why: daemon started instead of refusing"
        kill9 "$DPID"
        return 1
    fi
    check "$why: exit 3 (got $EXIT_RC)" [ "$EXIT_RC" = 3 ]
    for needle in "$@"; do
        expect_in "$N/daemon.log" "$needle" "$why: message mentions \"$needle\""
    done
    check "$why: guard file unchanged" [ "$(cat "$STATE" 2>/dev/null)" = "$before" ]
    check "$why: no control socket left" [ ! -e "$N/control.sock" ]
}

# --- some records, clean stop ---------------------------------------------------
start_daemon "$N"
wait_ready "$N" || finish
for i in 1 2 3; do expect_rc 0 rec "记录$i"; done
stop_daemon "$DPID" TERM
check "guard state file written" [ -s "$STATE" ]
check "guard state says epoch 1 seq 3" grep -qzE 'epoch=1.seq=3' "$STATE"

# --- data directory moved away --------------------------------------------------
mv "$N/data" "$T/data.moved"
refuses "data dir missing" fork --new-epoch "holds no log"
# the refused start must not have left something that passes as a log
refuses "data dir missing, second try" fork --new-epoch
expect_rc 0 w "$N" status --json
check "status reads head 0 while the data is away" grep -q '"head_seq":0' "$OUT"
rm -rf "$N/data"
mv "$T/data.moved" "$N/data"
start_daemon "$N"
wait_ready "$N" || finish
expect_rc 0 rec 记录4
expect_in "$OUT" "as seq 4 (epoch 1)" "restored data dir continues at seq 4"
expect_rc 0 rec 记录5
stop_daemon "$DPID" TERM

# --- an older copy of the data put back -------------------------------------------
cp -a "$N/data" "$T/data.old" # head 5
start_daemon "$N"
wait_ready "$N" || finish
expect_rc 0 rec 记录6
expect_rc 0 rec 记录7
stop_daemon "$DPID" TERM
mv "$N/data" "$T/data.new" # head 7
cp -a "$T/data.old" "$N/data"
refuses "older backup restored" shorter --new-epoch "seq 5" "seq 7"

# --- --new-epoch on the older copy -------------------------------------------------
: >"$N/daemon.log"
start_daemon "$N" --new-epoch
wait_ready "$N" || finish
expect_rc 0 rec 新纪元1
expect_in "$OUT" "as seq 1 (epoch 2)" "--new-epoch: first record is epoch 2 seq 1"
expect_rc 0 w "$N" record publicity --date 2024-03-02 --channel wechat --count 3 --json
check "--new-epoch: second record is epoch 2 seq 2 (json)" grep -qF '"epoch":2,"seq":2' "$OUT"
stop_daemon "$DPID" TERM
check "guard state now says epoch 2 seq 2" grep -qzE 'epoch=2.seq=2' "$STATE"

expect_rc 0 w "$N" log --json
check "log spans epoch 1 seq 1..5 then epoch 2 seq 1..2" python3 -c '
import json, sys
r = [(json.loads(l)["epoch"], json.loads(l)["seq"]) for l in open(sys.argv[1]) if l.strip()]
want = [(1, s) for s in range(1, 6)] + [(2, 1), (2, 2)]
assert r == want, r' "$OUT"
expect_rc 0 w "$N" verify --json
check "verify passes across both epochs" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["ok"] is True and o["epochs"] == 2 and o["records"] == 7, o
assert o["head_epoch"] == 2 and o["head_seq"] == 2, o' "$OUT"
expect_rc 0 w "$N" status --json
check "status: epoch 2 head_seq 2, 7 records" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["epoch"] == 2 and o["head_seq"] == 2 and o["records"] == 7, o' "$OUT"
expect_rc 0 w "$N" log --epoch 1 --json
check "log --epoch 1 shows the five old records" [ "$(grep -c . "$OUT")" = 5 ]

# a plain restart continues epoch 2; no new epoch without the flag
start_daemon "$N"
wait_ready "$N" || finish
expect_rc 0 rec 新纪元3
expect_in "$OUT" "as seq 3 (epoch 2)" "plain restart continues epoch 2 at seq 3"
# a void that names an epoch-1 record across the epoch boundary
expect_rc 0 w "$N" record void --seq 2 --epoch 1 --reason 跨纪元作废
expect_in "$OUT" "as seq 4 (epoch 2)" "void of an epoch-1 record lands in epoch 2"
stop_daemon "$DPID" TERM
expect_rc 0 w "$N" verify

# --- the newer epoch-1 copy cannot come back either ---------------------------------------
mv "$N/data" "$T/data.e2"
cp -a "$T/data.new" "$N/data"
refuses "epoch-1 data after the key signed epoch 2" "epoch 2" --new-epoch
rm -rf "$N/data"
mv "$T/data.e2" "$N/data"

# --- another node's data directory with this key ------------------------------------------
init_node "$M" xx-county/longhua/dongfeng || finish
start_daemon "$M"
wait_ready "$M" || finish
expect_rc 0 w "$M" record activity --date 2024-03-01 --category theme_lecture --title 东风村宣讲
stop_daemon "$DPID" TERM
mv "$N/data" "$T/data.mine"
cp -a "$M/data" "$N/data"
# (the daemon currently words this as "holds no log": the other node's log
# is there, this node's is not; either way it must refuse)
refuses "another node's data dir" --new-epoch
rm -rf "$N/data"
mv "$T/data.mine" "$N/data"

# ...and another node's key (without its state file) with this data
cp -p "$N/keys/sign.key" "$T/sign.key.mine"
cp -p "$M/keys/sign.key" "$N/keys/sign.key"
mv "$STATE" "$T/state.mine"
STATE_SAVED=1
: >"$N/daemon.log"
start_daemon "$N"
if wait_exit "$DPID" 10; then
    check "another node's key on this data: exit 3 (got $EXIT_RC)" [ "$EXIT_RC" = 3 ]
    expect_in "$N/daemon.log" "--new-epoch" "another node's key: message mentions --new-epoch"
else
    fail "daemon started with another node's key on this data"
    kill9 "$DPID"
fi
cp -p "$T/sign.key.mine" "$N/keys/sign.key"
mv "$T/state.mine" "$STATE"

# --- everything back in place: it starts and still verifies --------------------------------
start_daemon "$N"
wait_ready "$N" || finish
expect_rc 0 rec 归位
expect_in "$OUT" "as seq 5 (epoch 2)" "back in place: continues at epoch 2 seq 5"
stop_daemon "$DPID" TERM
expect_rc 0 w "$N" verify

# --- key restored on a fresh machine with no log: --new-epoch starts a new epoch -----------
mv "$N/data" "$T/data.final"
refuses "key without its log (again)" fork
rm -rf "$N/data"
: >"$N/daemon.log"
start_daemon "$N" --new-epoch
wait_ready "$N" || finish
expect_rc 0 rec 重装后
expect_in "$OUT" "as seq 1 (epoch 3)" "--new-epoch with no log: epoch 3 seq 1 (never reuses epoch 2)"
stop_daemon "$DPID" TERM
expect_rc 0 w "$N" verify

finish
