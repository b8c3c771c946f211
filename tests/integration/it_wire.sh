# SPDX-License-Identifier: MIT
# it_wire: compressed batches (feature "zstd", PROTOCOL.md §7.1) between real
# daemons, with peers that do not offer the feature, and hostile frames.
#
#  1. A town T and two stations of it hold a realistic month while T is
#     down (120 records: activities with Chinese titles, places and tags,
#     and publicity): Z offers "zstd" (this build), P does not
#     (`compress = no`: it lists no feature, as a build before the feature).
#     A second town O does not offer it either; its station Q does. When
#     the towns come up, all converge (every record's own signature checked
#     at the town: the restored bytes are the signed ones).
#  2. Z used compressed batches, P and Q did not (status "zstd"); Z's bytes
#     per record (`wmctl status`, whole link: hello, batches, acks,
#     heartbeats) are at most 0.6 of P's for the same month, and below 130.
#     T's row for Z says the same from the town's side; T and Z show each
#     other's clock offset (about 0).
#  3. Hostile frames (hostile.c as station H of T): a bomb, a frame whose
#     declared size lies, a damaged frame, a ZBatch on a session that did
#     not list "zstd": each refused with its reason, nothing stored, and the
#     same session then takes the same records as a plain batch; a valid
#     ZBatch is acked. Z keeps syncing meanwhile.
#
#   it_wire.sh WMCTL WMSYNCD HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }

PORT=$(free_port) || { fail "no free port"; finish; }
PORT2=$(free_port) || { fail "no free port"; finish; }
TW=$T/town OW=$T/old Z=$T/z P=$T/p Q=$T/q H=$T/h
init_town "$TW" xx/longhua "$PORT" || finish
init_town "$OW" xx/oldtown "$PORT2" || finish
init_station "$Z" xx/longhua/z "$PORT" "$(town_key "$TW")" || finish
init_station "$P" xx/longhua/p "$PORT" "$(town_key "$TW")" || finish
init_station "$H" xx/longhua/h "$PORT" "$(town_key "$TW")" || finish
init_station "$Q" xx/oldtown/q "$PORT2" "$(town_key "$OW")" || finish
for d in "$P" "$OW"; do
    sed -i 's/^# compress = yes/compress = no/' "$d/wmsync.conf"
    check "$d: compress = no set" grep -q '^compress = no' "$d/wmsync.conf"
done

start_daemon "$TW"
TPID=$DPID
start_daemon "$OW"
OPID=$DPID
wait_ready "$TW" "$TPID" && wait_ready "$OW" "$OPID" || finish
for d in "$Z" "$P"; do enroll "$d" "$TW" || finish; done
enroll "$Q" "$OW" || finish
stop_daemon "$TPID" TERM
stop_daemon "$OPID" TERM
declare -A SP
for s in z p q; do
    start_daemon "$T/$s"
    SP[$s]=$DPID
    wait_ready "$T/$s" "$DPID" || finish
done

# ---- 1: a month at each station while the towns are down ----
rec_month "$Z" 120
rec_month "$P" 120
rec_month "$Q" 12

start_daemon "$TW"
TPID=$DPID
start_daemon "$OW"
OPID=$DPID
wait_ready "$TW" "$TPID" && wait_ready "$OW" "$OPID" || finish
poll 40 "T caught up with Z and P (all verified)" converged "$TW" "$Z" "$P"
poll 30 "O (no zstd) caught up with Q" converged "$OW" "$Q"

# ---- 2: what each link cost ----
# wire DIR KEY: a field of the station's own status.
wire() { jget "$(st "$1")" "$2"; }
check "Z used compressed batches" [ "$(wire "$Z" zstd)" = true ]
check "Z sent at least one ZBatch" [ "$(wire "$Z" zbatches)" -ge 1 ]
check "P (compress = no) did not" [ "$(wire "$P" zstd)/$(wire "$P" zbatches)" = false/0 ]
check "Q under a town without zstd did not" [ "$(wire "$Q" zstd)/$(wire "$Q" zbatches)" = false/0 ]
check "Z carried 120 records" [ "$(wire "$Z" wire_records)" = 120 ]
ZB=$(wire "$Z" bytes_per_record)
PB=$(wire "$P" bytes_per_record)
echo "# bytes/record on the link (status): Z (zstd) $ZB, P (plain) $PB"
check "Z: $ZB bytes/record, at most 0.6 of P's $PB" \
    python3 -c "import sys; z, p = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (0 < z <= 0.6 * p and z < 130))" "$ZB" "$PB"
check "T's row for Z: zstd, 120 records" \
    [ "$(town_row "$TW" xx/longhua/z zstd)/$(town_row "$TW" xx/longhua/z wire_records)" = true/120 ]
TZB=$(town_row "$TW" xx/longhua/z bytes_per_record)
check "T's row for Z: $TZB bytes/record, below 130" python3 -c "import sys; sys.exit(not 0 < float(sys.argv[1]) < 130)" "$TZB"
check "T's row for P: not zstd" [ "$(town_row "$TW" xx/longhua/p zstd)" = false ]
OFF=$(town_row "$TW" xx/longhua/z clock_offset_s)
check "T shows Z's clock offset ($OFF s), about 0" python3 -c "import sys; sys.exit(not abs(int(sys.argv[1])) <= 2)" "$OFF"
OFF=$(wire "$Z" clock_offset_s)
check "Z shows its clock offset to T ($OFF s), about 0" python3 -c "import sys; sys.exit(not abs(int(sys.argv[1])) <= 2)" "$OFF"
w "$Z" status >"$OUT" 2>&1
check "status text shows Z's wire line" grep -q "bytes/record (zstd)" "$OUT"

# ---- 3: hostile frames, each refused by name, nothing stored ----
enroll "$H" "$TW" || finish
# hz MODE: the two outcome lines of hostile's zbatch scenario, as "a b".
hz() { "$HOSTILE" "tcp://127.0.0.1:$PORT" "$(town_key "$TW")" "$H/keys" xx/longhua/h zbatch "$1" \
    2>>"$T/hostile.err" | tr '\n' ' ' | sed 's/ $//'; }
for spec in bomb:bomb lie:bomb corrupt:bad_frame unasked:not_negotiated; do
    mode=${spec%%:*} want=${spec#*:}
    before=$(town_row "$TW" xx/longhua/h seq)
    got=$(hz "$mode")
    check "zbatch $mode: refused $want, then the plain batch acked (got: $got)" [ "$got" = "$want ack" ]
    check "zbatch $mode: the town's last reject for H is $want" row_is "$TW" xx/longhua/h last_reject "$want"
    [ "$before" = absent ] && before=0
    check "zbatch $mode: only the plain batch's 5 records stored" row_is "$TW" xx/longhua/h seq $((before + 5))
done
got=$(hz ok)
check "a valid ZBatch from a client that listed zstd is acked (got: $got)" [ "${got%% *}" = ack ]
check "H's 25 records are all at the town" row_is "$TW" xx/longhua/h seq 25
rec_n "$Z" 3 after-hostile
poll 20 "Z and P still in step after the hostile frames" synced "$TW" "$Z" "$P"
poll 20 "every record of Z verified at T" row_is "$TW" xx/longhua/z unverified 0
finish
