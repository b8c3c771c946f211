#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Re-keying must not lose records that never reached the town: epoch 2 is
# signed with the old key but still unsynced when the station is re-keyed
# (epoch 3). The re-enrolment line says the new key starts at epoch 3, so
# the town keeps the old key for epoch 2; all three epochs arrive and
# verify at the town.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town; S=$T/st; SID=xx/t/s
"$WMCTL" init --role town --id xx/t --name 镇 --dir "$TW" --listen "tcp://127.0.0.1:$PT" >/dev/null ||
    { fail "init town"; finish; }
"$WMCTL" init --role station --id "$SID" --name 站 --dir "$S" --upstream "tcp://127.0.0.1:$PT" \
    --upstream-key "$(cat "$TW/keys/curve.pub")" >/dev/null || { fail "init station"; finish; }
start_daemon "$TW"; TPID=$DPID; wait_ready "$TW" || finish
w "$S" keys | w "$TW" enroll - >/dev/null || fail "enrol"
start_daemon "$S"; SPID=$DPID; wait_ready "$S" || finish

rec() { w "$S" record activity --date 2024-05-0"$1" --category theme_lecture --title "宣讲$1" >/dev/null; }
town_has() { # EPOCH SEQ: the town holds the station up to there
    w "$TW" status --json | python3 -c 'import json, sys
j = json.load(sys.stdin); r = [s for s in j["stations"] if s["id"] == sys.argv[1]]
sys.exit(0 if r and (r[0]["epoch"], r[0]["seq"]) >= (int(sys.argv[2]), int(sys.argv[3])) else 1)' "$SID" "$1" "$2"
}
rec 1; rec 2
poll 20 "epoch 1 reaches the town" town_has 1 2

# The town goes away; the station starts epoch 2 (same key) and records.
stop_daemon "$TPID"
stop_daemon "$SPID"
start_daemon "$S" --new-epoch; SPID=$DPID; wait_ready "$S" || finish
rec 3; rec 4
stop_daemon "$SPID"

# Re-key: epoch 3 under the new key.
w "$S" rekey >/dev/null || fail "rekey"
start_daemon "$S" --new-epoch; SPID=$DPID; wait_ready "$S" || finish
rec 5
line=$(w "$S" keys)
case "$line" in *" from=3 "*) pass "the identity says the new key starts at epoch 3";;
                *) fail "identity line without from=3: $line";; esac

start_daemon "$TW"; TPID=$DPID; wait_ready "$TW" || finish
echo "$line" | w "$TW" enroll - >/dev/null || fail "re-enrol"
poll 30 "all three epochs reach the town" town_has 3 1
check "the town verifies the station's log over its three epochs" \
    w "$TW" verify --station "$SID"
w "$TW" verify --station "$SID" --json | grep -q '"epochs":3' && pass "three epochs verified" ||
    fail "not three epochs: $(w "$TW" verify --station "$SID" --json)"
finish
