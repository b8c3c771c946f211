#!/bin/bash
# SPDX-License-Identifier: MIT
# it_web_oldpeer: records entered through the web console carry the new
# header field Record.account (7); a town of a build from before it
# (OLD_REV, default e386baf, built by it_oldpeer into BUILD_DIR/oldpeer)
# stores them, verifies every signature and counts them (PROTOCOL.md §7,
# rule 1: unknown fields travel and verify). Skips (77) without that build.
#   it_web_oldpeer.sh WMCTL WMSYNCD WMWEB BUILD_DIR [OLD_REV]
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"
WMWEB=$3
BLD=${4:-}
REV=${5:-e386baf}
OLD=$BLD/oldpeer/$REV
OLD_WMSYNCD=$OLD/build/daemon/wmsyncd
OLD_WMCTL=$OLD/build/cli/wmctl
if [ ! -x "$OLD_WMSYNCD" ] || [ ! -x "$OLD_WMCTL" ]; then
    echo "it_web_oldpeer: SKIP: no old build in $OLD (it_oldpeer makes it)"
    exit 77
fi
old() { WMCTL=$OLD_WMCTL WMSYNCD=$OLD_WMSYNCD "$@"; }

PORT=$(free_port) || { fail "no free port"; finish; }
OT=$T/oldtown NS=$T/news
old init_town "$OT" xx/oldtown "$PORT" || finish
init_station "$NS" xx/oldtown/news "$PORT" "$(town_key "$OT")" || finish
old start_daemon "$OT"
OPID=$DPID
wait_ready "$OT" "$OPID" || finish
w "$NS" keys | old w "$OT" enroll - >"$OUT" 2>"$ERR" || fail "enrol: $(cat "$ERR")"
start_daemon "$NS"
wait_ready "$NS" "$DPID" || finish
echo op-password | w "$NS" user add op1 --role operator --password-stdin >"$OUT" 2>"$ERR" ||
    fail "user add: $(cat "$ERR")"
mkdir -p "$T/assets" && echo '<!doctype html>' >"$T/assets/index.html"
"$WMWEB" -c "$NS/wmsync.conf" --assets "$T/assets" --listen 127.0.0.1:0 >"$T/web.out" 2>"$T/web.log" &
DAEMON_PIDS+=("$!")
deadline=$(($(now_ms) + 10000))
URL=
while [ -z "$URL" ] && [ "$(now_ms)" -lt "$deadline" ]; do
    URL=$(sed -n 's/^wmweb: serving \(http[^ ]*\) .*/\1/p' "$T/web.out")
    [ -z "$URL" ] && sleep 0.05
done
check "wmweb started" [ -n "$URL" ]
out=$(python3 - "$URL" <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
def req(path, body, headers):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("POST", path, body=json.dumps(body), headers=dict(headers, **{"Content-Type": "application/json"}))
    r = c.getresponse()
    return r, r.read()
r, b = req("/api/v1/login", {"user": "op1", "password": "op-password"}, {})
h = {"Cookie": r.getheader("Set-Cookie").split(";")[0], "X-CSRF-Token": json.loads(b)["csrf"]}
for i in range(3):
    r, b = req("/api/v1/records", {"kind": "activity", "date": "2024-03-0%d" % (i + 1),
               "category": "theme_lecture", "title": "网页登记%d" % i, "participants": 10}, h)
    print(r.status)
PY
)
check "three activities entered through the console" [ "$(grep -c '^201$' <<<"$out")" = 3 ]
expect_rc 0 w "$NS" log --json
check "they carry Record.account" [ "$(grep -c '"account":"op1"' "$OUT")" = 3 ]
poll 30 "the old town stores them" old synced "$OT" "$NS"
poll 20 "and verifies each one's signature" old row_is "$OT" xx/oldtown/news unverified 0
expect_rc 0 old w "$OT" verify --station xx/oldtown/news
expect_rc 0 old w "$OT" rollup --period 2024-03 --format json
check "the old town counts them (30 participants)" python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(j["totals"].get("participants") != 30)' "$OUT"
finish
