# SPDX-License-Identifier: MIT
# it_blobs: feature "blobs" (PROTOCOL.md §9) between a real station and a
# real town over CURVE.
#
# 1. A station records activities with photos (blob_seed: the files in
#    NODE/blobs, the activities naming them); every blob reaches the town
#    and hashes to its name; the station's status counts them confirmed.
# 2. kill -9 of the station and of the town in the middle of a transfer, in
#    a loop: the transfer resumes from the bytes held (the station never
#    resends what the town holds), no blob is ever present at the town with
#    wrong bytes, and every record arrives.
# 2b. A .part left whole by a stop before its rename: completed at the next
#    offer.
# 3. A blob whose file the station lost before sending: the town shows it
#    missing; the record still counts.
# 4. A file altered on the town's disk: wmctl verify finds it.
# 5. Quota: a second station whose blobs pass [quota] blob_mb is refused
#    with blob_quota, its records still flow; the first is unaffected.
# 6. A town that does not list "blobs" (WMSYNCD_FEATURES_OFF, as a build
#    before the feature): records sync as before, no blob is sent.
# 6b. Pruning: a station removes the blobs its town confirmed, older than
#    keep_days, and keeps the unconfirmed one; a town prunes only when
#    told how old (--days).
# 7. Backup and restore carry the blobs (FILE.blobs beside the backup):
#    the station's files come back, each verified; a pack with one byte
#    altered is refused naming the blob.
# 8. Bundles carry the blobs their records name (FILE.wmb.blobs): a station
#    without a link exports; the town imports records and blobs, each blob
#    verified; again (idempotent); a pack altered in one byte is refused;
#    --no-blobs leaves them out.
# 9. A town's prune (--days): the quota's total of the child counts the
#    pruned blob no more.
#
# 3b. Tampered in transit (hostile.c holding the station's keys): the
#    right size, the wrong bytes for the lost blob are discarded, never
#    present; a blob no record names is not wanted or taken; a blob chunk
#    on a session without the feature is refused not_negotiated.
#
#   it_blobs.sh WMCTL WMSYNCD BLOB_SEED HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

SEED=${3:-}
HOSTILE=${4:-}
[ -x "$SEED" ] && [ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD BLOB_SEED HOSTILE" >&2; exit 2; }

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
S=$T/st
Q=$T/big
SID=xx/longhua/xinhe
QID=xx/longhua/big
init_town "$TW" xx/longhua "$PORT" || finish
KEY=$(town_key "$TW")
sed -i 's/^# blob_mb = .*/blob_mb = 12/' "$TW/wmsync.conf"
grep -q '^blob_mb = 12$' "$TW/wmsync.conf" || { fail "town config has no [quota] blob_mb"; finish; }
init_station "$S" "$SID" "$PORT" "$KEY" || finish
init_station "$Q" "$QID" "$PORT" "$KEY" || finish
# 2 MB/s: a transfer of 8 MB lasts long enough to be killed in the middle
sed -i 's/^# blob_rate = .*/blob_rate = 2000000/' "$S/wmsync.conf"
grep -q '^blob_rate = 2000000$' "$S/wmsync.conf" || { fail "station config has no [sync] blob_rate"; finish; }
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$S" "$TW" && enroll "$Q" "$TW" || finish
start_daemon "$S"
SPID=$DPID
wait_ready "$S" "$SPID" || finish

# seed DIR N SIZE SEED: blob_seed's hashes into $T/hashes.DIRNAME.
seed() {
    "$SEED" "$1/wmsync.conf" "$2" "$3" "$4" >>"$T/hashes.$(basename "$1")" 2>"$T/seed.err" ||
        { fail "blob_seed $1: $(cat "$T/seed.err")"; return 1; }
}

# all_at_town DIR: every blob seeded at DIR is at the town, whole and right.
all_at_town() {
    local h
    while read -r h; do
        if [ ! -f "$TW/blobs/$h" ]; then echo "$h not at the town" >"$T/why"; return 1; fi
    done <"$T/hashes.$(basename "$1")"
    return 0
}

# hashes_match: every blob file at the town hashes to its name.
hashes_match() {
    python3 - "$TW/blobs" >"$T/why" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
bad = []
for n in os.listdir(d):
    if len(n) != 64:
        continue
    with open(os.path.join(d, n), "rb") as f:
        if hashlib.blake2b(f.read(), digest_size=32).hexdigest() != n:
            bad.append(n)
print("wrong bytes: " + " ".join(bad) if bad else "all match")
sys.exit(1 if bad else 0)
PY
}

# 1. Photos behind the records.
seed "$S" 6 300000 1 || finish
poll 30 "the station's records reach the town" synced "$TW" "$S"
poll 30 "every blob of the station reaches the town" all_at_town "$S"
check "every blob at the town hashes to its name ($(cat "$T/why"))" hashes_match
poll 10 "the station counts none pending" field_is "$S" blobs_pending 0
poll 10 "the town counts none missing for the station" row_is "$TW" "$SID" blobs_missing 0
check "the town counts the bytes received" [ "$(town_row "$TW" "$SID" blob_bytes_received)" = 1800000 ]
check "the quota's total (one key) is what the town holds ($(town_row "$TW" "$SID" blob_bytes_counted))" \
    [ "$(town_row "$TW" "$SID" blob_bytes_counted)" = 1800000 ]
w "$S" status >"$OUT" 2>&1
expect_in "$OUT" "blobs:     0 pending" "status (text): the station has no blob pending"

# 2. kill -9 in the middle of transfers, the station and the town in turn.
# part_size: bytes of the .part file at the town (0 if none).
part_size() {
    local f
    f=$(ls "$TW/blobs/"*.part 2>/dev/null | head -1)
    [ -n "$f" ] && stat -c %s "$f" 2>/dev/null || echo 0
}
# part_at_least N: a transfer at the town holds N bytes or more, or is done.
part_at_least() {
    local p
    p=$(part_size)
    echo "the town's .part holds $p bytes (want >= $1)" >"$T/why"
    [ "$p" -ge "$1" ] || all_at_town "$S"
}
: >"$T/hashes.kill"
seed "$S" 4 2000000 2 || finish
shrunk=0
nrec=11 # activities with photos: 6, 4, and 1 below
for round in 1 2 3 4 5 6; do
    poll 20 "round $round: a transfer is under way" part_at_least 200000 || break
    pf=$(ls "$TW/blobs/"*.part 2>/dev/null | head -1)
    before=$(stat -c %s "$pf" 2>/dev/null || echo 0)
    rec "$S" "kill-round-$round" && nrec=$((nrec + 1))
    if [ $((round % 2)) = 1 ]; then
        kill9 "$SPID"; start_daemon "$S"; SPID=$DPID; wait_ready "$S" "$SPID" || finish
    else
        kill9 "$TPID"; start_daemon "$TW"; TPID=$DPID; wait_ready "$TW" "$TPID" || finish
    fi
    check "round $round: every blob present at the town hashes to its name" hashes_match
    # that .part kept what it held (resumed), unless its blob completed meanwhile
    if [ -n "$pf" ] && [ -f "$pf" ]; then
        [ "$(stat -c %s "$pf")" -lt "$before" ] && shrunk=$((shrunk + 1))
    elif [ -n "$pf" ] && [ ! -f "${pf%.part}" ]; then
        shrunk=$((shrunk + 1)) # the .part vanished and its blob is not present
    fi
done
check "after each kill the transfer resumed from the bytes held ($shrunk shrank)" [ "$shrunk" = 0 ]
poll 40 "after the kills every blob reaches the town" all_at_town "$S"
check "after the kills every blob at the town hashes to its name" hashes_match
poll 20 "after the kills every record reached the town" synced "$TW" "$S"
check "after the kills the quota's total is what the town holds" \
    [ "$(town_row "$TW" "$SID" blob_bytes_counted)" = "$(town_row "$TW" "$SID" blob_bytes_held)" ]

# 2b. A .part holding all of a blob's bytes, never named (the town stopped
# between the last byte and the rename): completed at the station's next
# offer, not wanted "from" its end for ever.
kill9 "$TPID"
seed "$S" 1 200000 21 || finish
nrec=$((nrec + 1))
whole=$(tail -1 "$T/hashes.st")
cp "$S/blobs/$whole" "$TW/blobs/$whole.part"
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
poll 20 "a whole .part left by a stop is completed: the blob is at the town" all_at_town "$S"
check "and its .part is gone" [ ! -e "$TW/blobs/$whole.part" ]
poll 10 "the station counts it confirmed" field_is "$S" blobs_pending 0

# 3. A blob the station lost before it was sent: missing at the town, the
# record counted all the same.
kill9 "$TPID"
seed "$S" 1 50000 3 || finish
lost=$(tail -1 "$T/hashes.st")
rm -f "$S/blobs/$lost"
sed -i '$d' "$T/hashes.st"
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
poll 30 "the record naming the lost blob reaches the town" synced "$TW" "$S"
poll 10 "the town shows the lost blob missing" row_is "$TW" "$SID" blobs_missing 1
poll 10 "the station shows it pending and not in its store" field_is "$S" blobs_missing_local 1
w "$TW" rollup --period 2024-03 --format json >"$OUT" 2>"$ERR"
acts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["activities"]["total"])' "$OUT" 2>/dev/null)
check "the town's figures count every activity, the one without its blob too ($acts)" [ "$acts" = "$nrec" ]

# 3b. Tampered in transit, as the station (its daemon stopped).
kill9 "$SPID"
hx() { "$HOSTILE" "tcp://127.0.0.1:$PORT" "$KEY" "$S/keys" "$SID" blob "$1" 2>>"$T/hx.err" | tr '\n' ' '; }
got=$(hx "tamper:$lost:50000")
check "a forged copy of a named blob is wanted from 0, then refused as a mismatch ($got)" [ "$got" = "want:0 mismatch " ]
check "the forged blob is not present at the town" [ ! -f "$TW/blobs/$lost" ]
check "nothing of it is kept ($(ls "$TW/blobs" | grep -c part) .part files)" [ ! -f "$TW/blobs/$lost.part" ]
expect_in "$TW/daemon.log" "do not hash" "the town logs the mismatch"
got=$(hx unnamed)
check "a blob no record names is not wanted, nor taken ($got)" [ "$got" = "nothing not_named " ]
got=$(hx unasked)
check "a blob chunk without the feature is refused ($got)" [ "$got" = "not_negotiated " ]
start_daemon "$S"
SPID=$DPID
wait_ready "$S" "$SPID" || finish
poll 20 "the station is back in step" synced "$TW" "$S"

# 4. A file altered on the town's disk: verify finds it.
expect_rc 0 w "$TW" verify
one=$(head -1 "$T/hashes.st")
printf 'X' | dd of="$TW/blobs/$one" bs=1 seek=1000 conv=notrunc 2>/dev/null
expect_rc 1 w "$TW" verify
expect_in "$OUT" "do not hash" "verify says a blob does not hash to its name"
w "$TW" verify --json >"$OUT" 2>/dev/null
expect_in "$OUT" "$one" "verify --json names the altered blob"
cp "$S/blobs/$one" "$TW/blobs/$one" # the operator puts the station's copy back

# 5. Quota: a station whose blob would pass blob_mb (12 MiB) is refused
# with blob_quota; its records flow; the first station is unaffected.
start_daemon "$Q"
QPID=$DPID
wait_ready "$Q" "$QPID" || finish
seed "$Q" 1 13000000 4 || finish
poll 30 "the big station's records reach the town" synced "$TW" "$Q"
poll 20 "the town refuses the big station's blob with blob_quota" row_is "$TW" "$QID" last_reject blob_quota
expect_in "$TW/daemon.log" "blob_mb" "the refusal names the limit"
check "the refused blob is not at the town" [ ! -f "$TW/blobs/$(cat "$T/hashes.big")" ]
check "the refused blob is not counted in the big station's quota" [ "$(town_row "$TW" "$QID" blob_bytes_counted)" = 0 ]
seed "$S" 1 40000 5 || finish
poll 20 "the first station's new blob still arrives" all_at_town "$S"
rec "$Q" "after-quota"
poll 20 "the big station's records go on after the refusal" synced "$TW" "$Q"

# 6. A town of a build before the feature.
kill9 "$TPID"
WMSYNCD_FEATURES_OFF=blobs start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
: >"$T/hashes.old"
"$SEED" "$S/wmsync.conf" 1 30000 6 >"$T/hashes.old" 2>"$T/seed.err" || fail "blob_seed: $(cat "$T/seed.err")"
poll 20 "a town without the feature: records sync as before" synced "$TW" "$S"
# no_blob_sent: the new blob is not at the town, nothing of it either
no_blob_sent() {
    local h
    h=$(cat "$T/hashes.old")
    echo "$h at the town" >"$T/why"
    [ ! -e "$TW/blobs/$h" ] && [ ! -e "$TW/blobs/$h.part" ]
}
steady 3 "a town without the feature is sent no blob" no_blob_sent
check "the station keeps it pending ($(jget "$(st "$S")" blobs_pending))" [ "$(jget "$(st "$S")" blobs_pending)" -ge 1 ]

# 6b. Pruning.
pending=$(cat "$T/hashes.old")
touch -d '400 days ago' "$S/blobs/"*
nb=$(ls "$S/blobs" | grep -cE '^[0-9a-f]{64}$')
expect_rc 0 w "$S" blob prune
expect_in "$OUT" "pruned $((nb - 1)) blob(s)" "the station prunes its confirmed blobs older than keep_days"
check "the blob the town has not confirmed stays" [ -f "$S/blobs/$pending" ]
check "only it stays ($(ls "$S/blobs" | grep -cE '^[0-9a-f]{64}$'))" [ "$(ls "$S/blobs" | grep -cE '^[0-9a-f]{64}$')" = 1 ]
expect_rc 2 w "$TW" blob prune
expect_in "$ERR" "--days" "a town prunes only when told how old"
ntw=$(ls "$TW/blobs" | grep -cE '^[0-9a-f]{64}$')
expect_rc 0 w "$TW" blob prune --days 1
check "a town prunes nothing younger than asked ($ntw blobs kept)" [ "$(ls "$TW/blobs" | grep -cE '^[0-9a-f]{64}$')" = "$ntw" ]
# put the station's blobs back from the town for the parts below
for h in $(ls "$TW/blobs" | grep -E '^[0-9a-f]{64}$'); do
    grep -q "$h" "$T/hashes.st" && cp "$TW/blobs/$h" "$S/blobs/$h"
done

# 7. Backup and restore, with the blobs.
store_hashes() { ls "$1/blobs" | grep -E '^[0-9a-f]{64}$' | sort; }
stop_daemon "$SPID"
store_hashes "$S" >"$T/before"
expect_rc 0 w "$S" backup --out "$T/s.wmbak"
expect_in "$OUT" "blob(s)" "backup says how many blobs it carried"
check "the blobs are beside the backup" [ -s "$T/s.wmbak.blobs" ]
rm -f "$S/blobs/"*
expect_rc 0 w "$S" restore "$T/s.wmbak"
store_hashes "$S" >"$T/after"
check "restore put back every blob ($(wc -l <"$T/after") of $(wc -l <"$T/before"))" cmp -s "$T/before" "$T/after"
expect_rc 0 w "$S" verify
python3 - "$T/s.wmbak.blobs" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[8 + 41 + 1000] ^= 1  # inside the first blob's bytes
open(p, "wb").write(bytes(b))
PY
rm -f "$S/blobs/"*
expect_rc 1 w "$S" restore "$T/s.wmbak"
expect_in "$ERR" "do not hash" "restore refuses a blob altered in the pack, naming it"
check "the altered blob was not stored" [ "$(ls "$S/blobs" | grep -cE '^[0-9a-f]{64}$')" = 0 ]

# 8. Bundles with their blobs.
B=$T/usb
BID=xx/longhua/usb
init_station "$B" "$BID" || finish
enroll "$B" "$TW" || finish
start_daemon "$B"
BPID=$DPID
wait_ready "$B" "$BPID" || finish
seed "$B" 3 120000 9 || finish
expect_rc 0 w "$B" bundle export --out "$T/usb.wmb"
expect_in "$OUT" "3 of the 3 blob(s)" "export says which blobs it carries"
expect_rc 0 w "$B" bundle export --out "$T/bare.wmb" --no-blobs
check "--no-blobs leaves them out" [ ! -e "$T/bare.wmb.blobs" ]
cp "$T/usb.wmb.blobs" "$T/usb-bad.wmb.blobs"
cp "$T/usb.wmb" "$T/usb-bad.wmb"
python3 - "$T/usb-bad.wmb.blobs" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[8 + 41 + 500] ^= 1
open(p, "wb").write(bytes(b))
PY
expect_rc 1 w "$TW" bundle import "$T/usb-bad.wmb"
expect_in "$ERR" "do not hash" "a bundle's blob altered in one byte is refused"
expect_rc 0 w "$TW" bundle import "$T/usb.wmb"
expect_in "$OUT" "imported 3 blob(s)" "the bundle's blobs are imported"
all_at_town "$B" && pass "every blob of the bundle is at the town" || fail "bundle blobs: $(cat "$T/why")"
check "every blob at the town hashes to its name" hashes_match
expect_rc 0 w "$TW" bundle import "$T/usb.wmb"
expect_in "$OUT" "3 held already" "importing the bundle again stores nothing twice"

# 9. A town prunes (--days given): the pruned blob no longer counts in the
# child's quota total, which is what the town holds of it again.
old=$(head -1 "$T/hashes.st")
touch -d '400 days ago' "$TW/blobs/$old"
expect_rc 0 w "$TW" blob prune --days 30
check "the town pruned the blob older than asked" [ ! -e "$TW/blobs/$old" ]
counted_is_held() {
    local c h
    c=$(town_row "$TW" "$SID" blob_bytes_counted)
    h=$(town_row "$TW" "$SID" blob_bytes_held)
    echo "blob_bytes_counted $c, blob_bytes_held $h" >"$T/why"
    [ "$c" = "$h" ] && [ "$c" != 1800000 ]
}
poll 15 "after the town's prune the quota's total is what it holds" counted_is_held

finish
