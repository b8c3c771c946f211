#!/bin/bash
# SPDX-License-Identifier: MIT
# it_web: wmweb, the web console, over HTTP against real daemons — a town
# and a station syncing to it, each with its own wmweb (web_check.py does
# the HTTP and validates every JSON answer against docs/openapi.json):
# every endpoint refuses without a session; CSRF tokens and Origin are
# enforced; a viewer cannot write; records and voids go through the
# daemon with the account name signed in (seen by wmctl log); rejected
# input names its field in Chinese (English on request) and writes
# nothing; oversize, malformed and non-JSON bodies are refused; static
# files never leave the asset directory; repeated bad passwords throttle
# logins; accounts; rollup (JSON, CSV, xlsx), report, children, publish;
# the daemon down gives 503 and status says so; every login, failed login
# and write is logged with the account name. Photos (issue 12 item 1, with
# curl): an upload is normalised to the very bytes wmctl stores, put to the
# daemon, named by an activity and served back to viewers with its media
# type; uploads need a session, the CSRF token and an operator; empty,
# unreadable and oversize uploads are refused naming the file (in Chinese
# by default); a record may name only its session's uploads; the town
# receives the file and its console serves it.
# usage: it_web.sh WMCTL WMSYNCD WMWEB MKPHOTO
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"
WMWEB=$3
MKPHOTO=$4
CHECK="$SRC_DIR/tests/integration/web_check.py"

# start_web DIR: wmweb for node DIR on a free loopback port, the test's
# asset directory; its URL in $URL, its pid in $WPID, its log DIR/web.log.
start_web() {
    local d=$1 deadline
    : >"$d/web.out"
    "$WMWEB" -c "$d/wmsync.conf" --assets "$T/assets" --listen 127.0.0.1:0 \
        >"$d/web.out" 2>>"$d/web.log" &
    WPID=$!
    DAEMON_PIDS+=("$WPID")
    deadline=$(($(now_ms) + 10000))
    URL=
    while [ -z "$URL" ] && [ "$(now_ms)" -lt "$deadline" ]; do
        URL=$(sed -n 's/^wmweb: serving \(http[^ ]*\) .*/\1/p' "$d/web.out")
        kill -0 "$WPID" 2>/dev/null || break
        [ -z "$URL" ] && sleep 0.05
    done
    [ -n "$URL" ] || { fail "wmweb for $d did not start: $(tail -3 "$d/web.log")"; return 1; }
}

# phase NAME URL ARGS...: runs one web_check.py phase, adds its tally.
phase() {
    local out p f
    out=$("$SCHEMA_PY" "$CHECK" "$1" "$SRC_DIR" "${@:2}" 2>&1)
    grep -E '^(FAIL|Traceback|  )' <<<"$out" >&2
    [ "${WM_IT_VERBOSE:-0}" = 1 ] && grep '^ok:' <<<"$out"
    p=$(sed -n 's/^PASSED \([0-9]*\) FAILED \([0-9]*\)$/\1/p' <<<"$out")
    f=$(sed -n 's/^PASSED \([0-9]*\) FAILED \([0-9]*\)$/\2/p' <<<"$out")
    [ -n "$p" ] || { fail "phase $1 gave no tally"; return 1; }
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
}

# users DIR NAME:ROLE:PASSWORD...
users() {
    local d=$1 u
    shift
    for u in "$@"; do
        IFS=: read -r name role pw <<<"$u"
        echo "$pw" | w "$d" user add "$name" --role "$role" --password-stdin >"$OUT" 2>"$ERR" ||
            fail "user add $name at $d: $(cat "$ERR")"
    done
}

# The asset directory: pages, a subdirectory, and bait outside it.
mkdir -p "$T/assets/sub"
echo '<!doctype html><title>wmsync</title>' >"$T/assets/index.html"
echo inside >"$T/assets/sub/inside.txt"
echo SECRET >"$T/assets/.hidden"
echo SECRET >"$T/secret.txt"
ln -s "$T/secret.txt" "$T/assets/outside-link.txt"

TOWN=$T/town
STA=$T/sta
town_with_two "$TOWN" "$STA" "$T/unused" || finish
start_two "$TOWN" "$STA" "$T/unused" || finish
users "$STA" admin1:admin:admin-password op1:operator:op-password view1:viewer:view-password
users "$TOWN" admin1:admin:admin-password op1:operator:op-password
expect_rc 0 w "$STA" user list --json
expect_in "$OUT" '{"name":"op1","role":"operator"}' "wmctl user list --json"
check "the accounts file is 0640" [ "$(stat -c %a "$STA/web-users")" = 640 ]
check "it holds Argon2id hashes, no password" \
    bash -c "grep -q '^op1 operator \\\$argon2id\\\$' '$STA/web-users' && ! grep -q op-password '$STA/web-users'"

start_web "$STA" || finish
SURL=$URL
SWPID=$WPID
phase files "$SURL"
phase station "$SURL" "$T/rollup.xlsx"
expect_rc 0 w "$STA" log --json
expect_in "$OUT" '"account":"op1"' "wmctl log shows the account name signed into the record"
expect_in "$OUT" '"title":"主题宣讲进村"' "wmctl log shows the record entered through the console"
expect_rc 0 w "$STA" verify
expect_in "$STA/web.log" "op1: login as op1 (operator)" "logins are logged with the account"
expect_in "$STA/web.log" "login as op1 FAILED" "failed logins are logged with the account"
expect_in "$STA/web.log" "op1: recorded activity as" "writes are logged with the account"
expect_in "$STA/web.log" "refused: no valid CSRF token" "CSRF refusals are logged"
check "wmweb never opened a key file" bash -c "! grep -q 'keys/' '$STA/web.log'"

# ---- photos through the console (curl, as the page's fetch sends them) ----
"$MKPHOTO" make "$T/p1.jpg" 2400 1800 --seed 21 --orientation 6 --date "2024:03:05 09:30:00" ||
    fail "mkphoto p1"
"$MKPHOTO" make "$T/p2.png" 800 600 --seed 22 || fail "mkphoto p2"
printf '%%PDF-1.4\n%% sheet\n%%%%EOF\n' >"$T/sheet.pdf"
SU=${SURL%/}
# login NAME PASSWORD JAR: the session's CSRF token on stdout
login() {
    curl -s -c "$3" -H 'Content-Type: application/json' \
        -d "{\"user\":\"$1\",\"password\":\"$2\"}" "$SU/api/v1/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])'
}
# up JAR CSRF FILE [LANG]: uploads FILE; status in $HS, body in $T/up.json
up() {
    HS=$(curl -s -o "$T/up.json" -w '%{http_code}' -b "$1" -H "X-CSRF-Token: $2" \
        -H "Accept-Language: ${4:-zh-CN}" -H 'Content-Type: application/octet-stream' \
        --data-binary "@$3" "$SU/api/v1/attachments?name=$(basename "$3")")
}
jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
OPJAR=$T/op.jar VJAR=$T/view.jar
OPCSRF=$(login op1 op-password "$OPJAR")
VCSRF=$(login view1 view-password "$VJAR")
up "$OPJAR" "$OPCSRF" "$T/p1.jpg"
same() { if [ "$1" = "$2" ]; then pass "$3"; else fail "$3: got '$1', want '$2' $(head -c 300 "$T/up.json")"; fi; }
same "$HS" 201 "an operator uploads a photo: 201"
H1=$(jget "$T/up.json" hash)
same "$(jget "$T/up.json" media_type)" image/jpeg "stored as a JPEG"
same "$(jget "$T/up.json" taken)" 2024-03-05T01:30:00Z "its capture time (CST) kept"
same "$(jget "$T/up.json" width)x$(jget "$T/up.json" height)" 1200x1600 \
    "rotated by its EXIF orientation and shrunk to [blobs] max_px"
up "$OPJAR" "$OPCSRF" "$T/p2.png"
H2=$(jget "$T/up.json" hash)
same "$HS" 201 "a PNG too"
up "$OPJAR" "$OPCSRF" "$T/sheet.pdf"
HPDF=$(jget "$T/up.json" hash)
same "$(jget "$T/up.json" media_type)" application/pdf "a PDF sign-in sheet kept as it is"
up "$OPJAR" "" "$T/p1.jpg"
same "$HS" 403 "an upload without the CSRF token: 403"
up "$VJAR" "$VCSRF" "$T/p1.jpg"
same "$HS" 403 "a viewer may not upload"
: >"$T/empty.jpg"
up "$OPJAR" "$OPCSRF" "$T/empty.jpg"
same "$HS/$(jget "$T/up.json" field)" 400/file "an empty upload: 400 naming the file"
echo "not a picture" >"$T/junk.jpg"
up "$OPJAR" "$OPCSRF" "$T/junk.jpg"
same "$HS/$(jget "$T/up.json" field)" 415/file "an unreadable file: 415 naming the file"
expect_in "$T/up.json" "不是可以读取的照片" "said in Chinese by default"
up "$OPJAR" "$OPCSRF" "$T/junk.jpg" en
expect_in "$T/up.json" "junk.jpg is not a photo this console can read" "in English on request"
head -c $((32 * 1024 * 1024 + 1)) /dev/zero >"$T/huge.bin"
up "$OPJAR" "$OPCSRF" "$T/huge.bin"
same "$HS/$(jget "$T/up.json" code)" 413/too_big "an upload over 32 MiB: 413"
# judged on its headers: a large upload without a session is refused as such
HS=$(curl -s -o "$T/up.json" -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
    --data-binary "@$T/huge.bin" "$SU/api/v1/attachments")
same "$HS/$(jget "$T/up.json" code)" 401/login_required "a large upload without a session: 401, not 413"
up "$VJAR" "$VCSRF" "$T/huge.bin"
same "$HS/$(jget "$T/up.json" code)" 403/forbidden "a large upload by a viewer: 403"
rm -f "$T/huge.bin"
# the activity naming them
rec() { # rec JAR CSRF JSON: status in $HS, body in $T/rec.json
    HS=$(curl -s -o "$T/rec.json" -w '%{http_code}' -b "$1" -H "X-CSRF-Token: $2" \
        -H 'Content-Type: application/json' -d "$3" "$SU/api/v1/records")
}
ACT='"kind":"activity","date":"2024-03-05","category":"theme_lecture","title":"带照片的宣讲","participants":30'
rec "$OPJAR" "$OPCSRF" "{$ACT,\"photo\":[\"$H1\",\"$H2\"],\"attach\":\"$HPDF\"}"
same "$HS" 201 "an activity with two photos and a sign-in sheet: 201"
WSEQ=$(jget "$T/rec.json" seq)
OP2JAR=$T/op2.jar
OP2CSRF=$(login op1 op-password "$OP2JAR")
rec "$OP2JAR" "$OP2CSRF" "{$ACT,\"photo\":[\"$H1\"]}"
same "$HS/$(jget "$T/rec.json" field)" 400/photo "another session may not name an upload it did not make"
rec "$OPJAR" "$OPCSRF" "{$ACT,\"photo\":\"xyz\"}"
same "$HS/$(jget "$T/rec.json" field)" 400/photo "a photo that is not a hash: 400 naming photo"
expect_rc 0 w "$STA" log --json
python3 - "$OUT" "$WSEQ" "$H1" "$H2" "$HPDF" >"$T/att.out" <<'PY' || fail "the record's attachments: $(cat "$T/att.out")"
import json, sys
out, seq, h1, h2, hp = sys.argv[1:]
for line in open(out):
    r = json.loads(line)
    if r.get("seq") != int(seq):
        continue
    a = r["activity"]["attachments"]
    got = [(x["hash"], x.get("role", "photo"), x["media_type"]) for x in a]
    want = [(h1, "photo", "image/jpeg"), (h2, "photo", "image/jpeg"), (hp, "sign_in_sheet", "application/pdf")]
    if got != want or r["account"] != "op1" or not a[0].get("taken_at"):
        print(got, want)
        sys.exit(1)
    sys.exit(0)
sys.exit(1)
PY
pass "the signed record names the three files, with the capture time"
# the same bytes as wmctl: one normalisation
expect_rc 0 w "$STA" record activity --date 2024-03-06 --category theme_lecture --title 同图 \
    --participants 5 --photo "$T/p1.jpg"
expect_rc 0 w "$STA" log --json
check "wmctl stores the very file the console stored" grep -q "\"hash\":\"$H1\".*同图\|同图.*\"hash\":\"$H1\"" "$OUT"
# served back, to viewers too, with its media type; checked by its hash
HS=$(curl -s -o "$T/got.jpg" -w '%{http_code} %{content_type}' -b "$VJAR" "$SU/api/v1/blobs/$H1")
same "$HS" "200 image/jpeg" "a viewer gets the photo as image/jpeg"
same "$(b2sum -l 256 "$T/got.jpg" | cut -d' ' -f1)" "$H1" "the bytes served hash to the record's hash"
HS=$(curl -s -D "$T/pdf.h" -o /dev/null -w '%{http_code} %{content_type}' -b "$VJAR" "$SU/api/v1/blobs/$HPDF")
same "$HS" "200 application/pdf" "the sign-in sheet as application/pdf"
expect_in "$T/pdf.h" "Content-Disposition: attachment" "a PDF is downloaded, never shown inline"
HS=$(curl -s -o /dev/null -w '%{http_code}' "$SU/api/v1/blobs/$H1")
same "$HS" 401 "no session, no photo"
HS=$(curl -s -o "$T/up.json" -w '%{http_code}' -b "$VJAR" "$SU/api/v1/blobs/$(printf '%064d' 0)")
same "$HS" 404 "a file not held: 404"
expect_in "$STA/web.log" "op1: uploaded p1.jpg" "uploads are logged with the account"

# The station's records reach the town; the town's console sees them.
deadline=$(($(now_ms) + 20000))
while [ "$(now_ms)" -lt "$deadline" ] && ! st "$TOWN" | grep -q '"caught_up":true'; do
    sleep 0.1
done
if st "$TOWN" | grep -q '"caught_up":true'; then pass "the town caught up"; else
    fail "town not caught up: $(st "$TOWN")"; fi
start_web "$TOWN" || finish
phase town "$URL" "$SID"
# the station's photo reaches the town, whose console serves it
TJAR=$T/town.jar TU=${URL%/}
curl -s -c "$TJAR" -H 'Content-Type: application/json' \
    -d '{"user":"op1","password":"op-password"}' "$TU/api/v1/login" >/dev/null
town_has() { [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$TJAR" "$TU/api/v1/blobs/$H1")" = 200 ]; }
poll 30 "the town's console serves the station's photo" town_has

# TLS: any address but loopback needs it; wmctl web-cert makes a pair.
expect_rc 1 "$WMWEB" -c "$STA/wmsync.conf" --assets "$T/assets" --listen 0.0.0.0:0
expect_in "$ERR" "without TLS" "wmweb refuses a non-loopback address without TLS"
expect_rc 0 w "$STA" web-cert --host 127.0.0.1 --host localhost
expect_in "$OUT" "SHA-256 fingerprint" "web-cert prints the fingerprint"
check "web.key is 0640" [ "$(stat -c %a "$STA/web.key")" = 640 ]
expect_rc 1 w "$STA" web-cert
expect_in "$ERR" "--force" "web-cert does not replace a pair without --force"
cp "$STA/wmsync.conf" "$T/tls.conf"
sed -i "s|^data_dir = .*|data_dir = $STA/data|; s|^socket = .*|socket = $STA/control.sock|" "$T/tls.conf"
printf 'tls_cert = %s\ntls_key = %s\nusers = %s\n' "$STA/web.crt" "$STA/web.key" \
    "$STA/web-users" >>"$T/tls.conf"
mkdir -p "$T/tls" && cp "$T/tls.conf" "$T/tls/wmsync.conf"
start_web "$T/tls" || finish
check "the TLS console's URL is https" grep -q '^https://' <<<"$URL"
phase tls "$URL" "$STA/web.crt"

# The daemon down: writes 503, reads still served.
stop_daemon "$SPID"
phase down "$SURL"
# an upload with the daemon down: 503, nothing stored; a photo cannot be shown
"$MKPHOTO" make "$T/p3.jpg" 640 480 --seed 23 || fail "mkphoto p3"
nblobs=$(ls "$STA/blobs" | grep -cE '^[0-9a-f]{64}$')
up "$OPJAR" "$OPCSRF" "$T/p3.jpg"
same "$HS/$(jget "$T/up.json" code)" 503/daemon_down "an upload with the daemon down: 503 daemon_down"
check "nothing stored" [ "$(ls "$STA/blobs" | grep -cE '^[0-9a-f]{64}$')" = "$nblobs" ]
HS=$(curl -s -o "$T/up.json" -w '%{http_code}' -b "$VJAR" "$SU/api/v1/blobs/$H1")
same "$HS" 503 "a photo with the daemon down: 503"
# Throttling last: it locks this address out of the station's console.
phase throttle "$SURL"
stop_daemon "$SWPID"
finish
