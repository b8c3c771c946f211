# SPDX-License-Identifier: MIT
# it_rollup_kill9: kill -9 during ingest never leaves the town's rollup
# counters and its copy of the logs out of step.
#
# A town and stations a and b. One writer loop per station records, for the
# whole test, activities of every known category (volunteer services with a
# service kind) with random dates in 2024 and random participants, and now
# and then voids one of its earlier activities. The town is killed with -9
# at random moments ROLLUP_ROUNDS times (default 10-20, at random) and
# restarted.
#
# After each kill, with the town down, its rollup (read from its LMDB by
# wmctl) names in "covers" the head it holds for each station; its totals
# per station must equal a recount of exactly that prefix of the station's
# own log (wmctl log --json): non-voided activities by category and in all,
# volunteer services by kind, participants. A counter that moved without
# its records, or records stored without their counters, shows here.
#
# At the end, with the writers stopped and everything converged, the same
# recount over each station's whole log must match the town's totals
# exactly, and the town's all-stations totals must be their sum.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

ROUNDS=${ROLLUP_ROUNDS:-$((10 + RANDOM % 11))}
PERIOD=2000-01-01..2100-12-31
run_town_ab || finish
for s in a b; do : >"$T/acc.$s"; done

CATS=(theme_lecture theory_education party_training civilization_practice culture_sports
    volunteer_service)
KINDS=(environmental science legal campus_safety traffic assistance other)

# writer NAME: records at station NAME until $T/stop exists: mostly
# activities, sometimes a void of an activity it recorded before (a second
# void of the same one is refused by the station, harmlessly).
writer() {
    local s=$1 i=0 out cat args seqs
    while [ -d "$T" ] && [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        if [ $((RANDOM % 8)) = 0 ] && [ -s "$T/acc.$s" ]; then
            mapfile -t seqs <"$T/acc.$s"
            timeout -s KILL 5 "$WMCTL" -c "$T/$s/wmsync.conf" record void \
                --seq "${seqs[RANDOM % ${#seqs[@]}]}" --reason "录入错误" >/dev/null 2>&1
            continue
        fi
        cat=${CATS[RANDOM % 6]}
        args=(--date "$(printf '2024-%02d-%02d' $((1 + RANDOM % 12)) $((1 + RANDOM % 28)))"
            --category "$cat" --title "rk9-$s-$i" --participants $((RANDOM % 300)))
        [ "$cat" = volunteer_service ] && args+=(--service-kind "${KINDS[RANDOM % 7]}")
        if out=$(timeout -s KILL 5 "$WMCTL" -c "$T/$s/wmsync.conf" record activity "${args[@]}" \
            2>/dev/null); then
            # "recorded activity as seq N (epoch E)"
            out=${out#recorded activity as seq }
            echo "${out%% *}" >>"$T/acc.$s"
        fi
    done
}
start_writers writer a b

# The recount: python3 (stdlib only) over the town's rollup JSON and the
# stations' logs. MODE "prefix" recounts each log up to the seq the rollup
# covers; "whole" also requires that seq to be the log's head. Prints the
# problems, or a summary; exits 1 on any mismatch.
RECOUNT_PY='
import json, sys
mode, rollup_path = sys.argv[1], sys.argv[2]
roll = json.load(open(rollup_path, encoding="utf-8"))
CATS = ["theme_lecture", "theory_education", "party_training", "civilization_practice",
        "culture_sports", "volunteer_service"]
KINDS = ["environmental", "science", "legal", "campus_safety", "traffic", "assistance", "other"]
covers = {c["station"]: c["seq"] for c in roll.get("covers", [])}
rows = {r["id"]: r.get("totals", {}) for r in roll.get("stations", [])}

def recount(recs, upto):
    recs = [r for r in recs if r["seq"] <= upto]
    voided = set()
    for r in recs:            # only the first void of a target counts
        if r.get("kind") == "void":
            voided.add((r["void"].get("target_epoch", r["epoch"]), r["void"]["target_seq"]))
    n = {"activities": dict.fromkeys(CATS + ["total"], 0), "by_kind": dict.fromkeys(KINDS, 0),
         "participants": 0}
    for r in recs:
        if r.get("kind") != "activity" or (r["epoch"], r["seq"]) in voided:
            continue
        a = r["activity"]
        n["activities"][a["category"]] += 1
        n["activities"]["total"] += 1
        if a["category"] == "volunteer_service":
            n["by_kind"][a["service_kind"]] += 1
        n["participants"] += a.get("participants", 0)
    return n, len(recs), len(voided)

def figures(t):
    acts = t.get("activities", {})
    kinds = t.get("volunteer_services", {}).get("by_kind", {})
    return {"activities": {c: acts.get(c, 0) for c in CATS + ["total"]},
            "by_kind": {k: kinds.get(k, 0) for k in KINDS},
            "participants": t.get("participants", 0)}

bad, summary = [], []
want_all = {"activities": dict.fromkeys(CATS + ["total"], 0), "by_kind": dict.fromkeys(KINDS, 0),
            "participants": 0}
for i in range(3, len(sys.argv), 2):
    sid, path = sys.argv[i], sys.argv[i + 1]
    recs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    if [r["seq"] for r in recs] != list(range(1, len(recs) + 1)):
        bad.append("%s: log seqs are not 1..N" % sid)
        continue
    upto = covers.get(sid, 0)
    if upto > len(recs):
        bad.append("%s: the town covers seq %d, the station has only %d" % (sid, upto, len(recs)))
    if mode == "whole" and upto != len(recs):
        bad.append("%s: the town covers seq %d, the station head is %d" % (sid, upto, len(recs)))
    want, n, nv = recount(recs, upto)
    got = figures(rows.get(sid, {}))
    if got != want:
        diff = ["%s.%s town %s, log %s" % (g, k, got[g][k], want[g][k])
                for g in ("activities", "by_kind") for k in want[g] if got[g][k] != want[g][k]]
        if got["participants"] != want["participants"]:
            diff.append("participants town %s, log %s" % (got["participants"], want["participants"]))
        bad.append("%s up to seq %d: %s" % (sid, upto, "; ".join(diff)))
    for g in ("activities", "by_kind"):
        for k in want[g]:
            want_all[g][k] += want[g][k]
    want_all["participants"] += want["participants"]
    summary.append("%s: %d records, %d voided, %d activities, %d participants" % (
        sid, n, nv, want["activities"]["total"], want["participants"]))
if figures(roll.get("totals", {})) != want_all:
    bad.append("town totals %r, sum of the stations %r" % (figures(roll.get("totals", {})), want_all))
if bad:
    sys.exit("\n".join(bad))
print("; ".join(summary))
'

# recount MODE LABEL: the town's rollup (daemon up or down) against the
# stations' logs.
recount() {
    local mode=$1 label=$2 s args=()
    if ! w "$TW" rollup --period "$PERIOD" --format json >"$T/rollup.json" 2>"$ERR"; then
        fail "$label: wmctl rollup at the town: $(head -c 300 "$ERR")"
        return 1
    fi
    for s in a b; do
        w "$T/$s" log --json >"$T/log.$s" 2>"$ERR" ||
            { fail "$label: wmctl log at $s: $(head -c 300 "$ERR")"; return 1; }
        args+=("xx/longhua/$s" "$T/log.$s")
    done
    if python3 -c "$RECOUNT_PY" "$mode" "$T/rollup.json" "${args[@]}" >"$OUT" 2>"$ERR"; then
        pass "$label: $(cat "$OUT")"
    else
        fail "$label: rollup and log out of step: $(head -c 1500 "$ERR")"
        return 1
    fi
}

kills=0
covered=0
for round in $(seq 1 "$ROUNDS"); do
    sleep "$(printf '0.%02d' $((10 + RANDOM % 80)))"
    kill9 "$TPID"
    kills=$((kills + 1))
    recount prefix "kill $round (town down)"
    c=$(python3 -c 'import json,sys; print(sum(c["seq"] for c in json.load(open(sys.argv[1]))["covers"]))' \
        "$T/rollup.json" 2>/dev/null || echo 0)
    [ "$c" -gt "$covered" ] 2>/dev/null && covered=$c
    start_daemon "$TW"
    TPID=$DPID
    wait_ready "$TW" "$TPID" 10 || { fail "round $round: town did not restart"; break; }
done
stop_writers
check "the town was killed $kills times while stations recorded" [ "$kills" -ge 10 ]
check "the kills hit a town that held records ($covered at most)" [ "$covered" -gt 0 ]
for s in a b; do
    n=$(grep -c . "$T/acc.$s")
    check "station $s: writers got activities accepted ($n)" [ "$n" -ge 10 ]
done

poll 60 "after the kills everything converges" converged "$TW" "$T/a" "$T/b"
recount whole "converged, town running"
stop_daemon "$TPID" TERM
recount whole "converged, town stopped"
for s in a b; do stop_daemon "${PID[$s]}" TERM; done
finish
