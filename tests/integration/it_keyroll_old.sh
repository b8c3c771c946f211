# SPDX-License-Identifier: MIT
# it_keyroll_old: a station of the build before key rollovers (OLD_REV,
# default d048999: feature "down" without them) pinned to a town of this
# build, which re-keys (PROTOCOL.md §8, Key rollover; §7: a peer of any
# build keeps syncing with a peer of any other). The old build comes from
# this source tree's git history (git archive), built here like
# it_oldpeer's (wmsyncd and wmctl, ~15 s; kept in BUILD_DIR/oldpeer).
#
#  1. The old station pinned the town (--upstream-id) and holds its log;
#     the town re-keys: its log ends epoch 1 with a key rollover, a record
#     kind the old build does not know: the old station stores it (rule 5)
#     and holds the town's epoch 1 to its end.
#  2. The town's records of the new key: the old station refuses them
#     (bad_signature, nothing stored), keeps syncing up (its records reach
#     the town) and its status says "pinned key DIFFERS", as before; a new
#     station beside it follows the rollover.
#
#   it_keyroll_old.sh WMCTL WMSYNCD SOURCE_DIR BUILD_DIR [OLD_REV]
#   Skips (exit 77) when SOURCE_DIR has no git history or OLD_REV, or the
#   old build cannot be made (it says why).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

SRC=${3:-}
BLD=${4:-}
REV=${5:-d048999}
[ -d "$SRC" ] && [ -d "$BLD" ] || { echo "usage: $0 WMCTL WMSYNCD SOURCE_DIR BUILD_DIR [OLD_REV]" >&2; exit 2; }
old_build "$SRC" "$BLD" "$REV"
pass "old build $REV ready"
old() { WMCTL=$OLD_WMCTL WMSYNCD=$OLD_WMSYNCD "$@"; }

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town OS=$T/olds NS=$T/news
init_town "$TW" xx/longhua "$PORT" || finish
w "$TW" keys >"$T/town.id" || fail "town keys"
old expect_rc 0 "$OLD_WMCTL" init --role station --id xx/longhua/olds --name 旧站 --dir "$OS" \
    --upstream "tcp://127.0.0.1:$PORT" --upstream-id "$T/town.id"
expect_rc 0 "$WMCTL" init --role station --id xx/longhua/news --name 新站 --dir "$NS" \
    --upstream "tcp://127.0.0.1:$PORT" --upstream-id "$T/town.id"
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$OS" "$TW" && enroll "$NS" "$TW" || finish
old start_daemon "$OS"
wait_ready "$OS" || finish
start_daemon "$NS"
wait_ready "$NS" || finish

# ---- 1 ----
expect_rc 0 w "$TW" notice send --title 通知一 --body 一
poll 20 "the old station holds the town's log (1 record)" old down_is "$OS" have_seq 1
stop_daemon "$TPID" TERM
expect_rc 0 w "$TW" rekey
start_daemon "$TW" --new-epoch
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
poll 20 "the old station stores the rollover, a kind it does not know (epoch 1 seq 2)" \
    old down_is "$OS" have_seq 2

# ---- 2 ----
expect_rc 0 w "$TW" notice send --title 通知二 --body 二
poll 20 "the new station follows the rollover: epoch 2" down_is "$NS" have_epoch 2
poll 20 "the old station refuses the new key's records: bad_signature" \
    old down_is "$OS" last_reject bad_signature
check "the old station holds nothing of epoch 2" old down_is "$OS" have_epoch 1
old rec "$OS" "old station's record after the town re-keyed" || finish
poll 20 "the old station keeps syncing up" synced "$TW" "$OS"
old expect_rc 0 w "$OS" status
expect_in "$OUT" "pinned key DIFFERS" "the old station's status says its pin differs, as before"
finish
