# SPDX-License-Identifier: MIT
# it_web_browser: the web console in a real browser. A county, a town and
# one of its stations run real wmsyncd daemons on loopback and sync; each has
# a real wmweb serving the pages of web/assets. web_browser.py drives headless
# Chromium (chromedriver + Selenium) through them: log in, record through
# the form, the ledger, a refused date, a void, the town's stations, rollup
# chart and xlsx download, publishing to the county, the county's view and
# audit of the town, and the station's daemon stopped. Screenshots of
# every page go to ARTIFACTS (build/artifacts/screenshots).
#
# usage: it_web_browser.sh WMCTL WMSYNCD WMWEB ASSETS ARTIFACTS MKPHOTO
# Skipped (exit 77, with a message) without chromium, chromedriver,
# python3-selenium or python3-openpyxl (packaging/deps.sh installs them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"
WMWEB=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
ASSETS=$4
SHOTS=$5
MKPHOTO=$6

# Debian's python3, which has python3-selenium and python3-openpyxl.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
missing=
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
"$PY" -c 'import selenium' 2>/dev/null || missing="$missing python3-selenium"
"$PY" -c 'import openpyxl' 2>/dev/null || missing="$missing python3-openpyxl"
if [ -n "$missing" ]; then
    echo "it_web_browser: missing$missing (packaging/deps.sh installs them): skipped"
    exit 77
fi

CT=$T/county
TW=$T/town
ST=$T/xinhe
CPORT=$(free_port) || { fail "no free port"; finish; }
PORT=$(free_port) || { fail "no free port"; finish; }
SID=xx/longhua/xinhe
"$WMCTL" init --role county --id xx --name 某县 --dir "$CT" --listen "tcp://127.0.0.1:$CPORT" \
    >/dev/null || { fail "init county"; finish; }
"$WMCTL" init --role town --id xx/longhua --name 龙华镇 --dir "$TW" --listen "tcp://127.0.0.1:$PORT" \
    --upstream "tcp://127.0.0.1:$CPORT" --upstream-key "$(town_key "$CT")" >/dev/null ||
    { fail "init town"; finish; }
init_station "$ST" "$SID" "$PORT" "$(town_key "$TW")" || finish
start_daemon "$CT"
wait_ready "$CT" "$DPID" || finish
enroll "$TW" "$CT" || finish
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$ST" "$TW" || finish
start_daemon "$ST"
SPID=$DPID
wait_ready "$ST" "$SPID" || finish
# Two more stations the town must show: 东村 enrolled but never started (it
# needs attention), 西村 revoked on purpose (it does not).
init_station "$T/dongcun" xx/longhua/dongcun "$PORT" "$(town_key "$TW")" || finish
init_station "$T/xicun" xx/longhua/xicun "$PORT" "$(town_key "$TW")" || finish
enroll "$T/dongcun" "$TW" && enroll "$T/xicun" "$TW" || finish
w "$TW" revoke --id xx/longhua/xicun >"$OUT" 2>"$ERR" || { fail "revoke: $(cat "$ERR")"; finish; }

# The accounts: an operator at the station, an administrator at the town.
printf '%s\n' 'xinhe-pass-2024' | w "$ST" user add caozuoyuan --role operator --password-stdin \
    >"$OUT" 2>"$ERR" || { fail "user add at the station: $(cat "$ERR")"; finish; }
printf '%s\n' 'longhua-pass-2024' | w "$TW" user add zhenguanli --role admin --password-stdin \
    >"$OUT" 2>"$ERR" || { fail "user add at the town: $(cat "$ERR")"; finish; }
printf '%s\n' 'county-pass-2024' | w "$CT" user add xianzhongxin --role admin --password-stdin \
    >"$OUT" 2>"$ERR" || { fail "user add at the county: $(cat "$ERR")"; finish; }

# start_web DIR: wmweb for node DIR on a free loopback port; its URL in $URL.
start_web() {
    local d=$1 deadline
    : >"$d/web.out"
    "$WMWEB" -c "$d/wmsync.conf" --assets "$ASSETS" --listen 127.0.0.1:0 >"$d/web.out" 2>"$d/web.log" &
    DAEMON_PIDS+=($!)
    deadline=$(($(now_ms) + 10000))
    URL=
    while [ "$(now_ms)" -lt "$deadline" ]; do
        URL=$(sed -n 's/^wmweb: serving \(http[^ ]*\).*/\1/p' "$d/web.out")
        [ -n "$URL" ] && return 0
        sleep 0.05
    done
    fail "wmweb for $d did not start: $(tail -3 "$d/web.log")"
    return 1
}
start_web "$ST" || finish
SURL=${URL%/}/
start_web "$TW" || finish
# Cookies ignore the port: the town is reached as localhost so that the
# station's and the town's consoles keep their own sessions in one browser
# (the county comes after the station is done, on 127.0.0.1 again).
TURL=$(echo "${URL%/}/" | sed 's#//127\.0\.0\.1:#//localhost:#')
start_web "$CT" || finish
CURL=${URL%/}/

rm -rf "$SHOTS"
mkdir -p "$SHOTS" "$T/downloads"
"$MKPHOTO" make "$T/photo.jpg" 1600 1200 --seed 5 --date "$(date +%Y:%m:%d) 09:00:00" ||
    { fail "mkphoto"; finish; }
printf '%%PDF-1.4\n%% sheet\n%%%%EOF\n' >"$T/sheet.pdf"
cat >"$T/browser.json" <<JSON
{"wmctl": "$WMCTL", "shots": "$SHOTS", "downloads": "$T/downloads",
 "photo": "$T/photo.jpg", "sheet": "$T/sheet.pdf",
 "station": {"url": "$SURL", "conf": "$ST/wmsync.conf", "id": "$SID", "name": "站xinhe",
             "user": "caozuoyuan", "password": "xinhe-pass-2024", "pid": $SPID},
 "town": {"url": "$TURL", "conf": "$TW/wmsync.conf", "id": "xx/longhua", "name": "龙华镇",
          "user": "zhenguanli", "password": "longhua-pass-2024"},
 "county": {"url": "$CURL", "conf": "$CT/wmsync.conf", "user": "xianzhongxin",
            "password": "county-pass-2024"}}
JSON
if "$PY" "$SRC_DIR/tests/integration/web_browser.py" "$T/browser.json" >"$T/browser.out" 2>&1; then
    pass "the console works in Chromium ($(grep -c '^ok:' "$T/browser.out") browser checks)"
else
    fail "the console in Chromium:"
    grep -v '^ok:\|^   screenshot' "$T/browser.out" | head -40 >&2
fi
grep '^NOTE:' "$T/browser.out"
[ "${WM_IT_VERBOSE:-0}" = 1 ] && cat "$T/browser.out"
forget_pid "$SPID"
finish
