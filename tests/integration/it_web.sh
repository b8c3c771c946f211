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
# and write is logged with the account name.
# usage: it_web.sh WMCTL WMSYNCD WMWEB
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"
WMWEB=$3
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

# The station's records reach the town; the town's console sees them.
deadline=$(($(now_ms) + 20000))
while [ "$(now_ms)" -lt "$deadline" ] && ! st "$TOWN" | grep -q '"caught_up":true'; do
    sleep 0.1
done
if st "$TOWN" | grep -q '"caught_up":true'; then pass "the town caught up"; else
    fail "town not caught up: $(st "$TOWN")"; fi
start_web "$TOWN" || finish
phase town "$URL" "$SID"

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
# Throttling last: it locks this address out of the station's console.
phase throttle "$SURL"
stop_daemon "$SWPID"
finish
