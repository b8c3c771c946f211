#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# it_ops: the operator's procedures of docs/operations.md, end to end.
#
#  1. Online backup: `wmctl backup` taken while a writer records without
#     pause is a consistent log (it verifies) ending somewhere in the middle.
#     The node goes on recording, then stops. Restoring that backup on the
#     same node without --new-epoch is refused (exit 1, naming the fork and
#     the safe path) and changes nothing; with --new-epoch it is put in
#     place, a plain daemon start is still refused by the fork guard, and
#     `wmsyncd --new-epoch` continues in epoch 2. The log verifies and every
#     record of the backup's range is byte for byte what was recorded.
#  2. A backup of the latest state (daemon stopped) restores without
#     --new-epoch, and the daemon starts normally and continues the chain.
#  3. restore refuses while the daemon runs.
#  4. Key rotation at a station under a town: rekey, --new-epoch; the town
#     refuses epoch-2 records (bad_signature) until the new identity is
#     enrolled, then takes them; `wmctl verify --station` at the town
#     passes over both epochs, and the town shows the station caught up.
#  5. SIGHUP: [log] level becomes debug without a restart, at the town
#     (the station's link stays up, records keep arriving) and at the
#     station (its next batch is logged at debug level). A config broken
#     before a SIGHUP is reported and changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

S=$T/s
init_node "$S" || finish

# writer DIR STOPFILE: records activities until STOPFILE exists; counts
# failures in $T/writer.fail.
writer() {
    local i=0
    : >"$T/writer.fail"
    while [ ! -e "$2" ]; do
        i=$((i + 1))
        w "$1" record activity --date 2024-03-01 --category theme_lecture \
            --title "连续录入-$i" --participants "$i" >/dev/null 2>>"$T/writer.fail" ||
            echo "record $i failed" >>"$T/writer.fail"
    done
}

# head_at_least DIR N: the node's head seq is N or more.
head_at_least() {
    local h
    h=$(head_seq "$1")
    echo "head of $1 is $h (want >= $2)" >"$T/why"
    [ "$h" != "?" ] && [ "$h" -ge "$2" ]
}

# inspect FILE: verify --json of a backup FILE, opened read-only in a
# scratch node directory (the backup is not touched).
inspect() {
    local d=$T/inspect
    rm -rf "$d"
    mkdir -p "$d/data"
    cp "$1" "$d/data/data.mdb"
    sed "s|^data_dir *=.*|data_dir = $d/data|" "$S/wmsync.conf" >"$d/wmsync.conf"
    w "$d" verify --json
}

# ==== 1. online backup while recording, restore with --new-epoch ================
start_daemon "$S"
SPID=$DPID
wait_ready "$S" || finish
writer "$S" "$T/stop" &
WRITER=$!
poll 30 "writer reaches seq 15" head_at_least "$S" 15
expect_rc 0 w "$S" backup --out "$T/mid.wmbak"
expect_in "$OUT" "compacted" "backup: says it is compacted"
AT_BACKUP=$(head_seq "$S")
poll 30 "writer goes on past the backup (seq $((AT_BACKUP + 15)))" \
    head_at_least "$S" $((AT_BACKUP + 15))
touch "$T/stop"
wait "$WRITER"
check "writer: every record accepted ($(head -c 300 "$T/writer.fail"))" [ ! -s "$T/writer.fail" ]
expect_rc 1 w "$S" backup --out "$T/mid.wmbak"
expect_in "$ERR" "exists" "backup: refuses to overwrite a file"
stop_daemon "$SPID"
FINAL=$(head_seq "$S")
w "$S" log --epoch 1 --json >"$T/orig.jsonl"
check "log lists all $FINAL records" [ "$(wc -l <"$T/orig.jsonl")" = "$FINAL" ]

# The backup: a consistent log somewhere in the middle of the writes.
BJ=$(inspect "$T/mid.wmbak")
check "backup verifies ($BJ)" [ "$(jget "$BJ" ok)" = true ]
B=$(jget "$BJ" head_seq)
check "backup ends mid-way: 15 <= $B < $FINAL" [ "$B" -ge 15 ] && [ "$B" -lt "$FINAL" ]

# Without --new-epoch: refused, nothing replaced.
GUARD_BEFORE=$(cat "$S/keys/sign.key.state")
expect_rc 1 w "$S" restore "$T/mid.wmbak"
expect_in "$ERR" "fork" "restore of an older backup: message mentions the fork"
expect_in "$ERR" "Safe path" "restore of an older backup: message gives the safe path"
expect_in "$ERR" "--new-epoch" "restore of an older backup: the safe path names --new-epoch"
expect_in "$ERR" "seq $B" "restore of an older backup: names the backup's seq $B"
expect_in "$ERR" "seq $FINAL" "restore of an older backup: names the key's seq $FINAL"
check "refused restore: data untouched (head $FINAL)" [ "$(head_seq "$S")" = "$FINAL" ]
check "refused restore: guard untouched" [ "$(cat "$S/keys/sign.key.state")" = "$GUARD_BEFORE" ]
check "refused restore: no staging directory left" [ ! -e "$S/data.restore" ]

# With --new-epoch: in place, the old data kept aside.
expect_rc 0 w "$S" restore "$T/mid.wmbak" --new-epoch
expect_in "$OUT" "epoch 1 seq $B" "restore --new-epoch: reports the backup's head"
expect_in "$OUT" "--new-epoch" "restore --new-epoch: tells to start the daemon with --new-epoch"
kept() { compgen -G "$1" >/dev/null; }
check "restore --new-epoch: the previous data is kept" kept "$S/data.before-restore-*"
check "restored head is $B" [ "$(head_seq "$S")" = "$B" ]

# The fork guard must still hold: a plain start would sign seq B+1 of
# epoch 1 a second time.
: >"$S/daemon.log"
start_daemon "$S"
if wait_exit "$DPID" 10; then
    check "plain start after restore --new-epoch is refused (exit 3, got $EXIT_RC)" \
        [ "$EXIT_RC" = 3 ]
    expect_in "$S/daemon.log" "shorter than what this key last recorded" \
        "plain start after restore: the guard says the log is shorter"
    expect_in "$S/daemon.log" "--new-epoch" "plain start after restore: refusal names --new-epoch"
else
    fail "plain start after restore --new-epoch: the daemon started (it would fork epoch 1)"
    stop_daemon "$DPID"
fi

: >"$S/daemon.log"
start_daemon "$S" --new-epoch
SPID=$DPID
wait_ready "$S" || finish
expect_in "$S/daemon.log" "beginning epoch 2" "--new-epoch after restore: epoch 2 begins"
expect_rc 0 w "$S" record activity --date 2024-03-02 --category theory_education --title 恢复后
expect_in "$OUT" "as seq 1 (epoch 2)" "first record after the restore is epoch 2 seq 1"
stop_daemon "$SPID"
expect_rc 0 w "$S" verify
expect_in "$OUT" "$((B + 1)) record(s) in 2 epoch(s) verify" "restored log verifies over both epochs"
w "$S" log --epoch 1 --json >"$T/restored.jsonl"
head -n "$B" "$T/orig.jsonl" >"$T/orig-b.jsonl"
check "epoch 1 after restore is exactly records 1..$B as recorded" \
    cmp -s "$T/restored.jsonl" "$T/orig-b.jsonl"
# later starts continue in epoch 2 without the flag
start_daemon "$S"
SPID=$DPID
wait_ready "$S" || finish
expect_rc 0 w "$S" record activity --date 2024-03-02 --category theory_education --title 再次
expect_in "$OUT" "as seq 2 (epoch 2)" "restart after --new-epoch continues in epoch 2"

# ==== 3. restore refuses while the daemon runs ===================================
HEAD=$(head_seq "$S")
expect_rc 1 w "$S" restore "$T/mid.wmbak" --new-epoch
expect_in "$ERR" "running" "restore with the daemon running: refused, says it runs"
check "restore refused while running: daemon still up" kill -0 "$SPID"
check "restore refused while running: head unchanged" [ "$(head_seq "$S")" = "$HEAD" ]
expect_rc 1 w "$S" rekey
expect_in "$ERR" "running" "rekey with the daemon running: refused"
stop_daemon "$SPID"

# ==== 2. a backup of the latest state restores without --new-epoch ================
expect_rc 0 w "$S" backup --out "$T/latest.wmbak"
expect_rc 0 w "$S" restore "$T/latest.wmbak"
no_hint() { ! grep -q -- "--new-epoch" "$OUT"; }
check "latest restore: no --new-epoch hint" no_hint
# at once again (same second): the data set aside gets its own name
expect_rc 0 w "$S" restore "$T/latest.wmbak"
: >"$S/daemon.log"
start_daemon "$S"
SPID=$DPID
wait_ready "$S" || finish
check "latest restore: daemon serves epoch 2 head $HEAD" \
    grep -q "serving: epoch 2, head seq $HEAD" "$S/daemon.log"
expect_rc 0 w "$S" record activity --date 2024-03-02 --category theory_education --title 再再次
expect_in "$OUT" "as seq $((HEAD + 1)) (epoch 2)" "latest restore: the chain continues"
stop_daemon "$SPID"
expect_rc 0 w "$S" verify
# a file that is not a backup
echo "not a backup" >"$T/junk.wmbak"
expect_rc 2 w "$S" restore "$T/junk.wmbak"
expect_rc 0 w "$S" verify

# ==== 4. key rotation at a station under a town ==================================
PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
X=$T/x
XID=xx/longhua/x
init_town "$TW" xx/longhua "$PORT" || finish
init_station "$X" "$XID" "$PORT" "$(town_key "$TW")" || finish
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" || finish
enroll "$X" "$TW" || finish
start_daemon "$X"
XPID=$DPID
wait_ready "$X" || finish
rec_n "$X" 5 epoch1
poll 20 "epoch 1 synced to the town" synced "$TW" "$X"
OLDPUB=$(cat "$X/keys/sign.pub")
stop_daemon "$XPID"

expect_rc 0 w "$X" rekey
expect_in "$OUT" "--new-epoch" "rekey: says to start with --new-epoch"
expect_in "$OUT" "enroll" "rekey: says to enroll the new identity"
check "rekey: a new public key" [ "$(cat "$X/keys/sign.pub")" != "$OLDPUB" ]
check "rekey: the old key kept" kept "$X/keys/sign.key.retired-*"
# the old key's log refuses the new key without --new-epoch
: >"$X/daemon.log"
start_daemon "$X"
if wait_exit "$DPID" 10; then
    check "after rekey a plain start is refused (exit 3, got $EXIT_RC)" [ "$EXIT_RC" = 3 ]
else
    fail "after rekey a plain start was not refused"
    stop_daemon "$DPID"
fi
start_daemon "$X" --new-epoch
XPID=$DPID
wait_ready "$X" || finish
expect_in "$X/daemon.log" "beginning epoch 2" "rekeyed station begins epoch 2"
rec_n "$X" 3 epoch2
expect_in "$OUT" "(epoch 2)" "epoch-2 records are recorded"

# Before re-enrolment the town does not know the new key.
station_rejected() {
    local r
    r=$(jget "$(st "$X")" last_reject)
    echo "station last_reject: $r" >"$T/why"
    case $r in *bad_signature*) return 0 ;; *) return 1 ;; esac
}
poll 20 "town refuses epoch 2 before re-enrolment (bad_signature)" \
    row_is "$TW" "$XID" last_reject bad_signature
poll 10 "station shows last_reject bad_signature" station_rejected
check "town still holds epoch 1 of x" [ "$(town_row "$TW" "$XID" epoch)" = 1 ]
check "town still holds seq 5 of x" [ "$(town_row "$TW" "$XID" seq)" = 5 ]
expect_rc 0 w "$TW" verify --station "$XID"
expect_in "$OUT" "5 record(s) in 1 epoch(s)" "town verify --station: epoch 1 only so far"

# Re-enrol: the epoch-2 records arrive.
w "$X" keys | w "$TW" enroll - >"$OUT" 2>"$ERR"
check "town enrolls x's new identity ($(cat "$ERR"))" [ $? = 0 ]
poll 20 "town log: re-enrolled with a new signing key" \
    grep -q "re-enrolled with a new signing key" "$TW/daemon.log"
poll 30 "epoch 2 synced after re-enrolment" synced "$TW" "$X"
check "town holds epoch 2 of x" [ "$(town_row "$TW" "$XID" epoch)" = 2 ]
expect_rc 0 w "$TW" verify --station "$XID"
expect_in "$OUT" "8 record(s) in 2 epoch(s) verify" \
    "town verify --station: both epochs verify (old records with the old key)"
poll 10 "town shows x ok" row_is "$TW" "$XID" state ok
poll 10 "town is caught up" field_is "$TW" caught_up true
expect_rc 2 w "$TW" verify --station xx/longhua/nobody

# ==== 5. SIGHUP at the town ======================================================
check "town log level is info" grep -q "^level = info" "$TW/wmsync.conf"
DISC_BEFORE=$(grep -c "disconnected" "$X/daemon.log")
sed -i 's/^level = info/level = debug/' "$TW/wmsync.conf"
kill -HUP "$TPID"
poll 10 "town logs the reload" grep -q "SIGHUP: reloaded log level (debug)" "$TW/daemon.log"
check "town daemon still running after SIGHUP" kill -0 "$TPID"
rec_n "$X" 4 after-hup
poll 20 "records after SIGHUP reach the town" synced "$TW" "$X"
poll 10 "town shows x ok after SIGHUP" row_is "$TW" "$XID" state ok
check "station link stayed up over SIGHUP" \
    [ "$(grep -c "disconnected" "$X/daemon.log")" = "$DISC_BEFORE" ]
# the station too: its next batch is logged at debug level
check "station: no debug lines before SIGHUP" [ "$(grep -c " debug: " "$X/daemon.log")" = 0 ]
sed -i 's/^level = info/level = debug/' "$X/wmsync.conf"
kill -HUP "$XPID"
poll 10 "station logs the reload" grep -q "SIGHUP: reloaded log level (debug)" "$X/daemon.log"
rec_n "$X" 1 debug-level
poll 20 "station logs its next batch at debug level" grep -q " debug: upstream: sent batch" \
    "$X/daemon.log"
check "station daemon still running after SIGHUP" kill -0 "$XPID"
# a broken config on SIGHUP: the daemon keeps running with what it has
sed -i 's/^level = debug/level = loud/' "$TW/wmsync.conf"
kill -HUP "$TPID"
poll 10 "town logs an invalid config on SIGHUP" grep -q "nothing reloaded" "$TW/daemon.log"
check "town daemon still running after a bad SIGHUP" kill -0 "$TPID"
sed -i 's/^level = loud/level = info/' "$TW/wmsync.conf" # wmctl reads the file too
rec_n "$X" 1 after-bad-hup
poll 20 "records after a bad SIGHUP reach the town" synced "$TW" "$X"
stop_daemon "$XPID"
stop_daemon "$TPID"

finish
