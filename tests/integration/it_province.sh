# SPDX-License-Identifier: MIT
# it_province: the tiers of a province. Every aggregator is a real wmsyncd
# (province, counties, towns); each town's stations are played by sim_town
# (their own keys, CURVE links and signed logs; TRUTH files hold the sums of
# their records counted by hand).
#
#  1. The tree: 1 province <- C counties <- C*T towns <- C*T*S stations
#     (PROVINCE_SHAPE="C T S", default "2 2 25": 100 stations; make
#     test-province runs "4 10 50": 2,000). County 2 plays a build without
#     the feature rollup-bin (WMSYNCD_FEATURES_OFF): its towns publish the
#     JSON form, the others the binary form.
#  2. Every town publishes 2024-05; each county publishes when it holds all
#     its towns' reports; the province's rollup of 2024-05 equals the
#     brute-force sum of every station record (each figure of TRUTH), as
#     does each county's of its own stations.
#  3. The zh report at county and province names stations and teams by
#     their display names: no ASCII letter in its prose (no id, no slug).
#  4. County 1 goes down; its towns publish 2024-06 (the others too), it
#     comes back, receives them, publishes; the province's 2024-06 again
#     equals the stations' sum.
#  5. The province audits county 1's 2024-05 down to the station records:
#     the county's figures against its towns' signed reports, each town's
#     against its stations' signed records (0 differ).
#
# Usage: it_province.sh WMCTL WMSYNCD SIM_TOWN
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

SIM=${3:-}
[ -x "$SIM" ] || { echo "usage: $0 WMCTL WMSYNCD SIM_TOWN" >&2; exit 2; }
read -r NC NT NS <<<"${PROVINCE_SHAPE:-2 2 25}"
EXTRA=${PROVINCE_EXTRA:-3}

COUNTY_NAMES=(青山县 白水县 黄河县 长江县 东湖县 西岭县 南溪县 北原县)
TOWN_NAMES=(龙华镇 大明镇 石桥镇 清溪镇 桃源镇 金山镇 银河镇 凤凰镇 柳林镇 松江镇)
CN=("零" "一" "二" "三" "四" "五" "六" "七" "八" "九" "十")

# next_port: a free port in $PORT, reserved for this test (free_port of
# lib.sh), set in this shell.
next_port() {
    PORT=$(free_port) || { fail "no free port"; finish; }
}

P=$T/prov
PID_=sheng
next_port
"$WMCTL" init --role province --id "$PID_" --name 江南省新时代文明实践中心 --dir "$P" \
    --listen "tcp://127.0.0.1:$PORT" >/dev/null || { fail "init province"; finish; }
declare -A PIDS DIR
start() {
    start_daemon "$1"
    PIDS[$1]=$DPID
    wait_ready "$1" || finish
}
start "$P"
for c in $(seq 1 "$NC"); do
    d=$T/c$c
    cid=$PID_/c$c
    pp=$(sed -n 's/^listen *= *tcp:\/\/127.0.0.1:\([0-9]*\)/\1/p' "$P/wmsync.conf")
    next_port
    "$WMCTL" init --role county --id "$cid" --name "${COUNTY_NAMES[$(((c - 1) % 8))]}新时代文明实践中心" \
        --dir "$d" --listen "tcp://127.0.0.1:$PORT" --upstream "tcp://127.0.0.1:$pp" \
        --upstream-key "$(town_key "$P")" >/dev/null || { fail "init county $c"; finish; }
    sed -i 's/^publish_at_close = yes/publish_at_close = no/' "$d/wmsync.conf"
    enroll "$d" "$P" || finish
    if [ "$c" = 2 ]; then
        WMSYNCD_FEATURES_OFF=rollup-bin start "$d"
    else
        start "$d"
    fi
    cp=$(sed -n 's/^listen *= *tcp:\/\/127.0.0.1:\([0-9]*\)/\1/p' "$d/wmsync.conf")
    for t in $(seq 1 "$NT"); do
        td=$T/c$c-t$t
        next_port
        "$WMCTL" init --role town --id "$cid/t$t" \
            --name "${CN[$c]}区${TOWN_NAMES[$(((t - 1) % 10))]}新时代文明实践所" --dir "$td" \
            --listen "tcp://127.0.0.1:$PORT" --upstream "tcp://127.0.0.1:$cp" \
            --upstream-key "$(town_key "$d")" >/dev/null || { fail "init town $c/$t"; finish; }
        sed -i 's/^publish_at_close = yes/publish_at_close = no/' "$td/wmsync.conf"
        enroll "$td" "$d" || finish
        start "$td"
    done
done
pass "started 1 province, $NC counties, $((NC * NT)) towns"

# ---- the stations ----
first=1
sims=()
for c in $(seq 1 "$NC"); do
    for t in $(seq 1 "$NT"); do
        td=$T/c$c-t$t
        "$SIM" "$td" "$(town_key "$td")" "$NS" "$EXTRA" "$T/sim-c$c-t$t" "$T/truth-c$c-t$t" \
            "$first" >"$T/sim-c$c-t$t.out" 2>&1 &
        sims+=($!)
        first=$((first + NS))
    done
done
bad=0
for p in "${sims[@]}"; do wait "$p" || bad=1; done
check "$((NC * NT * NS)) simulated stations synced to their towns ($(cat "$T"/sim-*.out | grep -vc synced) errors)" \
    [ "$bad" = 0 ]

# publish_when_verified NODE PERIOD: publish succeeds once every child's
# records are verified (the daemon refuses before).
publish_ok() { w "$1" publish --period "$2" >"$T/pub.out" 2>"$T/why"; }
publish_all_towns() {
    local c t
    for c in $(seq 1 "$NC"); do
        for t in $(seq 1 "$NT"); do
            [ -n "${3:-}" ] && [ "$c" != "$3" ] && continue
            poll 120 "$1: town c$c-t$t published $2" publish_ok "$T/c$c-t$t" "$2"
        done
    done
}

# has_reports NODE PERIOD N: NODE's rollup of PERIOD has N rows and no
# child that did not report.
has_reports() {
    w "$1" rollup --period "$2" --format json >"$T/hr.json" 2>"$T/why" || return 1
    python3 - "$T/hr.json" "$3" >"$T/why" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
rows = len(j["stations"])
missing = [p.get("town") for p in j["problems"] if p["kind"] == "town_not_reported"]
print("rows %d (want %s), not reported: %s" % (rows, sys.argv[2], missing))
sys.exit(0 if rows == int(sys.argv[2]) and not missing else 1)
EOF
}

# equals_truth NODE PERIOD TRUTH...: every figure of the stations' sum
# (TRUTH files; a quarter sums its months) equals NODE's rollup.
equals_truth() {
    local node=$1 period=$2
    shift 2
    w "$node" rollup --period "$period" --format json >"$T/eq.json" 2>"$T/why" || return 1
    python3 - "$T/eq.json" "$period" "$@" >"$T/why" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
period = sys.argv[2]
months = {"2024-Q2": ["2024-05", "2024-06"], "2024": ["2024-05", "2024-06"]}.get(period, [period])
want, stations = {}, 0
for f in sys.argv[3:]:
    for line in open(f):
        s = json.loads(line)
        stations += 1
        for m in months:
            for k, v in s["months"].get(m, {}).items():
                want[k] = want.get(k, 0) + v
def get(path):
    v = j["totals"]
    for p in path.split("."):
        v = v.get(p) if isinstance(v, dict) else None
    return v
bad = ["%s: report %s, records %s" % (k, get(k), v) for k, v in sorted(want.items()) if get(k) != v]
covers = len(j["covers"])
if j["scope"] == "county" and covers < stations:  # the station logs
    bad.append("covers %d station logs, want >= %d" % (covers, stations))
if j["scope"] != "county" and covers != len(j["stations"]):  # the counties' report records
    bad.append("covers %d logs, want one per county: %d" % (covers, len(j["stations"])))
print("; ".join(bad) if bad else "%d figures of %d stations equal" % (len(want), stations))
sys.exit(1 if bad else 0)
EOF
}

truth_of_county() { ls "$T"/truth-c"$1"-t*; }

# ---- 2: 2024-05 up every tier ----
publish_all_towns "phase 2" 2024-05
for c in $(seq 1 "$NC"); do
    poll 120 "phase 2: county c$c holds its $NT towns' reports of 2024-05" has_reports "$T/c$c" 2024-05 "$NT"
    check "phase 2: county c$c's 2024-05 == its stations' records ($(equals_truth "$T/c$c" 2024-05 $(truth_of_county "$c"); cat "$T/why"))" \
        equals_truth "$T/c$c" 2024-05 $(truth_of_county "$c")
    poll 120 "phase 2: county c$c published 2024-05" publish_ok "$T/c$c" 2024-05
done
poll 120 "phase 2: the province holds the $NC counties' reports of 2024-05" has_reports "$P" 2024-05 "$NC"
check "phase 2: province 2024-05 == the brute-force sum of every station record ($(equals_truth "$P" 2024-05 "$T"/truth-*; cat "$T/why"))" \
    equals_truth "$P" 2024-05 "$T"/truth-*
check "phase 2: towns under a county with rollup-bin published the binary form" \
    grep -q "published the rollup of 2024-05 as seq [0-9]* (binary)" "$T/c1-t1/daemon.log"
if [ "$NC" -ge 2 ]; then
    check "phase 2: towns under the county of an older build published JSON" \
        grep -q "published the rollup of 2024-05 as seq [0-9]*\$" "$T/c2-t1/daemon.log"
    check "phase 2: ... and no binary part" [ "$(grep -c "(binary)" "$T/c2-t1/daemon.log")" = 0 ]
fi

# ---- 3: names, never ids, in the zh prose ----
# no_ascii_words FILE: the prose holds no ASCII letter (ids, slugs, English).
no_ascii_words() {
    python3 - "$1" >"$T/why" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
hits = re.findall(r"[^\n]{0,20}[A-Za-z][^\n]{0,20}", text)
print("ASCII words in the zh report: %s" % hits[:5])
sys.exit(1 if hits else 0)
EOF
}
for node in "$T/c1" "$P"; do
    expect_rc 0 w "$node" report --period 2024-05 --lang zh --out "$T/zh.txt" --force
    check "phase 3: $(basename "$node") zh report: no ASCII id or slug in its prose ($(no_ascii_words "$T/zh.txt"; cat "$T/why"))" \
        no_ascii_words "$T/zh.txt"
done
expect_rc 0 w "$T/c1" report --period 2024-05 --lang zh --out "$T/zh.txt" --force
expect_in "$T/zh.txt" "村文艺志愿服务队”至今没有开展过一次志愿服务活动" \
    "phase 3: the county's zh report names a team that never served by its name"
expect_in "$T/zh.txt" "村新时代文明实践站的志愿服务队" "phase 3: ... and its station by its name"
expect_in "$T/zh.txt" "（一区龙华镇新时代文明实践所）" "phase 3: ... and the town it came from by its name"
# Above a county only the tiers' own problems are listed; the rest counted.
w "$P" rollup --period 2024-05 --format json >"$T/p.json"
never=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["problem_counts"].get("team_never_served", 0))' "$T/p.json")
check "phase 3: the province counts the $never teams that never served (every fifth: $((NC * NT * NS / 5)))" \
    [ "$never" = $((NC * NT * NS / 5)) ]
expect_rc 0 w "$P" report --period 2024-05 --lang zh --out "$T/zh.txt" --force
expect_in "$T/zh.txt" "志愿服务队从未开展志愿服务${never}个" \
    "phase 3: the province's zh report counts the problems below"
check "phase 3: the province's report stays small: $(wc -c <"$T/p.json") bytes of JSON for $((NC * NT * NS)) stations" \
    [ "$(wc -c <"$T/p.json")" -lt 40000 ]

# ---- 4: a county offline for a while ----
stop_daemon "${PIDS[$T/c1]}" TERM
publish_all_towns "phase 4" 2024-06
w "$T/c1" rollup --period 2024-06 --format json >"$T/c1-down.json"
check "phase 4: county c1 (down) holds no report of 2024-06 yet" \
    [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["stations"]))' "$T/c1-down.json")" = 0 ]
start "$T/c1"
for c in $(seq 1 "$NC"); do
    poll 120 "phase 4: county c$c holds its towns' reports of 2024-06" has_reports "$T/c$c" 2024-06 "$NT"
    poll 120 "phase 4: county c$c published 2024-06" publish_ok "$T/c$c" 2024-06
done
poll 120 "phase 4: the province holds every county's 2024-06" has_reports "$P" 2024-06 "$NC"
check "phase 4: province 2024-06 == the stations' records ($(equals_truth "$P" 2024-06 "$T"/truth-*; cat "$T/why"))" \
    equals_truth "$P" 2024-06 "$T"/truth-*
check "phase 4: province 2024-05 unchanged" equals_truth "$P" 2024-05 "$T"/truth-*

# ---- 5: audit from the province down to the station records ----
poll 60 "phase 5: the province sees county c1 ok" row_is "$P" "$PID_/c1" state ok
expect_rc 0 w "$P" audit --child "$PID_/c1" --period 2024-05
expect_in "$OUT" " 0 differ" "phase 5: audit of county c1's 2024-05 through its towns: 0 differ"
expect_in "$OUT" "station record(s) verified" "phase 5: ... down to the station records"
expect_rc 0 w "$T/c1" audit --town "$PID_/c1/t1" --period 2024-05
expect_in "$OUT" " 0 differ" "phase 5: the county's own audit of a town (--town) still works"

# ---- 6 (make bench only): report latency at every tier ----
# PROVINCE_BENCH=bench_report: the year 2024 is published up every tier,
# then each level's report of 2024 and 2024-05 is timed (figures appended
# to PROVINCE_BENCH_OUT). County c2 plays an older build: its towns'
# reports are JSON, the path before binary rollups.
if [ -n "${PROVINCE_BENCH:-}" ]; then
    publish_all_towns "phase 6" 2024
    for c in $(seq 1 "$NC"); do
        poll 300 "phase 6: county c$c holds its towns' reports of 2024" has_reports "$T/c$c" 2024 "$NT"
        poll 120 "phase 6: county c$c published 2024" publish_ok "$T/c$c" 2024
    done
    poll 300 "phase 6: the province holds every county's 2024" has_reports "$P" 2024 "$NC"
    check "phase 6: province 2024 == the stations' records ($(equals_truth "$P" 2024 "$T"/truth-*; cat "$T/why"))" \
        equals_truth "$P" 2024 "$T"/truth-*
    for node in "$T/c1-t1" "$T/c1" "$T/c2" "$P"; do
        for period in 2024 2024-05; do
            "$PROVINCE_BENCH" "$node" "$period" "${PROVINCE_BENCH_N:-200}" >>"${PROVINCE_BENCH_OUT:-/dev/stdout}" ||
                fail "bench_report $node $period"
        done
    done
fi

finish
