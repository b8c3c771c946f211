#!/bin/bash
# SPDX-License-Identifier: MIT
# it_thumbs: a station prunes the photos its town confirmed and keeps their
# thumbnails (issue 12 item 6). A station records an activity with a photo
# (a JPEG made by libvips) and a PDF sign-in sheet; once the town confirms
# both, `wmctl blob prune` (files aged past keep_days) removes them and
# keeps a thumbnail of the photo (at most 160 px, written before the photo
# goes) and an empty marker for the PDF; then:
#   plain `blob get` of the photo fails saying it was pruned and the town
#   holds it; `blob get --thumb` writes the thumbnail (a JPEG, ≤ 160 px);
#   `verify` counts both pruned, not missing, and exits 0; the station's
#   web console serves the thumbnail for the photo (X-WM-Pruned: 1); the
#   town still holds and serves the photo itself.
# usage: it_thumbs.sh WMCTL WMSYNCD MKPHOTO WMWEB
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"
MKPHOTO=$3
WMWEB=$4

TD=$T/town S=$T/xinhe B=$T/unused
town_with_two "$TD" "$S" "$B" || finish
start_two "$TD" "$S" "$B" || finish

"$MKPHOTO" make "$T/p.jpg" 2000 1500 --seed 31 --date "2024:03:05 10:00:00" || fail "mkphoto"
printf '%%PDF-1.4\n%% sheet\n%%%%EOF\n' >"$T/sheet.pdf"
expect_rc 0 w "$S" record activity --date 2024-03-05 --category theme_lecture --title 宣讲 \
    --participants 20 --photo "$T/p.jpg" --attach "$T/sheet.pdf"
expect_rc 0 w "$S" log --json
read -r HP HS < <(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "activity" in r:
        a = r["activity"]["attachments"]
        print(a[0]["hash"], a[1]["hash"])' "$OUT")
[ -n "$HP" ] && [ -n "$HS" ] || { fail "no attachments in the log"; finish; }
poll 30 "the station's records reach the town" synced "$TD" "$S"
poll 30 "the town confirms both files" field_is "$S" blobs_pending 0

# Not old enough: nothing goes.
expect_rc 0 w "$S" blob prune
expect_in "$OUT" "pruned 0 blob(s)" "files younger than keep_days stay"
touch -d '400 days ago' "$S/blobs/$HP" "$S/blobs/$HS"
expect_rc 0 w "$S" blob prune
expect_in "$OUT" "pruned 2 blob(s)" "the station prunes both confirmed files"
expect_in "$OUT" "1 pruned file(s) have none" "the PDF has no thumbnail"
check "the photo is gone from the station" [ ! -e "$S/blobs/$HP" ]
check "its thumbnail is kept" [ -s "$S/blobs/$HP.thumb" ]
check "the PDF's marker is kept, empty" [ -e "$S/blobs/$HS.thumb" ] && [ ! -s "$S/blobs/$HS.thumb" ]

expect_rc 2 w "$S" blob get "$HP" --out "$T/full.jpg"
expect_in "$ERR" "pruned" "blob get of a pruned photo says it was pruned"
expect_in "$ERR" "town" "and that the town holds it"
check "nothing written" [ ! -e "$T/full.jpg" ]
expect_rc 0 w "$S" blob get "$HP" --thumb --out "$T/thumb.jpg"
python3 - "$T/thumb.jpg" >"$T/dims" <<'PY' || fail "the thumbnail is not a JPEG of at most 160 px: $(cat "$T/dims")"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:3] == b"\xff\xd8\xff", "not a JPEG"
i = 2
while i < len(b):
    m, n = b[i + 1], struct.unpack(">H", b[i + 2:i + 4])[0]
    if m in (0xC0, 0xC1, 0xC2):
        h, w = struct.unpack(">HH", b[i + 5:i + 9])
        print(w, h)
        sys.exit(0 if max(w, h) <= 160 and min(w, h) > 0 else 1)
    i += 2 + n
sys.exit(1)
PY
pass "blob get --thumb writes a JPEG of at most 160 px ($(cat "$T/dims"))"
expect_rc 2 w "$S" blob get "$HS" --thumb --out "$T/none.jpg"
expect_in "$ERR" "no thumbnail" "a PDF has no thumbnail to get"

expect_rc 0 w "$S" verify
expect_in "$OUT" "2 evidence file(s) pruned here" "verify counts the pruned files as pruned"
check "and none as missing" bash -c "! grep -q 'not held here' '$OUT'"
expect_rc 0 w "$S" verify --json
expect_in "$OUT" '"missing":0' "verify --json: none missing"
expect_in "$OUT" '"pruned":2' "verify --json: two pruned"

# The town still has the photo.
expect_rc 0 w "$TD" blob get "$HP" --out "$T/town.jpg"
check "the town's copy is the photo" cmp -s "$T/town.jpg" "$T/town.jpg"
check "the town's copy hashes to the record's hash" \
    [ "$(b2sum -l 256 "$T/town.jpg" | cut -d' ' -f1)" = "$HP" ]

# The station's console shows the thumbnail in the photo's place.
echo view-password | w "$S" user add view1 --role viewer --password-stdin >"$OUT" 2>"$ERR" ||
    fail "user add: $(cat "$ERR")"
: >"$S/web.out"
"$WMWEB" -c "$S/wmsync.conf" --assets "$SRC_DIR/web/assets" --listen 127.0.0.1:0 >"$S/web.out" 2>"$S/web.log" &
DAEMON_PIDS+=($!)
web_up() { grep -q '^wmweb: serving' "$S/web.out"; }
poll 10 "wmweb starts" web_up
U=$(sed -n 's/^wmweb: serving \(http[^ ]*\).*/\1/p' "$S/web.out")
U=${U%/}
curl -s -c "$T/jar" -H 'Content-Type: application/json' \
    -d '{"user":"view1","password":"view-password"}' "$U/api/v1/login" >/dev/null
code=$(curl -s -D "$T/h" -o "$T/web.jpg" -w '%{http_code} %{content_type}' -b "$T/jar" \
    "$U/api/v1/blobs/$HP")
check "the console serves the pruned photo's thumbnail ($code)" [ "$code" = "200 image/jpeg" ]
expect_in "$T/h" "X-WM-Pruned: 1" "marked as the thumbnail of a pruned photo"
check "the very thumbnail kept" cmp -s "$T/web.jpg" "$T/thumb.jpg"
code=$(curl -s -o "$T/web.json" -w '%{http_code}' -b "$T/jar" "$U/api/v1/blobs/$HS")
check "the pruned PDF: 404 ($code)" [ "$code" = 404 ]
expect_in "$T/web.json" "已在本节点清理" "saying, in Chinese, it was pruned and the town has it"
finish
