# SPDX-License-Identifier: MIT
# it_restore: `wmctl restore` checks a backup before it maps it and before
# it puts it in place. A backup cut short (LMDB would SIGBUS on it), a file
# that is no backup, and a backup whose log no longer verifies (a record's
# bytes altered on the stick) are each refused with a message that says
# what is wrong, no crash, and nothing replaced; the good backup restores.
. "$(dirname "$0")/lib.sh"

S=$T/s
init_node "$S" || finish
start_daemon "$S"
SPID=$DPID
wait_ready "$S" || finish
for t in 宣讲一 tamperme 宣讲三; do
    w "$S" record activity --date 2024-05-02 --category theme_lecture --title "$t" \
        >/dev/null 2>"$ERR" || fail "record $t: $(cat "$ERR")"
done
expect_rc 0 w "$S" backup --out "$T/good.wmbak"
stop_daemon "$SPID"
LOG_BEFORE=$(w "$S" log --json 2>/dev/null | md5sum)

# untouched NAME: after a refused restore, the node's data is as it was.
untouched() {
    check "$1: the log is unchanged" [ "$(w "$S" log --json 2>/dev/null | md5sum)" = "$LOG_BEFORE" ]
    check "$1: no staging directory left" [ ! -e "$S/data.restore" ]
    check "$1: nothing moved aside" [ -z "$(ls -d "$S"/data.before-restore-* 2>/dev/null)" ]
}

# --- a backup cut short -----------------------------------------------------------
SIZE=$(stat -c %s "$T/good.wmbak")
head -c $((SIZE / 2)) "$T/good.wmbak" >"$T/cut.wmbak"
expect_rc 2 w "$S" restore "$T/cut.wmbak"
expect_in "$ERR" "is truncated" "cut short: says truncated"
expect_in "$ERR" "it is $((SIZE / 2)) bytes" "cut short: says its size"
expect_in "$ERR" "nothing was replaced" "cut short: says nothing was replaced"
untouched "cut short"

# --- not a backup at all -----------------------------------------------------------
head -c 65536 /dev/urandom >"$T/noise.wmbak"
expect_rc 2 w "$S" restore "$T/noise.wmbak"
expect_in "$ERR" "is not a wmsync backup" "noise: not a backup"
untouched "noise"

# --- a record altered inside the backup --------------------------------------------
python3 - "$T/good.wmbak" "$T/altered.wmbak" <<'PY' || fail "cannot alter the backup"
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.find(b"tamperme")
assert at > 0 and data.find(b"tamperme", at + 1) < 0
data[at + 6] = ord("M")
open(sys.argv[2], "wb").write(data)
PY
expect_rc 1 w "$S" restore "$T/altered.wmbak"
expect_in "$ERR" "does not verify at epoch 1 seq" "altered: names where the log fails"
expect_in "$ERR" "nothing was replaced" "altered: says nothing was replaced"
untouched "altered"

# --- the good backup restores ------------------------------------------------------
expect_rc 0 w "$S" restore "$T/good.wmbak"
expect_in "$OUT" "epoch 1 seq 3" "good backup: restored at seq 3"
finish
