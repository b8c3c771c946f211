# SPDX-License-Identifier: MIT
# it_record: a station end to end. init, start the daemon, record every
# kind (Chinese text throughout), read it back with log / log --json,
# status --json and verify; init refuses to overwrite; secrets are 0600.
. "$(dirname "$0")/lib.sh"

N=$T/node
init_node "$N" || finish

# --- init: files and modes --------------------------------------------
for f in keys/sign.key keys/curve.key; do
    m=$(stat -c %a "$N/$f" 2>/dev/null)
    check "$f is mode 0600 (got $m)" [ "$m" = 600 ]
done
for f in wmsync.conf keys/sign.pub keys/curve.pub; do
    check "init wrote $f" [ -s "$N/$f" ]
done
check "sign.pub is 64 hex digits" grep -qxE '[0-9a-f]{64}' "$N/keys/sign.pub"

# init refuses to overwrite: the keys and config stay byte for byte.
cp -p "$N/keys/sign.key" "$T/sign.key.before"
cp -p "$N/wmsync.conf" "$T/conf.before"
expect_rc 1 "$WMCTL" init --role station --id xx-county/other --name 另一个 --dir "$N"
expect_in "$ERR" "refusing to overwrite" "init names the refusal"
check "sign.key unchanged after refused init" cmp -s "$N/keys/sign.key" "$T/sign.key.before"
check "config unchanged after refused init" cmp -s "$N/wmsync.conf" "$T/conf.before"
# even when only the key is left (config removed by hand)
mv "$N/wmsync.conf" "$T/conf.moved"
expect_rc 1 "$WMCTL" init --role station --id xx-county/other --name 另一个 --dir "$N"
check "sign.key unchanged when only the key existed" cmp -s "$N/keys/sign.key" "$T/sign.key.before"
mv "$T/conf.moved" "$N/wmsync.conf"

# --- status with nothing recorded, daemon down ---------------------------
expect_rc 0 w "$N" status --json
S=$(cat "$OUT")
check "status before start: head_seq 0" [ "$(json_field "$S" head_seq)" = 0 ]
check "status before start: daemon_running false" [ "$(json_field "$S" daemon_running)" = false ]

start_daemon "$N"
wait_ready "$N" || finish

# --- every kind ------------------------------------------------------------
D=$(date +%F)
T1='学习贯彻党的二十大精神主题宣讲（第1期）'
T2='“我们的节日·春节”文艺汇演 & <新春> 送福 🧧'
T3="志愿服务：垃圾分类进万家 — 环保宣传"
T4='道德讲堂'
PLAN_T='五月底前组织外出考察学习'
seq=0
rec() { # rec EXPECTED_KIND args...: records, checks the success line and seq
    local kind=$1
    shift
    seq=$((seq + 1))
    if expect_rc 0 w "$N" record "$kind" "$@"; then
        expect_in "$OUT" "recorded $kind as seq $seq (epoch 1)" "success line for $kind seq $seq"
    fi
}
rec team --team zongdui --name 新河村志愿服务总队 --kind general
rec team --team yiliao --name 医疗志愿服务分队 --kind branch --trade 医疗卫生
rec activity --date 2024-03-05 --category theme_lecture --title "$T1" --participants 86 --place 村委会会议室
rec activity --date 2024-02-10 --category culture_sports --title "$T2" --participants 300 --festival 春节
rec activity --date 2024-04-22 --category volunteer_service --service-kind environmental \
    --title "$T3" --team zongdui --volunteers 12 --hours 3.25 --participants 40
rec activity --date 2024-04-23 --category volunteer_service --service-kind assistance \
    --title 帮扶困难老人 --team yiliao --volunteers 5 --hours 2
rec activity --date "$D" --category theory_education --title "$T4"
rec activity --date 2024-01-15 --category party_training --title 党员冬训
rec activity --date 2024-01-20 --category civilization_practice --title 移风易俗
rec publicity --date 2024-03-01 --channel wechat --count 113
rec publicity --date 2024-03-01 --channel poster --count 120
rec publicity --date 2024-03-01 --channel leaflet --count 6000
rec publicity --date 2024-03-01 --channel website --count 7
rec volunteers --date 2024-03-31 --registered 6200 --verified 4670
rec recruitment --date 2024-03-31 --count 60
rec funding --date 2024-02-01 --yuan 50000.50 --source 县配套资金
rec site --date 2024-01-01 --plaque --rules --equipment --manager --ledger --plan --theme --model
rec plan --title "$PLAN_T" --due 2024-05-31
PLAN_SEQ=$seq
rec plan-done --plan "$PLAN_SEQ" --date 2024-05-20
rec team --team yiliao --disband
rec void --seq 8 --reason 重复录入
VOID_SEQ=$seq
# log --json names kinds in snake_case (plan_done) while the CLI word is plan-done
KINDS="team activity publicity volunteers recruitment funding site plan plan_done void"

# --json success line
expect_rc 0 w "$N" record activity --date 2024-05-04 --category theme_lecture --title 五四青年 --json
seq=$((seq + 1))
check "record --json: kind/epoch/seq" python3 -c '
import json,sys
o = json.loads(open(sys.argv[1]).read())
assert o == {"kind": "activity", "epoch": 1, "seq": int(sys.argv[2])}, o' "$OUT" "$seq"

# --- log, human form ---------------------------------------------------------
expect_rc 0 w "$N" log
for t in "$T1" "$T2" "$T3" "$T4" "$PLAN_T" 新河村志愿服务总队 县配套资金; do
    expect_in "$OUT" "$t" "log shows \"$t\" exactly"
done
check "log has one line per record" [ "$(grep -c . "$OUT")" -eq "$seq" ]
expect_in "$OUT" "[voided by $VOID_SEQ]" "log marks the voided record"

# --- log --json ----------------------------------------------------------------
expect_rc 0 w "$N" log --json
cp "$OUT" "$T/log.json"
check "log --json: every line parses, seqs 1..$seq, every kind, exact titles" python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if l]
recs = [json.loads(l) for l in lines]
n = int(sys.argv[2])
assert [r["seq"] for r in recs] == list(range(1, n + 1)), [r["seq"] for r in recs]
assert all(r["epoch"] == 1 for r in recs)
kinds = set(r["kind"] for r in recs)
want = set(sys.argv[3].split())
assert want <= kinds, (want - kinds)
titles = [r["activity"]["title"] for r in recs if r["kind"] == "activity"]
for t in sys.argv[4:]:
    assert titles.count(t) == 1, (t, titles)
' "$T/log.json" "$seq" "$KINDS" "$T1" "$T2" "$T3" "$T4"
check "log --json: voided_by on the voided record only" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
v = {r["seq"]: r.get("voided_by") for r in recs if "voided_by" in r}
assert v == {8: int(sys.argv[2])}, v' "$T/log.json" "$VOID_SEQ"
check "log --json: body values survive (counts, hours, yuan, tags)" python3 -c '
import json, sys
recs = {json.loads(l)["seq"]: json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()}
a = recs[5]["activity"]
assert a["service_kind"] == "environmental" and a["team"] == "zongdui", a
assert a["volunteers"] == 12 and abs(a["hours"] - 3.25) < 1e-9 and a["participants"] == 40, a
assert "春节" in json.dumps(recs[4], ensure_ascii=False), recs[4]
assert recs[12]["publicity"]["count"] == 6000, recs[12]
assert recs[14]["volunteers"]["registered"] == 6200 and recs[14]["volunteers"]["verified"] == 4670
s = json.dumps(recs[16], ensure_ascii=False)
assert "50000.5" in s and "县配套资金" in s, s
' "$T/log.json"
expect_rc 0 w "$N" log --from 20 --json
check "log --from 20 starts at seq 20" python3 -c '
import json, sys
s = [json.loads(l)["seq"] for l in open(sys.argv[1]) if l.strip()]
assert s and s[0] == 20 and s[-1] == int(sys.argv[2]), s' "$OUT" "$seq"

# --- status --json ---------------------------------------------------------------
expect_rc 0 w "$N" status --json
check "status --json fields" python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
n = int(sys.argv[2])
assert o["role"] == "station", o
assert o["id"] == "xx-county/longhua/xinhe", o
assert o["head_seq"] == n and o["records"] == n, o
assert o["daemon_running"] is True, o
assert o["epoch"] == 1, o
' "$OUT" "$seq"
expect_rc 0 w "$N" status
expect_in "$OUT" "running" "status (text) says the daemon runs"

# --- verify ------------------------------------------------------------------
expect_rc 0 w "$N" verify
expect_in "$OUT" "ok:" "verify says ok"
expect_rc 0 w "$N" verify --json
check "verify --json ok and counts" python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["ok"] is True and o["records"] == int(sys.argv[2]) and o["head_seq"] == int(sys.argv[2]), o
' "$OUT" "$seq"

# --- after a clean stop, everything reads the same ---------------------------
stop_daemon "$DPID" TERM
expect_rc 0 w "$N" log --json
check "log --json identical with the daemon stopped" cmp -s "$OUT" "$T/log.json"
expect_rc 0 w "$N" verify
m=$(stat -c %a "$N/keys/sign.key.state" 2>/dev/null)
check "fork-guard state file is 0600 (got $m)" [ "$m" = 600 ]
m=$(stat -c %a "$N/keys/sign.key" 2>/dev/null)
check "sign.key still 0600 after the daemon ran (got $m)" [ "$m" = 600 ]

finish
