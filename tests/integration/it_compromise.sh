#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# it_compromise: a station's keys are stolen (copies of keys/ and data/).
# The documented re-key used to leave the thief useful: revoked, re-enrolled
# with the same transport key and from=2, the town still acked and counted
# epoch-1 records signed with the old key, over the network and by bundle.
#
#  1. Station S syncs seq 1; thief A copies S's node directory; S syncs
#     seq 2; thief B copies it. S records seq 3 while the town is told:
#     `revoke --id S --compromised` marks S's keys compromised after 1:2.
#  2. Re-enrolling S with the stolen transport key (a plain `rekey`) or the
#     stolen signing key is refused.
#  3. S: `rekey --transport`, a new epoch, enrolled again: it syncs its new
#     epoch, but its own epoch-1 seq 3 (old key, after 1:2) is refused as
#     `compromised` over the network.
#  4. The thieves: their daemons (stolen transport key) cannot connect;
#     B's bundle, continuing the town's chain with the old key, is refused
#     as `compromised`; A's bundle, a different seq 2 signed with the old
#     key, is refused as `compromised` too and does not quarantine S.
#     Nothing of theirs is stored or counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town; S=$T/s; SID=xx/t/s
init_town "$TW" xx/t "$PT" || finish
init_station "$S" "$SID" "$PT" "$(town_key "$TW")" || finish
start_daemon "$TW"; wait_ready "$TW" || finish
enroll "$S" "$TW" || finish
start_daemon "$S"; SPID=$DPID; wait_ready "$S" || finish

# act DIR TITLE: one activity on 2024-03-01 (the town counts them).
act() { w "$1" record activity --date 2024-03-01 --category theme_lecture --title "$2" >/dev/null ||
        fail "record $2 at $1"; }
# lectures DIR: theme lectures of 2024-03 in DIR's rollup.
lectures() { w "$1" rollup --period 2024-03 --format json | python3 -c '
import json, sys; print(json.load(sys.stdin)["totals"]["activities"]["theme_lecture"])'; }
# steal DIR: a copy of S's node directory, as a thief would take it.
steal() { stop_daemon "$SPID"; cp -a "$S" "$1"; rm -f "$1/daemon.log";
          start_daemon "$S"; SPID=$DPID; wait_ready "$S" || finish; }

# ---- 1 ----
act "$S" 真1
poll 20 "seq 1 reaches the town" row_is "$TW" "$SID" seq 1
steal "$T/thief-a"
act "$S" 真2
poll 20 "seq 2 reaches the town" row_is "$TW" "$SID" seq 2
steal "$T/thief-b"
expect_rc 0 w "$TW" revoke --id "$SID" --compromised
expect_in "$OUT" "after 1:2" "the keys are compromised after what the town holds (1:2)"
act "$S" 真3
expect_rc 2 w "$TW" revoke --id "$SID" --compromised --after 1:1
expect_in "$ERR" "below what this aggregator already holds" "--after below what is held is refused"

# ---- 2: the stolen keys are never enrolled again ----
stop_daemon "$SPID"
expect_rc 0 w "$S" rekey
w "$S" keys >"$T/same-transport.id"
expect_rc 1 w "$TW" enroll "$T/same-transport.id"
expect_in "$ERR" "transport key" "re-enrolling with the stolen transport key is refused"
old_sign=$(cat "$T/thief-a/keys/sign.pub")
echo "wmsync-id 1 station $SID $old_sign $(printf 'ab%.0s' $(seq 1 32)) from=2 站" >"$T/old-sign.id"
expect_rc 1 w "$TW" enroll "$T/old-sign.id"
expect_in "$ERR" "signing key" "re-enrolling with the stolen signing key is refused"

# ---- 3: new keys, enrolled; the thieves get nothing in ----
expect_rc 0 w "$S" rekey --transport
expect_in "$OUT" "new transport key" "rekey --transport makes a new transport key"
check "the transport key changed" [ "$(cat "$S/keys/curve.pub")" != "$(cat "$T/thief-a/keys/curve.pub")" ]
w "$S" keys >"$T/new.id"
expect_in "$T/new.id" " from=2 " "the new line says the new key starts at epoch 2"
expect_rc 0 w "$TW" enroll "$T/new.id"

start_daemon "$T/thief-b"; BPID=$DPID; wait_ready "$T/thief-b" || finish
act "$T/thief-b" 假3; act "$T/thief-b" 假4
start_daemon "$T/thief-a"; APID=$DPID; wait_ready "$T/thief-a" || finish
act "$T/thief-a" 假2
expect_rc 0 w "$T/thief-b" bundle export --out "$T/b.wmb"
expect_rc 2 w "$TW" bundle import "$T/b.wmb"
expect_in "$ERR" "compromised" "a bundle continuing the chain with the stolen key is refused as compromised"
expect_rc 0 w "$T/thief-a" bundle export --out "$T/a.wmb"
expect_rc 2 w "$TW" bundle import "$T/a.wmb"
expect_in "$ERR" "compromised" "a bundle forking the chain with the stolen key is refused as compromised"
check "S is not quarantined by the thief's fork" [ "$(town_row "$TW" "$SID" state)" != quarantined ]
check "the thieves' daemons never connect (stolen transport key)" \
    [ "$(jget "$(st "$T/thief-b")" connected)" = false ]
check "the town holds S at epoch 1 seq 2 still" [ "$(town_row "$TW" "$SID" seq)" = 2 ]
check "the town counts only the real lectures 1 and 2" [ "$(lectures "$TW")" = 2 ]
stop_daemon "$APID"; stop_daemon "$BPID"

# ---- 4: the real station: its old-key seq 3 is refused, its new epoch syncs ----
start_daemon "$S" --new-epoch; SPID=$DPID; wait_ready "$S" || finish
act "$S" 真4
# reject_is DIR PREFIX: the station's last reject ("reason: detail") starts with PREFIX.
reject_is() {
    jget "$(st "$1")" last_reject >"$T/why"
    case "$(cat "$T/why")" in "$2"*) return 0;; *) return 1;; esac
}
poll 20 "the station's old-key seq 3 is refused as compromised over the network" \
    reject_is "$S" "compromised: "
poll 20 "the station's new epoch reaches the town all the same" row_is "$TW" "$SID" epoch 2
check "the town counts lectures 1, 2 and 4" [ "$(lectures "$TW")" = 3 ]
# The operator re-issues seq 3 (docs/operations.md §9): recorded again in
# the new epoch, the original voided with a reason that names the copy.
act "$S" 真3
expect_rc 0 w "$S" record void --epoch 1 --seq 3 --reason "re-issued as 2:2 after key theft"
poll 20 "the re-issued record and the void reach the town" row_is "$TW" "$SID" seq 3
check "the town counts each real lecture once (4)" [ "$(lectures "$TW")" = 4 ]
check "so does the station (4)" [ "$(lectures "$S")" = 4 ]
check "the town verifies the station's log" w "$TW" verify --station "$SID"
finish
