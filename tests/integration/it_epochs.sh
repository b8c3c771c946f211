#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# it_epochs: epochs are bounded at ingest and carried as unsigned numbers,
# and a county's audit stays bounded whatever epoch a report names.
#
#  1. A station whose log jumps to epoch 4294967295 (its fork-guard file
#     says 4294967294, then --new-epoch) is refused by its town as
#     `invalid`: nothing of that epoch is stored, the town's rollup covers
#     the station at epoch 1 (never "epoch": -1). A second station jumping
#     to epoch 64 (WM_EPOCH_STEP_MAX above nothing stored) is accepted.
#  2. The town publishes, then turns dishonest: its report claims the
#     station's head is in epoch 4294967295 (then -1). The county's audit
#     ends with exit 1 and says why, instead of fetching epoch after epoch
#     for ever.
#
# Usage: it_epochs.sh WMCTL WMSYNCD FORGE_REPORT
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

FORGE=${3:-}
[ -x "$FORGE" ] || { echo "usage: $0 WMCTL WMSYNCD FORGE_REPORT" >&2; exit 2; }

PC=$(free_port) || { fail "no free port"; finish; }
while :; do PT=$(free_port) || { fail "no free port"; finish; }; [ "$PT" != "$PC" ] && break; done
C=$T/county; TW=$T/town; S=$T/s1; S2=$T/s2
TID=xx/t; SID=xx/t/s1; S2ID=xx/t/s2
"$WMCTL" init --role county --id xx --name 县 --dir "$C" --listen "tcp://127.0.0.1:$PC" >/dev/null ||
    { fail "init county"; finish; }
"$WMCTL" init --role town --id "$TID" --name 镇 --dir "$TW" --listen "tcp://127.0.0.1:$PT" \
    --upstream "tcp://127.0.0.1:$PC" --upstream-key "$(town_key "$C")" >/dev/null ||
    { fail "init town"; finish; }
init_station "$S" "$SID" "$PT" "$(town_key "$TW")" || finish
init_station "$S2" "$S2ID" "$PT" "$(town_key "$TW")" || finish
start_daemon "$C"; wait_ready "$C" || finish
start_daemon "$TW"; TPID=$DPID; wait_ready "$TW" || finish
enroll "$TW" "$C" || finish
enroll "$S" "$TW" || finish
enroll "$S2" "$TW" || finish
start_daemon "$S"; SPID=$DPID; wait_ready "$S" || finish
rec "$S" 宣讲1 && rec "$S" 宣讲2
poll 20 "station 1's epoch 1 reaches the town" row_is "$TW" "$SID" seq 2

# set_guard_epoch DIR E: the fork-guard file says the key signed in epoch E.
set_guard_epoch() { sed -i "s/^epoch=.*/epoch=$2/" "$1/keys/sign.key.state"; }

# ---- 1: the ingest bound ----
stop_daemon "$SPID"
set_guard_epoch "$S" 4294967294
start_daemon "$S" --new-epoch; SPID=$DPID; wait_ready "$S" || finish
check "station 1 now writes in epoch 4294967295" \
    [ "$(jget "$(st "$S")" epoch)" = 4294967295 ]
rec "$S" 宣讲3
# reject_is DIR PREFIX: the station's last reject ("reason: detail") starts with PREFIX.
reject_is() {
    jget "$(st "$1")" last_reject >"$T/why"
    case "$(cat "$T/why")" in "$2"*) return 0;; *) return 1;; esac
}
poll 20 "the town refuses epoch 4294967295 as invalid" reject_is "$S" "invalid: "
expect_in "$T/why" "more than 64 above the highest epoch stored (1)" "the refusal names the bound"
check "the town still holds station 1 at epoch 1" [ "$(town_row "$TW" "$SID" epoch)" = 1 ]
w "$TW" rollup --period 2024-03 --format json >"$T/r.json" 2>"$ERR" || fail "town rollup: $(cat "$ERR")"
check "the town's rollup covers station 1 at epoch 1, seq 2" python3 -c '
import json, sys
c = {x["station"]: x for x in json.load(open(sys.argv[1]))["covers"]}
sys.exit(0 if (c[sys.argv[2]]["epoch"], c[sys.argv[2]]["seq"]) == (1, 2) else 1)' "$T/r.json" "$SID"

start_daemon "$S2"; S2PID=$DPID; wait_ready "$S2" || finish
stop_daemon "$S2PID"
set_guard_epoch "$S2" 63
start_daemon "$S2" --new-epoch; S2PID=$DPID; wait_ready "$S2" || finish
rec "$S2" 宣讲64
poll 20 "a jump to epoch 64 from nothing stored is accepted" row_is "$TW" "$S2ID" epoch 64

# ---- 2: a report naming an impossible epoch; the audit stays bounded ----
expect_rc 0 w "$TW" publish --period 2024-03
poll 30 "the county holds the town's report" row_is "$C" "$TID" caught_up true
expect_rc 0 w "$C" audit --town "$TID" --period 2024-03
expect_in "$OUT" " 0 differ" "the honest report audits clean"

# forge EPOCH: the town's report of 2024-03 again, covering EPOCH.
forge() {
    local before
    before=$(town_row "$C" "$TID" seq)
    stop_daemon "$TPID"
    expect_rc 0 "$FORGE" "$TW" 2024-03 0 "$1"
    start_daemon "$TW"; TPID=$DPID; wait_ready "$TW" || finish
    poll 30 "the county holds the report covering epoch $1" row_ge "$C" "$TID" seq $((before + 1))
    poll 30 "the town is connected to the county again" row_is "$C" "$TID" caught_up true
}
row_ge() {
    local v
    v=$(town_row "$1" "$2" "$3")
    echo "row $2 $3 at $1 = $v (want >= $4)" >"$T/why"
    [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge "$4" ]
}
forge 4294967295
expect_rc 1 timeout 60 "$WMCTL" -c "$C/wmsync.conf" audit --town "$TID" --period 2024-03
expect_in "$OUT" "none of epochs 2 to 65" "the audit stops after 64 empty epochs and says so"
forge -1
expect_rc 1 timeout 60 "$WMCTL" -c "$C/wmsync.conf" audit --town "$TID" --period 2024-03
expect_in "$OUT" "impossible head" "a negative epoch in covers is refused by the audit"
finish
