#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: a town institute and three village stations on loopback, in a
# temporary directory. Stations record activities of the seed speech (in
# Chinese), replicate them to the town over CURVE, keep recording while the
# town is down, and catch up when it returns. Everything is real: daemons,
# LMDB, ZeroMQ, signatures.
set -euo pipefail
BUILD=${1:-build}
WMCTL=$(realpath "$BUILD/cli/wmctl")
WMSYNCD=$(realpath "$BUILD/daemon/wmsyncd")
DEMO=$(mktemp -d /tmp/wmsync-demo.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$DEMO"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
port=$(( 20000 + RANDOM % 20000 ))
town="$DEMO/town"
ctl() { "$WMCTL" -c "$1/wmsync.conf" "${@:2}"; }

# wait_until SECONDS CMD...: polls CMD until it succeeds or the deadline passes.
wait_until() {
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out waiting for: $*" >&2; return 1; }
        sleep 0.1
    done
}
station_synced() {
    ctl "$1" status --json | python3 -c 'import json, sys; j = json.load(sys.stdin); sys.exit(0 if j["connected"] and j["pending"] == 0 else 1)'
}
all_synced() {
    for d in "$DEMO"/xinhe "$DEMO"/shiqiao "$DEMO"/chengdong; do station_synced "$d" || return 1; done
    town_caught_up
}
daemon_up() { ctl "$1" status --json | grep -q '"daemon_running":true'; }
town_caught_up() {
    ctl "$town" status --json | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["caught_up"] else 1)'
}
start() {
    "$WMSYNCD" -c "$1/wmsync.conf" 2>>"$1/daemon.log" &
    PIDS+=($!)
    eval "PID_$(basename "$1")=$!"
    wait_until 10 daemon_up "$1"
}

say "a town institute and three stations, in $DEMO"
"$WMCTL" init --role town --id xx-county/longhua --name 龙华镇新时代文明实践所 \
    --dir "$town" --listen "tcp://127.0.0.1:$port" >/dev/null
start "$town"
names=(新河村新时代文明实践站 石桥村新时代文明实践站 城东社区新时代文明实践站)
ids=(xinhe shiqiao chengdong)
for i in 0 1 2; do
    d="$DEMO/${ids[$i]}"
    "$WMCTL" init --role station --id "xx-county/longhua/${ids[$i]}" --name "${names[$i]}" \
        --dir "$d" --upstream "tcp://127.0.0.1:$port" --upstream-key "$(cat "$town/keys/curve.pub")" >/dev/null
    ctl "$d" keys | ctl "$town" enroll -
    start "$d"
done

say "stations record the seed's activities"
x="$DEMO/xinhe"; s="$DEMO/shiqiao"; c="$DEMO/chengdong"
ctl "$x" record team --team youth --name 青年志愿服务分队 --kind branch --trade 教育
ctl "$x" record activity --date 2024-03-05 --category theme_lecture --title "主题宣讲：学习贯彻党的二十大精神" --place 村委会议室 --participants 46
ctl "$x" record activity --date 2024-03-08 --category culture_sports --title "庆祝“三八”妇女节健身活动" --participants 80 --festival 三八
ctl "$x" record activity --date 2024-03-12 --category volunteer_service --service-kind environmental --team youth --title 环保宣传志愿服务 --volunteers 12 --hours 3
ctl "$s" record publicity --date 2024-03-06 --channel wechat --count 12
ctl "$s" record activity --date 2024-03-10 --category theory_education --title 理论教育：新时代文明实践 --participants 35
ctl "$c" record volunteers --date 2024-03-15 --registered 120 --verified 95
ctl "$c" record activity --date 2024-03-16 --category volunteer_service --service-kind traffic --title 交通引导 --volunteers 8 --hours 2.5
wait_until 20 all_synced
ctl "$town" status

say "the town goes down; the stations keep recording"
kill "$PID_town"; wait "$PID_town" 2>/dev/null || true
ctl "$x" record activity --date 2024-03-20 --category party_training --title 党员培训：基层党建 --participants 30
ctl "$s" record recruitment --date 2024-03-21 --count 6
ctl "$c" record publicity --date 2024-03-22 --channel poster --count 40
ctl "$c" record activity --date 2024-03-23 --category civilization_practice --title 移风易俗文明实践 --participants 52
ctl "$x" status

say "the town comes back; the stations catch up"
start "$town"
wait_until 30 all_synced
ctl "$town" status
ctl "$x" status

say "a station's log, and its verification"
ctl "$x" log
ctl "$x" verify
