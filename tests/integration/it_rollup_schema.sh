#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# it_rollup_schema: the rollup JSON is the documented interface of
# docs/rollup-json.md. A county above a town above a station produces
# rollups of every period kind (year, half, quarter, month, ISO week,
# bi-week, day, range) at every scope (station; town; town narrowed to a
# station; county; county narrowed to a town), and the town's published
# reports as the county received them; each must meet
# docs/rollup.schema.json in strict mode (no undocumented key), carry
# "schema": 1, and a county whose towns reported nothing still has every
# figure (zeros). The validator itself must reject a rollup missing a
# documented key or with a key of the wrong type, and accept (leniently)
# or refuse (strictly) a key the schema does not document.
# (Every other test's `rollup --format json` is checked too, by lib.sh.)
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PC=$(free_port) && PT=$(free_port) || { fail "no free port"; finish; }
C=$T/county TW=$T/town S=$T/s1
"$WMCTL" init --role county --id xx --name 县中心 --dir "$C" --listen "tcp://127.0.0.1:$PC" \
    >/dev/null || { fail "init county"; finish; }
"$WMCTL" init --role town --id xx/t --name 龙华镇 --dir "$TW" --listen "tcp://127.0.0.1:$PT" \
    --upstream "tcp://127.0.0.1:$PC" --upstream-key "$(town_key "$C")" >/dev/null ||
    { fail "init town"; finish; }
init_station "$S" xx/t/s1 "$PT" "$(town_key "$TW")" || finish
# The county plays a build without rollup-bin, so that the town publishes
# the JSON form, read here from its log as published; the binary form's
# objects are checked as every tier reads them (it_province, it_bigtown).
WMSYNCD_FEATURES_OFF=rollup-bin start_daemon "$C"; wait_ready "$C" || finish
enroll "$TW" "$C" || finish
start_daemon "$TW"; wait_ready "$TW" || finish
enroll "$S" "$TW" || finish
start_daemon "$S"; wait_ready "$S" || finish

# One record of every kind that moves a figure, so every key has a value.
r() { w "$S" record "$@" >"$OUT" 2>"$ERR" || fail "record $*: $(cat "$ERR")"; }
r team --team t1 --name 一队 --kind branch
r team --team idle --name 闲队 --kind branch
r activity --date 2024-05-06 --category volunteer_service --service-kind legal --title 普法 \
    --team t1 --volunteers 3 --hours 2.5
r activity --date 2024-05-08 --category theme_lecture --title 基层宣讲 --tag 基层宣讲 \
    --participants 40
r activity --date 2024-05-09 --category culture_sports --title 联欢 --festival 春节
r publicity --date 2024-05-02 --channel wechat --count 7
r volunteers --date 2024-05-03 --registered 10 --verified 8
r recruitment --date 2024-05-04 --count 2
r funding --date 2024-05-05 --yuan 100.25 --source 县配套资金
r site --date 2024-05-01 --plaque --rules --model
r plan --title 外出学习 --due 2024-05-31
poll 30 "the town holds the station's records" converged "$TW" "$S"

PERIODS=(2024 2024-H1 2024-Q2 2024-05 2024-W19 2024-BW10 2024-05-08 2024-05-01..2024-05-20)
for p in "${PERIODS[@]}"; do
    w "$TW" publish --period "$p" >"$OUT" 2>"$ERR" || fail "publish $p: $(cat "$ERR")"
done
last=${PERIODS[-1]}
county_has() {
    "$WMCTL" -c "$C/wmsync.conf" rollup --period "$1" --format json 2>"$T/why" |
        python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["stations"] else 1)'
}
poll 30 "the county holds the town's reports" county_has "$last"

# Every scope and period kind, each written with --out and checked at once.
files=()
for i in "${!PERIODS[@]}"; do
    p=${PERIODS[$i]}
    for spec in "s:$S:" "t:$TW:" "ts:$TW:xx/t/s1" "c:$C:" "ct:$C:xx/t"; do
        IFS=: read -r tag dir station <<<"$spec"
        f=$T/$tag-$i.json
        args=(rollup --period "$p" --format json --out "$f")
        [ -n "$station" ] && args+=(--station "$station")
        "$WMCTL" -c "$dir/wmsync.conf" "${args[@]}" 2>"$ERR" ||
            fail "rollup $tag $p: $(cat "$ERR")"
        files+=("$f")
    done
done
# The reports as published: the JSON inside the town's signed records.
w "$TW" log --json >"$T/town-log.json" 2>"$ERR" || fail "town log: $(cat "$ERR")"
python3 - "$T/town-log.json" "$T/published" <<'PY' || fail "no published report in the town's log"
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    rec = json.loads(line)
    if rec.get("kind") == "rollup":
        n += 1
        with open(f"{sys.argv[2]}-{n}.json", "w", encoding="utf-8") as f:
            f.write(rec["rollup"]["json"])
sys.exit(0 if n >= 8 else 1)
PY
files+=("$T"/published-*.json)
check "${#files[@]} rollups of 8 period kinds at 5 scopes and as published meet the schema" \
    check_rollup "${files[@]}"
check "every rollup says \"schema\": 1" python3 -c '
import json, sys
sys.exit(0 if all(json.load(open(f))["schema"] == 1 for f in sys.argv[1:]) else 1)' "${files[@]}"

# A county whose towns reported nothing of the period: every figure, all 0.
"$WMCTL" -c "$C/wmsync.conf" rollup --period 2023-07 --format json --out "$T/c-empty.json" ||
    fail "county rollup of an unreported period"
check "county, nothing reported: the schema holds" check_rollup "$T/c-empty.json"
check "county, nothing reported: every figure of a town's rollup, each 0" python3 - \
    "$T/c-empty.json" "$T/t-3.json" <<'PY'
import json, sys
empty, town = (json.load(open(f)) for f in sys.argv[1:])
def shape(x):
    return {k: shape(v) for k, v in x.items() if k != "by_team"} if isinstance(x, dict) else 0
def numbers(x):
    return [n for v in x.values() for n in numbers(v)] if isinstance(x, dict) else [x]
assert shape(empty["totals"]) == shape(town["totals"]), (empty["totals"], town["totals"])
assert not any(numbers(empty["totals"])), empty["totals"]
assert [p["kind"] for p in empty["problems"]] == ["town_not_reported"], empty["problems"]
PY

# The validator: missing keys and wrong types are refused; an undocumented
# key is accepted by the published (open) schema but refused by the tests'.
V=("$SCHEMA_PY" "$SRC_DIR/tests/integration/check_rollup.py")
mutate() { # mutate OUT PYTHON-STATEMENT-ON-j
    python3 -c "import json, sys
j = json.load(open(sys.argv[1]))
$2
json.dump(j, open(sys.argv[2], 'w'))" "$T/t-3.json" "$1"
}
refused() { # refused [--strict] FILE: the validator exits 1
    "${V[@]}" "$@" 2>"$ERR" >/dev/null
    [ $? -eq 1 ] && [ -s "$ERR" ]
}
mutate "$T/m1.json" 'del j["covers"]'
check "a rollup without \"covers\" is refused" refused "$ROLLUP_SCHEMA" "$T/m1.json"
expect_in "$ERR" "'covers' is a required property" "the refusal names the missing key"
mutate "$T/m2.json" 'del j["totals"]["activities"]["total"]'
check "a rollup without totals.activities.total is refused" refused "$ROLLUP_SCHEMA" "$T/m2.json"
mutate "$T/m3.json" 'del j["schema"]'
check "a rollup without \"schema\" is refused" refused "$ROLLUP_SCHEMA" "$T/m3.json"
mutate "$T/m4.json" 'j["covers"][0]["seq"] = str(j["covers"][0]["seq"])'
check "a seq given as a string is refused" refused "$ROLLUP_SCHEMA" "$T/m4.json"
mutate "$T/m5.json" 'j["problems"].append({"kind": "team_never_served", "station": "xx/t/s1"})'
check "a problem without its documented keys is refused" refused "$ROLLUP_SCHEMA" "$T/m5.json"
mutate "$T/m6.json" 'j["totals"]["new_figure"] = 1; j["problems"].append({"kind": "new_kind"})'
check "an added key and problem kind: the open schema accepts them" \
    "${V[@]}" "$ROLLUP_SCHEMA" "$T/m6.json"
check "an added key: the tests' strict check refuses it" refused --strict "$ROLLUP_SCHEMA" "$T/m6.json"
expect_in "$ERR" "new_figure" "the strict refusal names the undocumented key"
expect_in "$ERR" "new_kind" "the strict refusal names the undocumented problem kind"
finish
