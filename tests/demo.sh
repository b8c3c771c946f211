#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: a county center, two town institutes and five village stations
# on loopback, in a temporary directory. The stations record a season of
# the activities of a town's progress report (docs/design.md §1), in
# Chinese, and replicate them to their towns over CURVE; one town goes offline while its stations keep
# recording, then comes back and they catch up; the towns publish their
# signed rollups to the county; the town and county reports are printed in
# Chinese, and the county audits a town's figures back to the station
# records. Everything is real: daemons, LMDB, ZeroMQ, signatures. It ends
# by serving 龙华镇's web console (wmweb) with that data and a demo login,
# until Enter or Ctrl-C on a terminal; without a terminal it exits at once.
set -euo pipefail
BUILD=${1:-build}
WMCTL=$(realpath "$BUILD/cli/wmctl")
WMSYNCD=$(realpath "$BUILD/daemon/wmsyncd")
WMWEB=$(realpath "$BUILD/web/wmweb")
ASSETS=$(realpath "$(dirname "$0")/../web/assets")
DEMO=$(mktemp -d /tmp/wmsync-demo.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$DEMO"
}
trap cleanup EXIT

if [ -t 1 ]; then B=$'\033[1m'; N=$'\033[0m'; else B=; N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
ctl() { "$WMCTL" -c "$1/wmsync.conf" "${@:2}"; }
json() { python3 -c "import json, sys; j = json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

# wait_until SECONDS CMD...: polls CMD until it succeeds or the deadline passes.
wait_until() {
    local deadline=$(($(date +%s) + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out waiting for: $*" >&2; return 1; }
        sleep 0.1
    done
}
daemon_up() { ctl "$1" status --json | json 'j["daemon_running"]'; }
caught_up() { ctl "$1" status --json | json 'j["caught_up"]'; }
station_synced() { ctl "$1" status --json | json 'j["connected"] and j["pending"] == 0'; }
start() {
    "$WMSYNCD" -c "$1/wmsync.conf" 2>>"$1/daemon.log" &
    PIDS+=($!)
    eval "PID_$(basename "$1")=$!"
    wait_until 10 daemon_up "$1"
}
port=$((20000 + RANDOM % 20000))

say "a county center, two towns and five stations, in $DEMO"
county=$DEMO/county
"$WMCTL" init --role county --id xx-county --name 某县新时代文明实践中心 --dir "$county" \
    --listen "tcp://127.0.0.1:$port" >/dev/null
start "$county"
towns=(longhua daming)
town_names=(龙华镇新时代文明实践所 大明镇新时代文明实践所)
for i in 0 1; do
    t=$DEMO/${towns[$i]}
    "$WMCTL" init --role town --id "xx-county/${towns[$i]}" --name "${town_names[$i]}" --dir "$t" \
        --listen "tcp://127.0.0.1:$((port + 1 + i))" --upstream "tcp://127.0.0.1:$port" \
        --upstream-key "$(cat "$county/keys/curve.pub")" >/dev/null
    ctl "$t" keys | ctl "$county" enroll -
    start "$t"
done
stations=(longhua/xinhe longhua/shiqiao longhua/chengdong daming/dongcun daming/xicun)
station_names=(新河村新时代文明实践站 石桥村新时代文明实践站 城东社区新时代文明实践站
               东村新时代文明实践站 西村新时代文明实践站)
for i in "${!stations[@]}"; do
    s=${stations[$i]}
    town=$DEMO/${s%%/*}
    d=$DEMO/${s##*/}
    "$WMCTL" init --role station --id "xx-county/$s" --name "${station_names[$i]}" --dir "$d" \
        --upstream "tcp://127.0.0.1:$((port + 1 + $([ "${s%%/*}" = daming ] && echo 1 || echo 0)))" \
        --upstream-key "$(cat "$town/keys/curve.pub")" >/dev/null
    ctl "$d" keys | ctl "$town" enroll -
    start "$d"
done

# A season of the progress report's activities (2024-04 .. 2024-06) at one station.
season() {
    local d=$1 team=$2 n=$3 k
    ctl "$d" record team --team "$team" --name "${team}志愿服务分队" --kind branch --trade 教育 >/dev/null
    ctl "$d" record site --date 2024-04-01 --plaque --rules --equipment --manager --ledger \
        --plan --theme >/dev/null
    ctl "$d" record volunteers --date 2024-04-02 --registered $((300 + n * 40)) --verified $((220 + n * 30)) >/dev/null
    ctl "$d" record recruitment --date 2024-04-03 --count $((3 + n)) >/dev/null
    ctl "$d" record publicity --date 2024-04-05 --channel wechat --count $((5 + n)) >/dev/null
    ctl "$d" record publicity --date 2024-04-06 --channel poster --count $((6 + n)) >/dev/null
    ctl "$d" record publicity --date 2024-04-07 --channel leaflet --count $((300 + n * 50)) >/dev/null
    ctl "$d" record funding --date 2024-04-08 --yuan 5000 --source 县配套资金 >/dev/null
    for k in 04 05 06; do
        ctl "$d" record activity --date 2024-$k-08 --category theme_lecture \
            --title "主题宣讲：学习贯彻党的二十大精神" --tag 基层宣讲 --participants $((40 + n)) >/dev/null
        ctl "$d" record activity --date 2024-$k-12 --category theory_education --title 理论教育 --participants 30 >/dev/null
        ctl "$d" record activity --date 2024-$k-15 --category party_training --title 党员培训 --participants 25 >/dev/null
        ctl "$d" record activity --date 2024-$k-18 --category civilization_practice --title 移风易俗文明实践 --participants 50 >/dev/null
        ctl "$d" record activity --date 2024-$k-20 --category culture_sports --title 乡村广场舞联欢 \
            --festival 端午 --participants 120 >/dev/null
        ctl "$d" record activity --date 2024-$k-03 --category volunteer_service --service-kind environmental \
            --team "$team" --title 环保宣传 --volunteers 12 --hours 3 >/dev/null
        ctl "$d" record activity --date 2024-$k-17 --category volunteer_service --service-kind legal \
            --team "$team" --title 普法宣传 --volunteers 8 --hours 2 >/dev/null
    done
}

say "the stations record a season of activities (2024-04 to 2024-06)"
n=0
for s in xinhe shiqiao chengdong dongcun; do
    season "$DEMO/$s" "team$n" $n
    n=$((n + 1))
done
# 西村: a team that never served, and no grassroots lectures — the report's problems.
ctl "$DEMO/xicun" record team --team idle --name 西村文艺志愿服务队 --trade 文艺 >/dev/null
ctl "$DEMO/xicun" record activity --date 2024-05-04 --category culture_sports --title 送戏下乡 --festival 五四 --participants 200 >/dev/null
total=0
for s in xinhe shiqiao chengdong dongcun xicun; do
    total=$((total + $(ctl "$DEMO/$s" status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["head_seq"])')))
done
echo "recorded $total records at five stations"

say "大明镇 goes offline; its stations keep recording"
kill "$PID_daming"; wait "$PID_daming" 2>/dev/null || true
ctl "$DEMO/dongcun" record activity --date 2024-06-25 --category volunteer_service --service-kind assistance \
    --team team3 --title 帮扶志愿服务 --volunteers 10 --hours 4
ctl "$DEMO/xicun" record activity --date 2024-06-26 --category theme_lecture --title 主题宣讲 --participants 60
ctl "$DEMO/dongcun" status

say "大明镇 comes back; its stations catch up"
start "$DEMO/daming"
for s in xinhe shiqiao chengdong dongcun xicun; do wait_until 30 station_synced "$DEMO/$s"; done
wait_until 30 caught_up "$DEMO/longhua"
wait_until 30 caught_up "$DEMO/daming"
ctl "$DEMO/daming" status

say "the towns publish their signed rollups of 2024-Q2 to the county"
ctl "$DEMO/longhua" publish --period 2024-Q2
ctl "$DEMO/daming" publish --period 2024-Q2
county_has_both() {
    ctl "$county" rollup --period 2024-Q2 --format json |
        json 'len(j["stations"]) == 2 and not [p for p in j["problems"] if p["kind"] == "town_not_reported"]'
}
wait_until 30 county_has_both
ctl "$county" status

say "龙华镇's report for 2024-Q2"
ctl "$DEMO/longhua" report --period 2024-Q2 --lang zh

say "the county's report for 2024-Q2, built from the towns' signed rollups"
ctl "$county" report --period 2024-Q2 --lang zh

say "the county audits 大明镇's figures back to the station-signed records"
ctl "$county" audit --town xx-county/daming --period 2024-Q2

say "a station's log, and its verification"
ctl "$DEMO/xinhe" log --from 20
ctl "$DEMO/xinhe" verify

say "龙华镇's web console, with the demo data"
demo_pass=wenming-demo-2024
printf '%s\n' "$demo_pass" | ctl "$DEMO/longhua" user add demo --role admin --password-stdin >/dev/null
"$WMWEB" -c "$DEMO/longhua/wmsync.conf" --assets "$ASSETS" --listen 127.0.0.1:0 >"$DEMO/web.out" \
    2>>"$DEMO/longhua/web.log" &
PIDS+=($!)
web_url() { sed -n 's/^wmweb: serving \(http[^ ]*\).*/\1/p' "$DEMO/web.out" | grep .; }
wait_until 10 web_url
url=$(web_url)
echo "open ${B}${url%/}/#rollup/2024-Q2${N} and log in as ${B}demo${N}, password ${B}$demo_pass${N}"
if [ -t 0 ]; then
    read -r -p "the demo keeps running until you press Enter (or Ctrl-C) " _ || true
fi
