# SPDX-License-Identifier: MIT
# it_verify: every record a town stores carries a valid signature of its own.
#
# A holder of a station's key can send a batch that chains and whose last
# record is validly signed, while a record inside it was signed by another
# key (hostile.c inner_bad_sig). The town acks it (the tail authenticates
# the bytes), stages it, and its verifier then finds the bad record: the
# station is quarantined (reason bad_signature) with the record kept as
# proof, and the log, the rollups and `verify --station` hold only what
# came before it. The bad record at the start, the middle and just before
# the end of a batch, across an epoch change, and as the batch's tail
# (refused at once); the same through `bundle import`. Then kill -9 of the
# town between the ack of 30,000 records and their full verification: the
# check resumes after the restart, and the rollup matches a recount.
#
#   it_verify.sh WMCTL WMSYNCD HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }

PORT=$(free_port) || { fail "no free port"; finish; }
EP=tcp://127.0.0.1:$PORT
TW=$T/town
init_town "$TW" xx/longhua "$PORT" || finish
KEY=$(town_key "$TW")
# hostile.c captures all 30,000 records of "big" on one day: beyond a day's quota
sed -i 's/^day_mb = .*/day_mb = 0/' "$TW/wmsync.conf"
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish

# station NAME: a station (keys only: hostile.c plays it), enrolled.
station() {
    init_station "$T/$1" "xx/longhua/$1" "$PORT" "$KEY" && enroll "$T/$1" "$TW"
}

# hx NAME SCENARIO [ARG]: plays SCENARIO as station NAME; prints the outcome.
hx() {
    local n=$1
    shift
    "$HOSTILE" "$EP" "$KEY" "$T/$n/keys" "xx/longhua/$n" "$@" 2>>"$T/hx.err" | head -1
}

# rollup_of ID: "activities participants" of station ID in the town's
# rollup of 2024-03 (every hostile record is one activity of 10 people).
rollup_of() {
    w "$TW" rollup --period 2024-03 --format json 2>/dev/null | python3 -c 'import json, sys
rows = {r["id"]: r["totals"] for r in json.load(sys.stdin).get("stations", [])}
t = rows.get(sys.argv[1], {})
print(t.get("activities", {}).get("total", 0), t.get("participants", 0))' "$1"
}

# settled NAME VSEQ: the town's row for NAME shows the bad record's
# aftermath: quarantined for bad_signature, proof kept, verified frontier
# and durable frontier both at VSEQ, nothing left unverified; the log
# verifies and the rollup counts exactly VSEQ activities.
settled() {
    local id=xx/longhua/$1 want=$2 reason
    poll 10 "$1: quarantined" row_is "$TW" "$id" state quarantined || return 1
    reason=$(town_row "$TW" "$id" state_reason)
    case $reason in
    bad_signature:*) pass "$1: reason bad_signature" ;;
    *) fail "$1: reason \"$reason\", want bad_signature: ..." ;;
    esac
    check "$1: verified_seq $want" row_is "$TW" "$id" verified_seq "$want"
    check "$1: seq (durable) back to $want" row_is "$TW" "$id" seq "$want"
    check "$1: nothing unverified" row_is "$TW" "$id" unverified 0
    check "$1: the bad record is kept as proof" [ "$(town_row "$TW" "$id" proofs)" -ge 1 ]
    if [ "$want" -gt 0 ]; then
        expect_rc 0 w "$TW" verify --station "$id"
        expect_in "$OUT" " $want record(s)" "$1: verify --station: $want records, all valid"
    fi
    check "$1: rollup counts $want activities ($(rollup_of "$id"))" \
        [ "$(rollup_of "$id")" = "$want $((want * 10))" ]
    check "$1: a quarantined station is refused" [ "$(hx "$1" hello)" = quarantined ]
}

# --- over the network: two valid records, then a batch of five -------------
for pos in start middle before_end epoch; do
    station "n-$pos" || finish
    check "n-$pos: two valid records acked" [ "$(hx "n-$pos" valid 2)" = ack ]
    got=$(hx "n-$pos" inner_bad_sig "$pos")
    check "n-$pos: the chained batch is acked (got $got)" [ "$got" = ack ]
done
settled n-start 2
settled n-middle 4
settled n-before_end 5
settled n-epoch 5
check "n-epoch: verified frontier in epoch 1" row_is "$TW" xx/longhua/n-epoch verified_epoch 1

# The bad record as the batch's tail: refused at once, nothing quarantined.
station n-end || finish
check "n-end: two valid records acked" [ "$(hx n-end valid 2)" = ack ]
check "n-end: a bad tail is refused" [ "$(hx n-end inner_bad_sig end)" = bad_signature ]
poll 10 "n-end: stays ok, verified 2" row_is "$TW" xx/longhua/n-end verified_seq 2
check "n-end: not quarantined" [ "$(town_row "$TW" xx/longhua/n-end state)" != quarantined ]
check "n-end: no proof kept" row_is "$TW" xx/longhua/n-end proofs 0

# --- by bundle: the same records, carried by file ------------------------------
for pos in start middle epoch; do
    station "b-$pos" || finish
    check "b-$pos: bundle written" [ "$(hx "b-$pos" inner_bad_bundle "$pos:$T/b-$pos.wmb")" = written ]
    expect_rc 0 w "$TW" bundle import "$T/b-$pos.wmb"
done
settled b-start 0
settled b-middle 2
settled b-epoch 3

# Quarantine and proof survive a restart; the town's own log verifies.
stop_daemon "$TPID"
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
check "after a restart: still quarantined" row_is "$TW" xx/longhua/n-middle state quarantined
check "after a restart: verified 4" row_is "$TW" xx/longhua/n-middle verified_seq 4
expect_rc 0 w "$TW" verify

# --- kill -9 between the ack and full verification -----------------------------------
M=30000
station big || finish
got=$(hx big valid_many "$M")
T_ACK=$(date +%s)
check "big: $M records acked (got $got)" [ "$got" = ack ]
kill9 "$TPID"
seq=$(town_row "$TW" xx/longhua/big seq)
vseq=$(town_row "$TW" xx/longhua/big verified_seq)
check "big: after kill -9 every acked record is durable ($seq)" [ "$seq" = "$M" ]
check "big: killed before full verification (verified $vseq of $M)" [ "$vseq" -lt "$M" ]
check "big: counted only what was verified ($(rollup_of xx/longhua/big), verified $vseq)" \
    [ "$(rollup_of xx/longhua/big)" = "$vseq $((vseq * 10))" ]
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
# Records staged before the restart have waited since the child's last
# message at least: the lag shown is not 0 while they wait.
after() { [ "$(date +%s)" -gt "$1" ]; }
poll 5 "a second has passed since the ack" after "$T_ACK"
w "$TW" status --json >"$OUT" 2>"$ERR"
lag=$(python3 -c 'import json, sys
r = [r for r in json.load(open(sys.argv[1]))["stations"] if r["id"] == sys.argv[2]][0]
print(r["unverified"], r["verify_lag_s"])' "$OUT" xx/longhua/big)
if [ "${lag% *}" -gt 0 ]; then
    check "big: unverified after the restart, verify_lag_s >= 1 (unverified, lag: $lag)" \
        [ "${lag#* }" -ge 1 ]
else
    pass "big: verification was already through after the restart ($lag)"
fi
# A rollup that leaves the town waits for verification (or, should the
# check already be through, covers only verified records anyway).
if w "$TW" publish --period 2024-03 >"$OUT" 2>"$ERR"; then
    pass "publish: verification was already through ($(cat "$OUT"))"
else
    expect_in "$ERR" "still being verified: xx/longhua/big" "publish waits, naming what is unverified"
fi
poll 30 "big: verification resumes to $M" row_is "$TW" xx/longhua/big verified_seq "$M"
poll 10 "big: ok once verified" row_is "$TW" xx/longhua/big state ok
check "big: rollup = recount ($(rollup_of xx/longhua/big))" \
    [ "$(rollup_of xx/longhua/big)" = "$M $((M * 10))" ]
expect_rc 0 w "$TW" verify --station xx/longhua/big
expect_in "$OUT" " $M record(s)" "big: verify --station: $M records, all valid"
finish
