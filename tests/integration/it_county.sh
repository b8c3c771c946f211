# SPDX-License-Identifier: MIT
# it_county: three tiers over TCP loopback — a county above two towns, each
# with stations — and what the county does with the towns' signed rollups.
#
#  1. Stations record activities of several categories, publicity and
#     volunteers in 2024-05; the towns hold every station's head; both towns
#     publish 2024-05 and the county receives both report records.
#  2. The county's rollup of 2024-05 is the sum of the two towns' rollups
#     (activities by category, publicity, volunteers), and matches the
#     figures recorded at the stations.
#  3. The county goes down (SIGTERM). Stations keep recording and syncing to
#     their towns; both towns publish 2024-Q2. The county comes back, the Q2
#     reports arrive, and its rollup of 2024-Q2 is again the towns' sum. A
#     period no town published shows town_not_reported for each town.
#  4. audit --town T1 --period 2024-05 confirms every figure (0 differ,
#     the needs and orders of May at t1 too: a need, an order, a closed loop),
#     with the keys the town holds and with the stations' own keys pinned.
#  5. T1 turns dishonest: stopped, forge_report appends a validly signed
#     rollup of 2024-05 with 5 more theme lectures, restarted. The county
#     takes the new report (it is a valid record of T1's log) and its rollup
#     shows the altered figure — but the audit recounts the station records
#     and fails: exit 1, "DIFFERS ... theme_lecture".
#  5a. T1 forges 2024-05 again with honest figures but a wrong head hash
#     for its first covered station: the audit says FAILED and exits 1.
#  5b. Station e begins a new epoch; t2 publishes Q2 again; the audit
#     fetches and recounts both of e's epochs (0 differ).
#  6. The county lists both towns as ok once caught up; verify passes at
#     every station.
#
# Usage: it_county.sh WMCTL WMSYNCD FORGE_REPORT
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

FORGE=${3:-}
if [ -z "$FORGE" ] || [ ! -x "$FORGE" ]; then
    echo "usage: $0 WMCTL WMSYNCD FORGE_REPORT" >&2
    exit 2
fi

# ---- helpers of this test (the shared ones stay as they are) ----

# distinct free ports
PC=$(free_port) || { fail "no free port"; finish; }
while :; do PT1=$(free_port) || { fail "no free port"; finish; }; [ "$PT1" != "$PC" ] && break; done
while :; do
    PT2=$(free_port) || { fail "no free port"; finish; }
    [ "$PT2" != "$PC" ] && [ "$PT2" != "$PT1" ] && break
done

# row_ge NODE ID KEY MIN: NODE's status row for child ID has KEY >= MIN.
row_ge() {
    local v
    v=$(town_row "$1" "$2" "$3")
    echo "row $2 $3 at $1 = $v (want >= $4)" >"$T/why"
    [[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge "$4" ]
}

# rollup_json NODE PERIOD: the rollup as JSON into stdout.
rollup_json() { w "$1" rollup --period "$2" --format json 2>>"$T/rollup.err"; }

# The figures compared between tiers, as one flat JSON object per report.
FIG_PY='
import json, sys
def flat(j):
    t = j.get("totals", {})
    out = {}
    for sec in ("activities", "publicity", "volunteers", "orders"):
        for k, v in (t.get(sec) or {}).items():
            if isinstance(v, int):  # ratios (orders.rating_avg) are derived, not summed
                out[sec + "." + k] = v
    for k, v in ((t.get("volunteer_services") or {}).get("by_kind") or {}).items():
        out["volunteer_services.by_kind." + k] = v
    for k in ("participants", "festival_events"):
        if isinstance(t.get(k), (int, float)):
            out[k] = t[k]
    return out
cmd = sys.argv[1]
if cmd == "sum":             # sum COUNTY TOWN...: county figures == sum of the towns
    county = flat(json.load(open(sys.argv[2])))
    towns = [flat(json.load(open(f))) for f in sys.argv[3:]]
    keys = set(county) | set(k for t in towns for k in t)
    bad = []
    for k in sorted(keys):
        s = sum(t.get(k, 0) for t in towns)
        if county.get(k, 0) != s:
            bad.append("%s: county %s, towns %s" % (k, county.get(k), s))
    nonzero = sum(1 for k in keys if county.get(k, 0))
    if nonzero < 5:
        bad.append("only %d nonzero figures (%s)" % (nonzero, county))
    print("; ".join(bad) if bad else "equal (%d figures, %d nonzero)" % (len(keys), nonzero))
    sys.exit(1 if bad else 0)
elif cmd == "get":           # get FILE PATH.TO.VALUE
    v = json.load(open(sys.argv[2]))
    for p in sys.argv[3].split("."):
        v = v.get(p) if isinstance(v, dict) else None
    print(json.dumps(v) if not isinstance(v, str) else v)
elif cmd == "problems":      # problems FILE KIND: the towns/stations with that problem
    j = json.load(open(sys.argv[2]))
    print(" ".join(sorted(p.get("town") or p.get("station") or "?"
                          for p in j.get("problems", []) if p.get("kind") == sys.argv[3])))
elif cmd == "rows":          # rows FILE: ids of the "stations" rows
    j = json.load(open(sys.argv[2]))
    print(" ".join(sorted(r.get("id", "?") for r in j.get("stations", []))))
elif cmd == "states":        # states STATUSJSON: "id:state" of each child
    j = json.loads(sys.argv[2]) if sys.argv[2].strip() else {}
    print(" ".join("%s:%s" % (r.get("id"), r.get("state")) for r in j.get("stations", [])))
'
fig() { python3 -c "$FIG_PY" "$@"; }

# sums_match PERIOD TAG: the county's rollup equals the sum of the towns'.
sums_match() {
    rollup_json "$C" "$1" >"$T/c-$2.json" &&
        rollup_json "$T1" "$1" >"$T/t1-$2.json" &&
        rollup_json "$T2" "$1" >"$T/t2-$2.json" &&
        fig sum "$T/c-$2.json" "$T/t1-$2.json" "$T/t2-$2.json" >"$T/why"
}

# act NODE DATE CATEGORY [ARGS...]: one activity.
NREC=0
act() {
    local d=$1 date=$2 cat=$3
    shift 3
    NREC=$((NREC + 1))
    w "$d" record activity --date "$date" --category "$cat" --title "活动$NREC" "$@" \
        >"$OUT" 2>"$ERR" || { fail "record $cat at $d: $(cat "$ERR")"; return 1; }
}
pub() {
    w "$1" record publicity --date "$2" --channel "$3" --count "$4" >"$OUT" 2>"$ERR" ||
        { fail "record publicity at $1: $(cat "$ERR")"; return 1; }
}
vol() {
    w "$1" record volunteers --date "$2" --registered "$3" --verified "$4" >"$OUT" 2>"$ERR" ||
        { fail "record volunteers at $1: $(cat "$ERR")"; return 1; }
}

# publish NODE PERIOD: the town publishes; prints nothing, checks exit 0.
publish() {
    if w "$1" publish --period "$2" >"$OUT" 2>"$ERR"; then
        pass "$(node_id "$1") published $2: $(cat "$OUT")"
    else
        fail "publish $2 at $1: $(cat "$ERR")"
    fi
}

# ---- the tree ----
C=$T/county
T1=$T/t1
T2=$T/t2
CID=xx
T1ID=xx/lh
T2ID=xx/dm
"$WMCTL" init --role county --id "$CID" --name 县中心 --dir "$C" \
    --listen "tcp://127.0.0.1:$PC" >/dev/null || { fail "init county"; finish; }
CKEY=$(town_key "$C")
"$WMCTL" init --role town --id "$T1ID" --name 龙华镇 --dir "$T1" --listen "tcp://127.0.0.1:$PT1" \
    --upstream "tcp://127.0.0.1:$PC" --upstream-key "$CKEY" >/dev/null || { fail "init t1"; finish; }
"$WMCTL" init --role town --id "$T2ID" --name 大明镇 --dir "$T2" --listen "tcp://127.0.0.1:$PT2" \
    --upstream "tcp://127.0.0.1:$PC" --upstream-key "$CKEY" >/dev/null || { fail "init t2"; finish; }
# This test publishes by hand and counts the towns' report records; the
# automatic publication at a month's close has its own test (it_autopublish).
sed -i 's/^publish_at_close = yes/publish_at_close = no/' "$T1/wmsync.conf" "$T2/wmsync.conf"
S1=(a b c)
S2=(d e)
for s in "${S1[@]}"; do init_station "$T/$s" "$T1ID/$s" "$PT1" "$(town_key "$T1")" || finish; done
for s in "${S2[@]}"; do init_station "$T/$s" "$T2ID/$s" "$PT2" "$(town_key "$T2")" || finish; done
pass "initialised a county, 2 towns, 5 stations"

declare -A PID
start_daemon "$C"
PID[county]=$DPID
wait_ready "$C" || finish
# Enrol before a child starts: its first connection is then admitted.
enroll "$T1" "$C" || finish
enroll "$T2" "$C" || finish
for t in t1 t2; do
    start_daemon "$T/$t"
    PID[$t]=$DPID
    wait_ready "$T/$t" || finish
done
for s in "${S1[@]}"; do enroll "$T/$s" "$T1" || finish; done
for s in "${S2[@]}"; do enroll "$T/$s" "$T2" || finish; done
for s in "${S1[@]}" "${S2[@]}"; do
    start_daemon "$T/$s"
    PID[$s]=$DPID
    wait_ready "$T/$s" || finish
done
pass "enrolled and started every node"

# ---- 1: records of 2024-05 ----
# Per station: 2 theme lectures, 1 theory education, 1 culture/sports,
# 1 volunteer service (legal), publicity, volunteers; a and d also a
# party training and a civilization practice; b a second service (science).
bad=0
for s in "${S1[@]}" "${S2[@]}"; do
    d=$T/$s
    act "$d" 2024-05-06 theme_lecture --participants 40 || bad=1
    act "$d" 2024-05-13 theme_lecture --participants 25 || bad=1
    act "$d" 2024-05-08 theory_education --participants 30 || bad=1
    act "$d" 2024-05-18 culture_sports --participants 60 || bad=1
    act "$d" 2024-05-20 volunteer_service --service-kind legal --participants 15 \
        --volunteers 6 --hours 12.5 || bad=1
    pub "$d" 2024-05-10 wechat 3 || bad=1
    pub "$d" 2024-05-11 poster 4 || bad=1
    vol "$d" 2024-05-15 20 12 || bad=1
done
act "$T/a" 2024-05-21 party_training --participants 18 || bad=1
act "$T/d" 2024-05-22 party_training --participants 22 || bad=1
act "$T/a" 2024-05-23 civilization_practice --participants 35 || bad=1
act "$T/d" 2024-05-24 civilization_practice --participants 12 || bad=1
act "$T/b" 2024-05-25 volunteer_service --service-kind science --participants 50 \
    --volunteers 8 --hours 16 || bad=1
pub "$T/e" 2024-05-26 leaflet 500 || bad=1
[ "$bad" = 0 ] && pass "phase 1: recorded 2024-05 at 5 stations"
poll 30 "phase 1: t1 holds the heads of a, b, c" synced "$T1" "$T/a" "$T/b" "$T/c"
poll 30 "phase 1: t2 holds the heads of d, e" synced "$T2" "$T/d" "$T/e"

# Needs and orders in May at t1: a's need, reviewed; an order to b that
# answers it, taken, done with b's science service, rated 5 by a.
jid() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT"; }
expect_rc 0 w "$T/a" need add --date 2024-05-12 --title 需要上门理发 --service-kind assistance --json
NEED=$(jid)
poll 30 "phase 1: t1 holds a's need" synced "$T1" "$T/a"
expect_rc 0 w "$T1" need review "$NEED" --accept --date 2024-05-13
expect_rc 0 w "$T1" order create --title 上门理发 --service-kind assistance --due 2024-05-31 \
    --to "$T1ID/b" --need "$NEED" --date 2024-05-13 --json
ORD=$(jid)
expect_rc 0 w "$T/b" order accept "$ORD" --date 2024-05-14
expect_rc 0 w "$T/b" order done "$ORD" --seq "$(head_seq "$T/b")" --date 2024-05-25
expect_rc 0 w "$T/a" order rate "$ORD" --score 5 --date 2024-05-27
rated() { w "$T1" order list --json 2>/dev/null | grep -q '"state": *"rated"'; }
poll 30 "phase 1: t1's order is rated (its word written on b's steps)" rated
publish "$T1" 2024-05
publish "$T2" 2024-05
poll 30 "phase 1: the county holds t1's report record" row_ge "$C" "$T1ID" seq 1
poll 30 "phase 1: the county holds t2's report record" row_ge "$C" "$T2ID" seq 1

# ---- 2: the county's sums ----
check "phase 2: county rollup of 2024-05 == t1 + t2 ($(sums_match 2024-05 may; cat "$T/why"))" \
    sums_match 2024-05 may
M=$T/c-may.json
check "phase 2: county theme_lecture = 10" [ "$(fig get "$M" totals.activities.theme_lecture)" = 10 ]
check "phase 2: county theory_education = 5" [ "$(fig get "$M" totals.activities.theory_education)" = 5 ]
check "phase 2: county party_training = 2" [ "$(fig get "$M" totals.activities.party_training)" = 2 ]
check "phase 2: county civilization_practice = 2" \
    [ "$(fig get "$M" totals.activities.civilization_practice)" = 2 ]
check "phase 2: county volunteer_service = 6" \
    [ "$(fig get "$M" totals.activities.volunteer_service)" = 6 ]
check "phase 2: county activities total = 30" [ "$(fig get "$M" totals.activities.total)" = 30 ]
check "phase 2: county publicity wechat = 15" [ "$(fig get "$M" totals.publicity.wechat)" = 15 ]
check "phase 2: county publicity poster = 20" [ "$(fig get "$M" totals.publicity.poster)" = 20 ]
check "phase 2: county publicity leaflet = 500" [ "$(fig get "$M" totals.publicity.leaflet)" = 500 ]
check "phase 2: county volunteers registered = 100" \
    [ "$(fig get "$M" totals.volunteers.registered)" = 100 ]
check "phase 2: county volunteers verified = 60" [ "$(fig get "$M" totals.volunteers.verified)" = 60 ]
check "phase 2: county rows are the two towns" [ "$(fig rows "$M")" = "$T2ID $T1ID" ]
check "phase 2: no town_not_reported for 2024-05" [ -z "$(fig problems "$M" town_not_reported)" ]
check "phase 2: the county's closed loops of May = 1" [ "$(fig get "$M" totals.orders.loops_closed)" = 1 ]
check "phase 2: the county's needs received in May = 1" \
    [ "$(fig get "$M" totals.orders.needs_received)" = 1 ]
check "phase 2: the county's satisfaction rate, derived = 1.0" \
    [ "$(fig get "$M" totals.orders.satisfaction_rate)" = 1.0 ]

# ---- 3: the county down ----
stop_daemon "${PID[county]}" TERM
bad=0
for s in "${S1[@]}" "${S2[@]}"; do
    act "$T/$s" 2024-06-03 theme_lecture --participants 20 || bad=1
    act "$T/$s" 2024-06-05 culture_sports --participants 45 || bad=1
    pub "$T/$s" 2024-06-06 website 2 || bad=1
done
act "$T/c" 2024-04-12 theory_education --participants 28 || bad=1
vol "$T/e" 2024-06-07 9 4 || bad=1
[ "$bad" = 0 ] && pass "phase 3: recorded 2024-04/06 with the county down"
poll 30 "phase 3: t1 holds a, b, c with the county down" synced "$T1" "$T/a" "$T/b" "$T/c"
poll 30 "phase 3: t2 holds d, e with the county down" synced "$T2" "$T/d" "$T/e"
publish "$T1" 2024-Q2
publish "$T2" 2024-Q2
rollup_json "$C" 2024-Q2 >"$T/c-q2-down.json"
check "phase 3: the county (daemon down) has no Q2 report yet: town_not_reported for both" \
    [ "$(fig problems "$T/c-q2-down.json" town_not_reported)" = "$T2ID $T1ID" ]
start_daemon "$C"
PID[county]=$DPID
wait_ready "$C" || finish
poll 60 "phase 3: t1's Q2 report reaches the restarted county" row_ge "$C" "$T1ID" seq 2
poll 60 "phase 3: t2's Q2 report reaches the restarted county" row_ge "$C" "$T2ID" seq 2
check "phase 3: county rollup of 2024-Q2 == t1 + t2 ($(sums_match 2024-Q2 q2; cat "$T/why"))" \
    sums_match 2024-Q2 q2
Q=$T/c-q2.json
check "phase 3: Q2 theme_lecture = 15" [ "$(fig get "$Q" totals.activities.theme_lecture)" = 15 ]
check "phase 3: Q2 theory_education = 6" [ "$(fig get "$Q" totals.activities.theory_education)" = 6 ]
check "phase 3: Q2 publicity website = 10" [ "$(fig get "$Q" totals.publicity.website)" = 10 ]
check "phase 3: Q2 volunteers registered = 109" [ "$(fig get "$Q" totals.volunteers.registered)" = 109 ]
check "phase 3: no town_not_reported for 2024-Q2" [ -z "$(fig problems "$Q" town_not_reported)" ]
rollup_json "$C" 2024-04 >"$T/c-apr.json"
check "phase 3: 2024-04 (never published): town_not_reported for each town" \
    [ "$(fig problems "$T/c-apr.json" town_not_reported)" = "$T2ID $T1ID" ]
check "phase 3: 2024-04: no town rows" [ -z "$(fig rows "$T/c-apr.json")" ]
rollup_json "$C" 2024-05 >"$T/c-may2.json"
check "phase 3: the county's 2024-05 is unchanged by the Q2 reports" \
    [ "$(fig get "$T/c-may2.json" totals.activities.total)" = 30 ]

# ---- 4: audit of an honest town ----
# The audit fetches over the county → t1 link: wait until t1 is connected.
poll 30 "phase 4: the county sees t1 ok" row_is "$C" "$T1ID" state ok
expect_rc 0 w "$C" audit --town "$T1ID" --period 2024-05
expect_in "$OUT" " 0 differ" "phase 4: audit of t1 2024-05: 0 differ"
check "phase 4: audit output has no DIFFERS" [ "$(grep -c DIFFERS "$OUT")" = 0 ]
for s in "${S1[@]}"; do w "$T/$s" keys; done >"$T/keys1"
expect_rc 0 w "$C" audit --town "$T1ID" --period 2024-05 --keys "$T/keys1"
expect_in "$OUT" " 0 differ" "phase 4: audit with pinned station keys: 0 differ"
check "phase 4: pinned audit without NOTE" [ "$(grep -c NOTE "$OUT")" = 0 ]
expect_rc 0 w "$C" audit --town "$T2ID" --period 2024-Q2
expect_in "$OUT" " 0 differ" "phase 4: audit of t2 2024-Q2: 0 differ"

# ---- 5: a forged report ----
# forge_t1 PHASE SAYS FORGE_ARGS...: stops t1, forges a report with
# forge_report FORGE_ARGS (its output must contain SAYS), restarts t1 and
# waits until the county holds the forged record.
forge_t1() {
    local phase=$1 says=$2 before
    shift 2
    before=$(town_row "$C" "$T1ID" seq)
    stop_daemon "${PID[t1]}" TERM
    expect_rc 0 "$FORGE" "$T1" "$@"
    expect_in "$OUT" "$says" "$phase: forged t1's $1: $says"
    start_daemon "$T1"
    PID[t1]=$DPID
    wait_ready "$T1" || finish
    poll 60 "$phase: the county holds t1's forged report (seq $((before + 1)))" \
        row_ge "$C" "$T1ID" seq $((before + 1))
}
forge_t1 "phase 5" "theme_lecture 6 -> 11" 2024-05
rollup_json "$C" 2024-05 >"$T/c-forged.json"
check "phase 5: county theme_lecture of 2024-05 now 15 (the forged +5)" \
    [ "$(fig get "$T/c-forged.json" totals.activities.theme_lecture)" = 15 ]
check "phase 5: county activities total of 2024-05 now 35" \
    [ "$(fig get "$T/c-forged.json" totals.activities.total)" = 35 ]
poll 30 "phase 5: the county sees t1 ok again" row_is "$C" "$T1ID" state ok
expect_rc 1 w "$C" audit --town "$T1ID" --period 2024-05
expect_in "$OUT" "DIFFERS" "phase 5: audit of the forged report says DIFFERS"
expect_in "$OUT" "theme_lecture" "phase 5: ... and names theme_lecture"
check "phase 5: ... not the honest figures (theory_education is confirmed)" \
    [ "$(grep DIFFERS "$OUT" | grep -c theory_education)" = 0 ]
expect_rc 1 w "$C" audit --town "$T1ID" --period 2024-05 --keys "$T/keys1"
expect_in "$OUT" "theme_lecture" "phase 5: pinned audit also names theme_lecture"
expect_rc 0 w "$C" audit --town "$T1ID" --period 2024-Q2
expect_in "$OUT" " 0 differ" "phase 5: t1's honest Q2 report still audits clean"

# ---- 5a: a report whose first station's head is not what the town sends ----
# T1 forges 2024-05 once more: the figures back to the honest ones (-5), but
# the first covered station's head hash is zeros. The audit must print FAILED
# for that station and exit 1, though every later station fetches fine.
forge_t1 "phase 5a" "theme_lecture 11 -> 6" 2024-05 -5 bad-first-hash
poll 30 "phase 5a: the county sees t1 ok again" row_is "$C" "$T1ID" state ok
expect_rc 1 w "$C" audit --town "$T1ID" --period 2024-05
expect_in "$OUT" "FAILED" "phase 5a: the audit says FAILED for the first station"
check "phase 5a: ... only for one station" [ "$(grep -c FAILED "$OUT")" = 1 ]

# ---- 5b: an audit across a station's epochs ----
# e begins a new epoch (restarted with --new-epoch, same key): its records
# at t2 now span epochs 1 and 2, and the audit must fetch both.
stop_daemon "${PID[e]}" TERM
start_daemon "$T/e" --new-epoch
PID[e]=$DPID
wait_ready "$T/e" || finish
act "$T/e" 2024-06-10 theme_lecture --participants 33 || finish
check "phase 5b: e writes in epoch 2" field_is "$T/e" epoch 2
poll 30 "phase 5b: t2 holds e's epoch 2" synced "$T2" "$T/e"
t2_before=$(town_row "$C" "$T2ID" seq)
publish "$T2" 2024-Q2
poll 30 "phase 5b: the county holds t2's new Q2 report" row_ge "$C" "$T2ID" seq $((t2_before + 1))
rollup_json "$C" 2024-Q2 >"$T/c-q2b.json"
check "phase 5b: Q2 theme_lecture = 16" [ "$(fig get "$T/c-q2b.json" totals.activities.theme_lecture)" = 16 ]
for s in "${S2[@]}"; do w "$T/$s" keys; done >"$T/keys2"
expect_rc 0 w "$C" audit --town "$T2ID" --period 2024-Q2
expect_in "$OUT" " 0 differ" "phase 5b: audit of t2 2024-Q2 across e's two epochs: 0 differ"
expect_rc 0 w "$C" audit --town "$T2ID" --period 2024-Q2 --keys "$T/keys2"
expect_in "$OUT" " 0 differ" "phase 5b: ... and with pinned keys: 0 differ"

# ---- 6: status and verify ----
both_ok() {
    local s
    s=$(fig states "$(st "$C")")
    echo "county children: $s" >"$T/why"
    [[ " $s " == *" $T1ID:ok "* ]] && [[ " $s " == *" $T2ID:ok "* ]]
}
poll 30 "phase 6: county status lists both towns ok" both_ok
poll 30 "phase 6: the county says it is caught up" field_is "$C" caught_up true
expect_rc 0 w "$C" status
expect_in "$OUT" "$T1ID" "phase 6: county status (text) names t1"
expect_in "$OUT" "$T2ID" "phase 6: county status (text) names t2"
for s in "${S1[@]}" "${S2[@]}"; do
    expect_rc 0 w "$T/$s" verify
done
expect_rc 0 w "$T1" verify
expect_rc 0 w "$T2" verify

finish
