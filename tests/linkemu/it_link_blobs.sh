# SPDX-License-Identifier: MIT
# it_link_blobs: photos behind the records on a 2G link (4 KB/s, 150 ms
# one way; issue 12 item 2: "no chunk holds a record batch back for more
# than about a second").
#
#  1. A station with a 64 KB photo pending (16 s of this link), restarted
#     in the middle of it (so its new session has measured nothing yet),
#     writes five records one by one while the photo goes: each is
#     acknowledged by the town within 3 s of being written. A chunk is a
#     quarter of a second of the measured link, one chunk of 4 KiB at a
#     time before anything is measured, and while records flow only one
#     chunk is in flight. On the old code the new session sent four chunks
#     of 16 KiB before it knew the rate: the first record waited 16 s.
#  2. The photo arrives whole, its bytes hash to its name, and the station
#     counts it confirmed.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/it_sync_lib.sh"
. "$(dirname "$0")/link_lib.sh"
SEED=$3

town_and_station_via_proxy --delay-ms 150 || finish
start_town_station || finish
rec_n "$S" 3 warm
poll 20 "three records reach the town over the proxy" no_loss "$TW" "$S"
px set rate=4096 >/dev/null

# ---- 1 ----
"$SEED" "$S/wmsync.conf" 1 65536 5 >"$T/photo" 2>"$T/seed.err" ||
    { fail "blob_seed: $(cat "$T/seed.err")"; finish; }
h=$(cat "$T/photo")
sent_some() { [ "$(up_field "$S" blob_bytes_sent)" -gt 0 ] 2>/dev/null; }
poll 20 "the photo's first bytes are on their way" sent_some
# A restart in the middle: the new session knows no rate yet, and resumes
# the photo from the bytes the town holds.
kill9 "$SPID"
start_daemon "$S"
SPID=$DPID
wait_ready "$S" "$SPID" || finish
poll 20 "after a restart the photo goes on" sent_some
# acked_to SEQ: the station's upstream acknowledged its log up to SEQ.
acked_to() {
    local a
    a=$(up_field "$S" acked_seq)
    echo "acked_seq $a (want $1)" >"$T/why"
    [ "$a" -ge "$1" ] 2>/dev/null
}
worst=0 under=0
for i in 1 2 3 4 5; do
    pending=$(jget "$(st "$S")" blob_bytes_pending)
    t0=$(now_ms)
    rec "$S" "behind-the-photo-$i" || finish
    seq=$(head_seq "$S")
    while ! acked_to "$seq"; do
        [ $(($(now_ms) - t0)) -gt 20000 ] && break
        sleep 0.02
    done
    ms=$(($(now_ms) - t0))
    echo "record $i: acked in $ms ms, $pending photo bytes pending" >&2
    [ "$ms" -gt "$worst" ] && worst=$ms
    [ "${pending:-0}" -gt 0 ] 2>/dev/null && under=$((under + 1))
done
check "five records behind a 64 KB photo on 4 KB/s: the slowest acked in $worst ms (<= 3000)" \
    [ "$worst" -le 3000 ]
check "they were written while the photo was pending ($under of 5)" [ "$under" -ge 3 ]

# ---- 2 ----
at_town() { [ -f "$TW/blobs/$h" ] || { echo "$h not at the town" >"$T/why"; return 1; }; }
poll 60 "the photo arrives whole" at_town
check "its bytes hash to its name" python3 -c 'import hashlib,sys
d = open(sys.argv[1], "rb").read()
sys.exit(hashlib.blake2b(d, digest_size=32).hexdigest() != sys.argv[2])' "$TW/blobs/$h" "$h"
poll 20 "the station counts it confirmed" field_is "$S" blobs_pending 0
poll 20 "every record reached the town" no_loss "$TW" "$S"
finish
