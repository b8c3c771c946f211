# SPDX-License-Identifier: MIT
# it_blobfetch: feature "blob-fetch" (PROTOCOL.md §7.3): the town keeps the
# blobs, the county fetches them on demand, through real station, town and
# county daemons over CURVE.
#
# 1. A station records activities of 2024-05 with real photos (libvips,
#    mkphoto; normalised by wmctl) and one big seeded blob; they reach the
#    town; the town publishes 2024-05 to the county.
# 2. The county fetches one on demand (wmctl blob fetch HASH, no --child:
#    its only town); the bytes hash to the name; blob get writes them.
# 3. audit --with-evidence --json: every attachment of May verified
#    against its signed hash and size, except the photo of a voided
#    activity, which counts in no figure and is neither fetched nor counted (one of them from a .part that held
#    every byte when a crash cut its completion); the figures confirmed;
#    exit 0.
# 3b. Down the tiers: a province above the county fetches a photo with
#    --child COUNTY --path TOWN (relayed by the county to its town), and
#    audits the county's report with evidence down to the station records.
# 4. A photo altered on the town's disk (same size), and one removed
#    there: the audit reports the mismatch (exit 1) and the missing one;
#    the county never marks the altered one present, keeps no .part. The
#    town fetches the removed one back from its station (no --child: the
#    station its records name).
# 5. kill -9 of the town in the middle of a fetch (8 KiB chunks of a
#    6 MB blob): the next fetch resumes from the bytes held, and the blob
#    hashes to its name.
# 6. A hostile child (hostile.c, enrolled as a town) answering every
#    fetch with wrong bytes: refused (mismatch), nothing stored; without
#    --child each connected child is asked in turn, and the town's right
#    bytes are taken; an unasked BLOB_DATA is rejected unexpected.
# 7. A town that does not list "blob-fetch" (WMSYNCD_HELLO_FEATURES_OFF,
#    as a build before the feature): a clear error at the county, no hang.
#
#   it_blobfetch.sh WMCTL WMSYNCD MKPHOTO BLOB_SEED HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

MKPHOTO=${3:-}
SEED=${4:-}
HOSTILE=${5:-}
[ -x "$MKPHOTO" ] && [ -x "$SEED" ] && [ -x "$HOSTILE" ] ||
    { echo "usage: $0 WMCTL WMSYNCD MKPHOTO BLOB_SEED HOSTILE" >&2; exit 2; }

PP=$(free_port) || { fail "no free port"; finish; }
PC=$(free_port) || { fail "no free port"; finish; }
PT=$(free_port) || { fail "no free port"; finish; }
PV=$T/prov C=$T/county TW=$T/town S=$T/st HT=$T/liar
PID_=p CID=p/xx TID=p/xx/lh SID=p/xx/lh/a HID=p/xx/liar
"$WMCTL" init --role province --id "$PID_" --name 省中心 --dir "$PV" \
    --listen "tcp://127.0.0.1:$PP" >/dev/null || { fail "init province"; finish; }
"$WMCTL" init --role county --id "$CID" --name 县中心 --dir "$C" --listen "tcp://127.0.0.1:$PC" \
    --upstream "tcp://127.0.0.1:$PP" --upstream-key "$(town_key "$PV")" >/dev/null ||
    { fail "init county"; finish; }
CKEY=$(town_key "$C")
"$WMCTL" init --role town --id "$TID" --name 龙华镇 --dir "$TW" --listen "tcp://127.0.0.1:$PT" \
    --upstream "tcp://127.0.0.1:$PC" --upstream-key "$CKEY" >/dev/null || { fail "init town"; finish; }
"$WMCTL" init --role town --id "$HID" --name 假镇 --dir "$HT" >/dev/null || { fail "init liar"; finish; }
sed -i 's/^publish_at_close = yes/publish_at_close = no/' "$TW/wmsync.conf" "$C/wmsync.conf"
init_station "$S" "$SID" "$PT" "$(town_key "$TW")" || finish

start_daemon "$PV"
wait_ready "$PV" || finish
enroll "$C" "$PV" || finish
start_daemon "$C"
CPID=$DPID
wait_ready "$C" "$CPID" || finish
enroll "$TW" "$C" && enroll "$HT" "$C" || finish
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$S" "$TW" || finish
start_daemon "$S"
wait_ready "$S" || finish

# ---- 1: photos at the station, up to the town, the town's report up ----
I=$T/img
mkdir -p "$I"
for k in 1 2 3 4; do
    "$MKPHOTO" make "$I/p$k.jpg" 2400 1800 --seed "$k" --date "2024:05:0$k 10:00:00" ||
        fail "mkphoto p$k"
done
expect_rc 0 w "$S" record activity --date 2024-05-06 --category theme_lecture --title 主题宣讲 \
    --participants 40 --photo "$I/p1.jpg" --photo "$I/p2.jpg"
expect_rc 0 w "$S" record activity --date 2024-05-13 --category culture_sports --title 文艺演出 \
    --participants 60 --photo "$I/p3.jpg"
"$SEED" "$S/wmsync.conf" 1 6000000 7 >"$T/big" 2>"$T/seed.err" || fail "blob_seed: $(cat "$T/seed.err")"
BIG=$(cat "$T/big")
expect_rc 0 w "$S" record activity --date 2024-05-20 --category culture_sports --title 重复录入的演出 \
    --participants 60 --photo "$I/p4.jpg"
VSEQ=$(w "$S" log --json | python3 -c 'import json, sys; print([json.loads(l) for l in sys.stdin if l.strip()][-1]["seq"])')
expect_rc 0 w "$S" record void --seq "$VSEQ" --reason 重复录入
# The photos' hashes, in the order recorded, from the signed records.
w "$S" log --json >"$T/log.json"
mapfile -t H < <(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    if l.strip():
        for a in json.loads(l).get("activity", {}).get("attachments", []):
            print(a["hash"])' "$T/log.json")
check "the station's records name 5 blobs (4 photos, 1 seeded)" [ "${#H[@]}" = 5 ]
P1=${H[0]} P2=${H[1]} P3=${H[2]} P4=${H[4]}

# at NODE HASH...: every blob is present at NODE.
at() {
    local n=$1 h
    shift
    for h in "$@"; do
        [ -f "$n/blobs/$h" ] || { echo "$h not at $n" >"$T/why"; return 1; }
    done
}
# right NODE HASH: NODE's file of HASH hashes to its name.
right() {
    python3 -c '
import hashlib, sys
d = open(sys.argv[1], "rb").read()
sys.exit(0 if hashlib.blake2b(d, digest_size=32).hexdigest() == sys.argv[2] else 1)' "$1/blobs/$2" "$2"
}
poll 30 "the station's records reach the town" synced "$TW" "$S"
poll 30 "every blob reaches the town" at "$TW" "${H[@]}"
expect_rc 0 w "$TW" publish --period 2024-05
row_ge() { [ "$(town_row "$1" "$2" seq)" != absent ] && [ "$(town_row "$1" "$2" seq)" -ge "$3" ] 2>/dev/null; }
poll 30 "the county holds the town's report" row_ge "$C" "$TID" 1
poll 10 "the town's link to the county agreed blob-fetch" field_is "$TW" blob_fetch true

# ---- 2: the county fetches one on demand ----
check "the county does not hold photo 1 before" [ ! -e "$C/blobs/$P1" ]
expect_rc 0 w "$C" blob fetch "$P1"
expect_in "$OUT" "verified, from $TID" "blob fetch: held at the county, from the town"
check "the county's photo 1 hashes to its name" right "$C" "$P1"
expect_rc 0 w "$C" blob get "$P1" --out "$T/p1.out"
check "blob get at the county: the town's bytes" cmp -s "$T/p1.out" "$TW/blobs/$P1"
expect_rc 0 w "$C" blob fetch "$P1" --child "$TID"
expect_in "$OUT" "bytes held here, verified" "a second fetch: held already, nothing asked"

# ---- 3: audit --with-evidence ----
# Photo 2's bytes all arrived before a crash cut the rename (a .part as
# big as the file): the audit completes it, asking nothing more.
cp "$TW/blobs/$P2" "$C/blobs/$P2.part"
# evidence FILE KEY: the evidence total KEY of audit --json's output.
evidence() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["evidence"][sys.argv[2]])' "$1" "$2"; }
expect_rc 0 w "$C" audit --child "$TID" --period 2024-05 --with-evidence --json
cp "$OUT" "$T/audit1.json"
expect_in "$ERR" "0 differ" "audit: every figure confirmed"
expect_in "$ERR" "3 attachment(s) of the audited activities: 3 verified, 0 missing at $TID, 0 mismatch" \
    "audit --with-evidence: the three photos verified"
check "audit --json: 3 verified, 0 mismatch, ok" \
    [ "$(evidence "$T/audit1.json" verified)/$(evidence "$T/audit1.json" mismatch)" = 3/0 ]
check "the county holds every photo of May, each right" eval 'right "$C" "$P2" && right "$C" "$P3"'
check "the voided activity's photo was not fetched" [ ! -e "$C/blobs/$P4" ]

# ---- 3b: a province, through the county, down to the town ----
expect_rc 0 w "$C" publish --period 2024-05
poll 30 "the province holds the county's report" row_ge "$PV" "$CID" 1
poll 10 "the county's link to the province agreed blob-fetch" field_is "$C" blob_fetch true
expect_rc 0 w "$PV" blob fetch "$P1" --child "$CID" --path "$TID"
expect_in "$OUT" "verified, from $CID" "province: a photo fetched through the county, from its town"
check "the province's photo 1 hashes to its name" right "$PV" "$P1"
expect_rc 0 w "$PV" audit --child "$CID" --period 2024-05 --with-evidence --json
cp "$OUT" "$T/audit0.json"
expect_in "$ERR" "through $CID" "province audit: down the tiers through the county"
check "province audit --json: 3 verified, 0 mismatch" \
    [ "$(evidence "$T/audit0.json" verified)/$(evidence "$T/audit0.json" mismatch)" = 3/0 ]
expect_rc 1 w "$PV" blob fetch "$BIG" --child "$CID" --path p/xx/nowhere
expect_in "$ERR" "unreachable" "a path through no child of the county: unreachable, said at once"

# ---- 4: a photo altered on the town's disk, one removed there ----
rm -f "$C/blobs/$P2" "$C/blobs/$P3" "$TW/blobs/$P3"
python3 - "$TW/blobs/$P2" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x40
open(p, "wb").write(bytes(b))
PY
expect_rc 1 w "$C" audit --child "$TID" --period 2024-05 --with-evidence --json
cp "$OUT" "$T/audit2.json"
expect_in "$ERR" "MISMATCH $SID record" "audit: the altered photo is a mismatch"
expect_in "$ERR" "do not hash to blob" "audit: says the bytes do not hash"
expect_in "$ERR" "MISSING $SID record" "audit: the removed photo is missing at the town"
check "audit --json: 1 verified, 1 missing, 1 mismatch" \
    [ "$(evidence "$T/audit2.json" verified)/$(evidence "$T/audit2.json" missing)/$(evidence "$T/audit2.json" mismatch)" = 1/1/1 ]
none_of() { [ ! -e "$C/blobs/$1" ] && [ ! -e "$C/blobs/$1.part" ]; }
check "the county never marks the altered photo present, keeps none of its bytes" none_of "$P2"
expect_rc 1 w "$C" blob fetch "$P2"
expect_in "$ERR" "(mismatch)" "blob fetch of the altered photo: refused, named mismatch"
# The town lost photo 3: it fetches it from the station whose verified
# record names it (its blobref index; no --child), through the same path.
expect_rc 0 w "$TW" blob fetch "$P3"
expect_in "$OUT" "verified, from $SID" "the town fetches a lost photo from the station its records name"
check "the town's photo 3 hashes to its name again" right "$TW" "$P3"

# ---- 5: kill -9 of the town in the middle of a fetch ----
# part_at_least N: the county's .part of the big blob holds N bytes or more.
part_at_least() {
    local p
    p=$(stat -c %s "$C/blobs/$BIG.part" 2>/dev/null || echo 0)
    echo "the county's .part holds $p bytes" >"$T/why"
    [ "$p" -ge "$1" ]
}
w "$C" blob fetch "$BIG" --child "$TID" --chunk 8192 >"$T/f1.out" 2>"$T/f1.err" &
FPID=$!
poll 20 "a fetch of the big blob is under way" part_at_least 8192
kill9 "$TPID"
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null
HELD=$(stat -c %s "$C/blobs/$BIG.part" 2>/dev/null || echo 0)
partial() { [ "$HELD" -gt 0 ] && [ "$HELD" -lt 6000000 ]; }
check "the county holds part of the big blob ($HELD of 6000000 bytes)" partial
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
poll 15 "the town is back in session with the county" field_is "$TW" connected true
expect_rc 0 w "$C" blob fetch "$BIG" --child "$TID"
expect_in "$ERR" "resumed at byte" "the fetch resumed from the bytes held"
RESUMED=$(sed -n 's/.*resumed at byte \([0-9]*\).*/\1/p' "$ERR")
check "it resumed at or past the bytes held after the kill ($RESUMED >= $HELD)" [ "${RESUMED:-0}" -ge "$HELD" ]
check "the big blob at the county hashes to its name" right "$C" "$BIG"

# ---- 6: a hostile child answering with wrong bytes ----
"$HOSTILE" "tcp://127.0.0.1:$PC" "$CKEY" "$HT/keys" "$HID" blob_liar "$T/stop:50000" \
    >"$T/liar.out" 2>"$T/liar.err" &
LPID=$!
poll 10 "the hostile child is in session" test -e "$T/stop.ready"
expect_rc 1 w "$C" blob fetch "$P3" --child "$HID"
expect_in "$ERR" "(mismatch)" "wrong bytes from a hostile child: refused as a mismatch"
check "nothing of them is stored" none_of "$P3"
# Without --child, two children connected and no record here naming it:
# each is asked in turn; the liar's wrong bytes do not stop the town's.
rm -f "$C/blobs/$P1"
expect_rc 0 w "$C" blob fetch "$P1"
expect_in "$OUT" "verified, from $TID" "no --child, two children: the one that holds it is found"
check "and its bytes are the file's" right "$C" "$P1"
touch "$T/stop"
wait "$LPID"
expect_in "$T/liar.out" "answered" "the hostile child answered the fetches"
"$HOSTILE" "tcp://127.0.0.1:$PC" "$CKEY" "$HT/keys" "$HID" blob_liar "$T/stop2:unasked" \
    >"$T/liar2.out" 2>"$T/liar2.err"
expect_in "$T/liar2.out" "unexpected" "a BLOB_DATA no fetch asked for: rejected unexpected"

# ---- 7: a town without the feature ----
stop_daemon "$TPID" TERM
WMSYNCD_HELLO_FEATURES_OFF=blob-fetch start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
poll 15 "the old-style town is in session with the county" field_is "$TW" connected true
check "its link did not agree blob-fetch" field_is "$TW" blob_fetch false
T0=$(now_ms)
expect_rc 1 w "$C" blob fetch "$P3" --child "$TID"
expect_in "$ERR" "$TID does not offer blob-fetch" "a town without the feature: a clear error"
expect_in "$ERR" "upgrade it" "the error says what to do"
check "answered at once, no hang ($(($(now_ms) - T0)) ms)" [ $(($(now_ms) - T0)) -lt 5000 ]
expect_rc 0 w "$C" audit --child "$TID" --period 2024-05 --with-evidence
expect_in "$OUT" "UNCHECKED" "audit through a town without the feature: the photos unchecked, said so"
finish
