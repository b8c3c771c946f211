# SPDX-License-Identifier: MIT
# it_bigtown: a town of 1,000 stations (BIGTOWN_STATIONS) publishes its month.
# Its rollup with a row per station is several hundred KiB, far above the
# 64 KiB a record may hold: in the binary form it travels in parts, and the
# county's figures equal the stations' records, row by row (the audit
# compares every station row of the town's signed report with a recount).
#
#  1. A county and a town (real daemons); sim_town plays the 1,000 stations.
#  2. The town publishes 2024-05: several RollupPart records.
#  3. The county's rollup of 2024-05 equals the brute-force sum of the
#     station records; its zh report has no ASCII id in its prose.
#  4. The county audits the town's 2024-05: every station row confirmed.
#
# Usage: it_bigtown.sh WMCTL WMSYNCD SIM_TOWN
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

SIM=${3:-}
[ -x "$SIM" ] || { echo "usage: $0 WMCTL WMSYNCD SIM_TOWN" >&2; exit 2; }
N=${BIGTOWN_STATIONS:-1000}
# One socket per station here and in the town, two file descriptors each.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt $((4 * N + 256)) ]; then
    echo "it_bigtown: SKIP: needs $((4 * N + 256)) open files, the limit is $(ulimit -n)"
    exit 77
fi

PC=$(free_port) || { fail "no free port"; finish; }
while :; do PT=$(free_port) || { fail "no free port"; finish; }; [ "$PT" != "$PC" ] && break; done
C=$T/county
TW=$T/town
"$WMCTL" init --role county --id xx --name 青山县新时代文明实践中心 --dir "$C" \
    --listen "tcp://127.0.0.1:$PC" >/dev/null || { fail "init county"; finish; }
"$WMCTL" init --role town --id xx/big --name 大明镇新时代文明实践所 --dir "$TW" \
    --listen "tcp://127.0.0.1:$PT" --upstream "tcp://127.0.0.1:$PC" \
    --upstream-key "$(town_key "$C")" >/dev/null || { fail "init town"; finish; }
sed -i 's/^publish_at_close = yes/publish_at_close = no/' "$TW/wmsync.conf"
start_daemon "$C"
wait_ready "$C" || finish
enroll "$TW" "$C" || finish
start_daemon "$TW"
wait_ready "$TW" || finish

# ---- 1: 1,000 stations ----
t0=$(now_ms)
if "$SIM" "$TW" "$(town_key "$TW")" "$N" 0 "$T/sim" "$T/truth" >"$T/sim.out" 2>&1; then
    pass "$N simulated stations synced to the town ($(($(now_ms) - t0)) ms)"
else
    fail "sim_town: $(tail -3 "$T/sim.out")"
    finish
fi

# ---- 2: the town publishes ----
publish_ok() { w "$TW" publish --period 2024-05 >"$T/pub.out" 2>"$T/why"; }
poll 120 "phase 2: the town published 2024-05 once every station was verified" publish_ok
seq=$(sed -n 's/.* as seq \([0-9]*\) .*/\1/p' "$T/pub.out")
check "phase 2: ... in the binary form, in several parts (last part seq $seq)" \
    grep -q "published the rollup of 2024-05 as seq $seq (binary)" "$TW/daemon.log"
check "phase 2: ... $seq records: more than one part" [ "${seq:-0}" -gt 1 ]

# ---- 3: the county's figures ----
has_report() {
    w "$C" rollup --period 2024-05 --format json >"$T/c.json" 2>"$T/why" &&
        python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if len(j["stations"])==1 and len(j["covers"])>=int(sys.argv[2]) else 1)' \
            "$T/c.json" "$N" 2>>"$T/why"
}
poll 120 "phase 3: the county holds the town's report, covering $N stations" has_report
"$TRUTH_EQUAL" "$T/c.json" "$T/truth" 2024-05 1 >"$T/why"
check "phase 3: the county's 2024-05 == the 1,000 stations' records ($(cat "$T/why"))" [ $? = 0 ]
expect_rc 0 w "$C" report --period 2024-05 --lang zh --out "$T/zh.txt"
check "phase 3: the county's zh report has no ASCII id in its prose" \
    python3 -c 'import re,sys; sys.exit(1 if re.search("[A-Za-z]", open(sys.argv[1], encoding="utf-8").read()) else 0)' "$T/zh.txt"

# ---- 4: the audit compares every station row ----
poll 30 "phase 4: the county sees the town ok" row_is "$C" xx/big state ok
expect_rc 0 w "$C" audit --child xx/big --period 2024-05
expect_in "$OUT" " 0 differ" "phase 4: audit of the 1,000-station town: 0 differ"
check "phase 4: ... over every station row ($(tail -1 "$OUT"))" \
    python3 -c 'import re,sys; m=re.search(r"(\d+) figure\(s\) confirmed", open(sys.argv[1]).read()); sys.exit(0 if m and int(m.group(1)) > 40 * int(sys.argv[2]) else 1)' "$OUT" "$N"

finish
