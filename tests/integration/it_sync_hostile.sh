# SPDX-License-Identifier: MIT
# it_sync_hostile: hostile peers against one real town daemon.
#
# A misbehaving client (hostile.c), holding the real keys of enrolled
# stations, plays every class of bad input of PROTOCOL.md; each must get
# its precise reject reason and store nothing. Equivocation quarantines its
# station; a capture time in the future is accepted but flagged; a frame
# over the message size limit and an unenrolled key get no answer at all.
# Meanwhile a well-behaved station (a real wmsyncd with an upstream) keeps
# syncing: before, after, and while a hostile client floods the town.
#
#   it_sync_hostile.sh WMCTL WMSYNCD HOSTILE
. "$(dirname "$0")/lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EP=tcp://127.0.0.1:$PORT
TW=$T/town
E=$T/evil    # most scenarios
Q=$T/quar    # equivocates, ends quarantined
P=$T/mid     # a corrupt signature in the middle of a batch
G=$T/good    # the well-behaved station, a real daemon
U=$T/unenr   # keys that are never enrolled
F=$T/later   # speaks as a later build (features, unknown fields)
S=$T/subtown # enrolled as a town under this town: it may publish rollups
EID=xx/longhua/evil
QID=xx/longhua/quar
PID_=xx/longhua/mid
GID=xx/longhua/good
UID_=xx/longhua/unenrolled
FID=xx/longhua/later
SID=xx/longhua/subtown

"$WMCTL" init --role town --id xx/longhua --name 龙华镇 --dir "$TW" --listen "$EP" >/dev/null ||
    { fail "init town"; finish; }
KEY=$(cat "$TW/keys/curve.pub")
for spec in "$E:$EID" "$Q:$QID" "$P:$PID_" "$G:$GID" "$U:$UID_" "$F:$FID" "$S:$SID"; do
    "$WMCTL" init --role station --id "${spec#*:}" --name 站 --dir "${spec%%:*}" \
        --upstream "$EP" --upstream-key "$KEY" >/dev/null || { fail "init ${spec#*:}"; finish; }
done
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
for d in "$E" "$Q" "$P" "$G" "$F"; do
    w "$d" keys | w "$TW" enroll - >"$OUT" 2>"$ERR" || fail "enroll $d: $(cat "$ERR")"
done
w "$S" keys | sed 's/^wmsync-id 1 station /wmsync-id 1 town /' | w "$TW" enroll - >"$OUT" 2>"$ERR" ||
    fail "enroll $S as a town: $(cat "$ERR")"

# row ID KEY: a field of station ID in the town's status ("absent" if not listed).
row() {
    w "$TW" status --json 2>/dev/null | python3 -c 'import json, sys
rows = {r["id"]: r for r in json.load(sys.stdin).get("stations", [])}
r = rows.get(sys.argv[1])
print("absent" if r is None else r.get(sys.argv[2]))' "$1" "$2"
}

# wait_row ID KEY WANT [LIMIT_S]: polls the town's status until KEY = WANT.
wait_row() {
    local id=$1 key=$2 want=$3 limit=${4:-10} v
    local start deadline
    start=$(now_ms)
    deadline=$((start + limit * 1000))
    while :; do
        v=$(row "$id" "$key")
        [ "$v" = "$want" ] && { pass "town: $id $key = $want ($(($(now_ms) - start)) ms)"; return 0; }
        [ "$(now_ms)" -ge "$deadline" ] && break
        sleep 0.1
    done
    fail "town: $id $key = $v, want $want within ${limit}s"
    return 1
}

# hx EXPECT STORED DIR ID SCENARIO [ARG]: plays SCENARIO as the station in
# DIR; its outcome must be EXPECT and the town must then hold STORED
# records of ID.
hx() {
    local want=$1 stored=$2 dir=$3 id=$4 sc=$5
    shift 5
    local got seq
    got=$("$HOSTILE" "$EP" "$KEY" "$dir/keys" "$id" "$sc" "$@" 2>"$T/hx.err" | head -1)
    if [ "$got" = "$want" ]; then
        pass "$sc${1:+ $1}: $got"
    else
        fail "$sc${1:+ $1}: got \"$got\", want \"$want\" ($(tail -2 "$T/hx.err" | tr '\n' ' '))"
    fi
    seq=$(row "$id" seq)
    check "$sc: town holds $stored of $id (holds $seq)" [ "$seq" = "$stored" ]
}

alive() { check "town still serving after $1" kill -0 "$TPID"; }

# good_synced: the good station's head is at the town and acked.
good_synced() {
    local j head acked tseq
    j=$(w "$G" status --json 2>/dev/null) || return 1
    head=$(json_field "$j" head_seq)
    acked=$(json_field "$j" acked_seq)
    tseq=$(row "$GID" seq)
    echo "good: head $head, acked $acked, town seq $tseq" >"$T/why"
    [ "$head" = "$tseq" ] && [ "$acked" = "$head" ]
}

wait_good() {
    local limit=$1 msg=$2 start deadline
    start=$(now_ms)
    deadline=$((start + limit * 1000))
    until good_synced; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            fail "$msg: not within ${limit}s: $(cat "$T/why")"
            return 1
        fi
        sleep 0.1
    done
    pass "$msg ($(cat "$T/why"), $(($(now_ms) - start)) ms)"
}

rec_good() {
    local i
    for i in $(seq 1 "$1"); do
        w "$G" record activity --date 2024-03-01 --category theme_lecture --title "宣讲$2-$i" \
            >/dev/null 2>"$ERR" || fail "good record $2-$i: $(cat "$ERR")"
    done
}

# --- the well-behaved station syncs ------------------------------------------
start_daemon "$G"
GPID=$DPID
wait_ready "$G" "$GPID" || finish
rec_good 3 a
wait_good 15 "good station synced at the start"

# --- messages that never reach a session --------------------------------------
hx malformed 0 "$E" "$EID" garbage
hx malformed 0 "$E" "$EID" two_frames
hx malformed 0 "$E" "$EID" empty
hx unexpected 0 "$E" "$EID" unexpected
hx version 0 "$E" "$EID" version
hx wrong_node 0 "$E" "$EID" hello_other "$GID"
hx no_session 0 "$E" "$EID" no_session

# --- batches that must be refused whole --------------------------------------------
hx bad_signature 0 "$E" "$EID" bad_signature
hx wrong_node 0 "$E" "$EID" wrong_node_record "$GID"
hx gap 0 "$E" "$EID" gap
hx bad_chain 0 "$E" "$EID" bad_chain
hx too_big 0 "$E" "$EID" too_many
hx too_big 0 "$E" "$EID" too_many_bytes
alive "refused batches"

# --- accepted, and idempotent ---------------------------------------------------------
hx ack 3 "$E" "$EID" valid 3
hx ack 3 "$E" "$EID" replay
hx over_credit 3 "$E" "$EID" over_credit 100
hx bad_chain 3 "$E" "$EID" bad_chain
hx gap 3 "$E" "$EID" gap
hx behind 3 "$E" "$EID" behind
hx diverged 3 "$E" "$EID" diverged 3

# --- every reject names the committed frontier, also one that answers no
# batch (PROTOCOL.md §2): a child that obeys resumes from it ---------------
export HOSTILE_DURABLE=1
hx malformed@3 3 "$E" "$EID" garbage
hx malformed@3 3 "$E" "$EID" empty
hx malformed@3 3 "$E" "$EID" two_frames
hx unexpected@3 3 "$E" "$EID" unexpected
hx no_session@3 3 "$E" "$EID" no_session
unset HOSTILE_DURABLE
# 8 frames and more are malformed too (were dropped unanswered), and logged
hx malformed 3 "$E" "$EID" many_frames 7
# the size limit is the message's, not the encrypted frame's
hx malformed 3 "$E" "$EID" size_edge max
hx none 3 "$E" "$EID" size_edge over
alive "a frame one byte over the limit"
# what a child must not send up: an unsolicited answer, an audit request
hx unexpected 3 "$E" "$EID" child_sends records
hx unexpected 3 "$E" "$EID" child_sends fetch
# a validly signed record after another record 3 than the town's: the
# child's log forked; the town's own record is not blamed
hx diverged 3 "$E" "$EID" odd_record fork

# --- a peer of a later build (PROTOCOL.md §7) ----------------------------------------
# Unknown features and unknown fields are ignored; so is a message type this
# build does not know; and a Hello without features (every build before the
# field) syncs as before.
# (first for this station: the town's log limit per peer has room)
hx malformed 0 "$F" "$FID" many_frames 8
check "the town logs the 8-frame message" grep -q "$FID: malformed: expected one frame, got 8" "$TW/daemon.log"
hx ack 3 "$F" "$FID" hello_future
hx ignored 3 "$F" "$FID" unknown_msg
hx ack 6 "$F" "$FID" valid 6

# --- batch ids strictly increase; 0 is no batch id ------------------------------
hx "ack,malformed,malformed,ack" 8 "$F" "$FID" batch_ids

# --- who may write what (PROTOCOL.md §3) -----------------------------------------
hx invalid 8 "$F" "$FID" odd_record rollup
hx invalid 8 "$F" "$FID" odd_record void_ahead
hx invalid 0 "$S" "$SID" odd_record rollup_other
hx ack 1 "$S" "$SID" odd_record rollup
# the needs-and-orders kinds belong to one tier: a station does not write
# the aggregator's word on orders, an aggregator no station's need or step
# (the kinds of each tier's own are accepted: it_orders, real daemons)
hx wrong_tier 8 "$F" "$FID" odd_record service_order
hx wrong_tier 8 "$F" "$FID" odd_record order_assigned
hx wrong_tier 8 "$F" "$FID" odd_record notice
hx wrong_tier 1 "$S" "$SID" odd_record need
hx wrong_tier 1 "$S" "$SID" odd_record order_accept
check "the town logs the tier refusal, naming the kind" \
    grep -q "is a service_order record, and $FID is enrolled as a station" "$TW/daemon.log"

# --- equivocation quarantines ------------------------------------------------------------
hx equivocation 3 "$Q" "$QID" equivocation
wait_row "$QID" state quarantined
check "quarantined station has a proof" [ "$(row "$QID" proofs)" -ge 1 ]
hx quarantined 3 "$Q" "$QID" hello
hx quarantined 3 "$Q" "$QID" hello
hx quarantined 3 "$Q" "$QID" hello_then_batch
hx quarantined 3 "$Q" "$QID" child_sends records

# A corrupt signature in the middle of a batch: a record's hash covers its
# signature, so the next record no longer chains to it and the batch is
# refused whole, naming the altered record; nothing is quarantined.
hx bad_chain 0 "$P" "$PID_" bad_sig_mid
# record 1 naming a predecessor, validly signed: a rule broken, not a signature
hx invalid 0 "$P" "$PID_" odd_record epoch_prev
check "a corrupt signature does not quarantine" [ "$(row "$PID_" proofs)" = 0 ]
hx welcome 0 "$P" "$PID_" hello

# --- the transport refuses --------------------------------------------------------------
hx none 3 "$E" "$EID" oversize
alive "an oversized frame"
hx welcome 3 "$E" "$EID" hello
hx none absent "$U" "$UID_" hello short
alive "an unenrolled key"

# --- a capture time in the future is accepted, flagged ------------------------------
# (last for this station: record 4 is no longer the reproducible chain's)
hx ack 4 "$E" "$EID" future
wait_row "$EID" flagged 1

rec_good 2 b
wait_good 15 "good station synced after the hostile scenarios"

# --- flood: garbage as fast as possible while the good station records ------------
"$HOSTILE" "$EP" "$KEY" "$E/keys" "$EID" flood 2000 >"$T/flood.out" 2>"$T/flood.err" &
FLOOD=$!
rec_good 20 c
wait_good 20 "good station converged under a flood"
wait "$FLOOD"
check "flood of 2000 sent ($(cat "$T/flood.err"))" grep -qx flooded "$T/flood.out"
alive "the flood"
hx welcome 4 "$E" "$EID" hello
check "good station's head is 25" [ "$(head_seq "$G")" = 25 ]
check "good station never rejected" [ "$(row "$GID" last_reject)" = "" ]

# --- revoked on a live connection: the reject still names the frontier ----------
HOSTILE_DURABLE=1 "$HOSTILE" "$EP" "$KEY" "$F/keys" "$FID" wait_then_beat "$T/go" \
    >"$T/beat.out" 2>"$T/beat.err" &
BEAT=$!
for _ in $(seq 1 200); do [ -e "$T/go.ready" ] && break; sleep 0.05; done
w "$TW" revoke --id "$FID" >"$OUT" 2>"$ERR" || fail "revoke $FID: $(cat "$ERR")"
touch "$T/go"
wait "$BEAT"
check "revoked on a live link: $(cat "$T/beat.out")" grep -qx "revoked@8" "$T/beat.out"

expect_rc 0 w "$TW" verify

# --- a town whose map is full: the child's last_reject stays `storage`, not
# the stale `gap` its batches still in flight then get ---------------------------
PORT2=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
T2=$T/town2
"$WMCTL" init --role town --id xx/small --name 小镇 --dir "$T2" --listen "tcp://127.0.0.1:$PORT2" \
    >/dev/null || { fail "init town2"; finish; }
sed -i 's/^map_size_mb = .*/map_size_mb = 1/; s/^map_max_mb = .*/map_max_mb = 2/;
        s/^day_mb = .*/day_mb = 64/; s/^total_mb = .*/total_mb = 64/' "$T2/wmsync.conf"
check "town2 has a map ceiling of 2 MiB" grep -q '^map_max_mb = 2$' "$T2/wmsync.conf"
start_daemon "$T2"
wait_ready "$T2" "$DPID" || finish
w "$E" keys | w "$T2" enroll - >"$OUT" 2>"$ERR" || fail "enroll at town2: $(cat "$ERR")"
got=$("$HOSTILE" "tcp://127.0.0.1:$PORT2" "$(cat "$T2/keys/curve.pub")" "$E/keys" "$EID" \
    pipeline 20000 2>"$T/pipe.err" | head -1)
check "a full map refuses with storage (got $got)" [ "$got" = storage ]
lr=$(w "$T2" status --json | python3 -c 'import json, sys
print([r for r in json.load(sys.stdin)["stations"] if r["id"] == sys.argv[1]][0]["last_reject"])' "$EID")
check "the child's last_reject is storage (got $lr)" [ "$lr" = storage ]
finish
