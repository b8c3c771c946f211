# SPDX-License-Identifier: MIT
# it_report: the figures of section 一 of a town's progress report
# (docs/design.md §1), recorded through a real station daemon, come out of
# every renderer of `wmctl rollup` and out of `wmctl report`:
#   - 111 activities of the five categories (31 of them culture and sports
#     at festivals), 42 volunteer services over the six kinds, 15 teams
#     serving at least every two weeks, one team below that, one team that
#     never served (its name has a comma and quotes), 113 WeChat posts, 120
#     posters, 6,000 leaflets, 6,200 registered and 4,670 verified
#     volunteers, 60 recruitment posts;
#   - the zh and en reports state each figure in its sentence, and name the
#     problem teams;
#   - CSV (BOM, CRLF, RFC 4180) and xlsx (cell by cell, through zipfile and
#     xml.etree) read back to the JSON's values; the table aligns.
# python3 stdlib only.
. "$(dirname "$0")/lib.sh"

N=$T/node
init_node "$N" || finish
start_daemon "$N"
wait_ready "$N" || finish

NRECS=0
rec() {
    NRECS=$((NRECS + 1))
    w "$N" record "$@" >/dev/null 2>"$ERR" || { fail "record $*: $(cat "$ERR")"; return 1; }
}

NEVER_NAME='医疗志愿服务分队, "白衣" 队'
# --- teams: 15 that serve twice in May (days 3 and 20: both 14-day blocks),
# one that serves once (below the cadence), one that never serves.
for i in $(seq -w 1 15); do
    rec team --team "t$i" --name "第${i}志愿服务分队" --kind branch --trade "行业$i"
done
rec team --team slow --name 慢队 --kind branch
rec team --team never --name "$NEVER_NAME" --kind branch

# --- 42 volunteer services: 30 by the 15 teams, 1 by "slow", 11 without a team
kinds=(environmental science legal campus_safety traffic assistance)
# per kind: 10 7 6 6 6 7 = 42
counts=(10 7 6 6 6 7)
k=0
left=${counts[0]}
svc=0
next_kind() {
    while [ "$left" -eq 0 ]; do
        k=$((k + 1))
        left=${counts[$k]}
    done
    left=$((left - 1))
    KIND=${kinds[$k]}
}
for i in $(seq -w 1 15); do
    for d in 03 20; do
        next_kind
        rec activity --date "2024-05-$d" --category volunteer_service --service-kind "$KIND" \
            --title "志愿服务 $i" --team "t$i" --volunteers 4 --hours 2
        svc=$((svc + 1))
    done
done
next_kind
rec activity --date 2024-05-05 --category volunteer_service --service-kind "$KIND" \
    --title 慢队服务 --team slow --volunteers 3 --hours 1
svc=$((svc + 1))
while [ "$svc" -lt 42 ]; do
    next_kind
    rec activity --date 2024-05-10 --category volunteer_service --service-kind "$KIND" \
        --title 志愿服务 --volunteers 2 --hours 1.5
    svc=$((svc + 1))
done

# --- 111 activities: 20 theme lectures (one a grassroots lecture), 18 theory
# education, 15 party training, 27 civilization practice, 31 culture and
# sports, each at a festival.
acts() { # acts CATEGORY N [ARGS...]
    local cat=$1 n=$2 i
    shift 2
    for i in $(seq 1 "$n"); do
        rec activity --date "2024-05-$(printf %02d $((i % 28 + 1)))" --category "$cat" \
            --title "$cat $i" --participants 10 "$@"
    done
}
rec activity --date 2024-05-08 --category theme_lecture --title 基层宣讲 --participants 50 \
    --tag 基层宣讲
acts theme_lecture 19
acts theory_education 18
acts party_training 15
acts civilization_practice 27
festivals=(元旦 春节 三八妇女节)
for i in $(seq 1 31); do
    rec activity --date "2024-05-$(printf %02d $((i % 28 + 1)))" --category culture_sports \
        --title "篮球联赛 $i" --participants 100 --festival "${festivals[$((i % 3))]}"
done

# --- publicity, volunteers, recruitment (counts), funding, a site, a plan
rec publicity --date 2024-05-02 --channel wechat --count 100
rec publicity --date 2024-05-30 --channel wechat --count 13
rec publicity --date 2024-05-02 --channel poster --count 120
rec publicity --date 2024-05-02 --channel leaflet --count 6000
rec volunteers --date 2024-05-15 --registered 6000 --verified 4500
rec volunteers --date 2024-05-31 --registered 200 --verified 170
rec recruitment --date 2024-05-06 --count 45
rec recruitment --date 2024-05-26 --count 15
rec funding --date 2024-05-01 --yuan 30000.50 --source 县配套资金
rec site --date 2024-05-01 --plaque --rules --equipment --manager --ledger --plan --theme --model
rec plan --title 五月底前组织外出考察学习 --due 2024-05-31
check "all $NRECS records accepted" [ "$FAILED" -eq 0 ]

# --- the rollup JSON carries the progress report's figures ---------------
expect_rc 0 w "$N" rollup --period 2024-05 --format json --out "$T/r.json"
check "rollup JSON has the progress report's figures" python3 - "$T/r.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
a = t["activities"]
five = sum(a[k] for k in ("theme_lecture", "theory_education", "party_training",
                          "civilization_practice", "culture_sports"))
want = {
    "five categories": (five, 111),
    "volunteer services": (t["volunteer_services"]["total"], 42),
    "festival events": (t["festival_events"], 31),
    "wechat": (t["publicity"]["wechat"], 113),
    "posters": (t["publicity"]["poster"], 120),
    "leaflets": (t["publicity"]["leaflet"], 6000),
    "registered": (t["volunteers"]["registered_cumulative"], 6200),
    "verified": (t["volunteers"]["verified_cumulative"], 4670),
    "recruitment": (t["recruitment_posts"], 60),
}
bad = {k: v for k, v in want.items() if v[0] != v[1]}
if bad:
    sys.exit("wrong figures: %r" % bad)
EOF

# --- the prose reports ----------------------------------------------------
expect_rc 0 w "$N" report --period 2024-05 --lang zh --out "$T/zh.txt"
Z=$T/zh.txt
expect_in "$Z" "通过微信群转发、公众平台发布相关内容累计113条" "zh: 113 WeChat posts"
expect_in "$Z" "张贴宣传画120张" "zh: 120 posters"
expect_in "$Z" "发放相关内容宣传单页6000份" "zh: 6000 leaflets"
expect_in "$Z" "资金共计30000.50元" "zh: funding"
expect_in "$Z" "有注册志愿者6200人，实名认证4670人" "zh: 6200 registered, 4670 verified"
expect_in "$Z" "招募志愿者发布60条" "zh: 60 recruitment posts"
expect_in "$Z" "开展了主题宣讲、理论教育、党员培训、文明实践、文体文艺等活动共计111场次" \
    "zh: 111 activities"
expect_in "$Z" "（主题宣讲20场次、理论教育18场次、党员培训15场次、文明实践27场次、文体文艺31场次）" \
    "zh: activities by category"
expect_in "$Z" "15个志愿服务队进行至少每两周一次的志愿服务活动" "zh: 15 teams on cadence"
expect_in "$Z" "环保宣传、科普、普法、平安校园、交通引导、帮扶等志愿服务活动共计42场次" \
    "zh: 42 volunteer services"
expect_in "$Z" "（环保宣传10场次、科普7场次、普法6场次、平安校园6场次、交通引导6场次、帮扶7场次）" \
    "zh: services by kind"
expect_in "$Z" "开展基层宣讲活动1场次" "zh: grassroots lecture"
expect_in "$Z" "举办群众喜闻乐见的文体文艺活动累计31场" "zh: 31 festival events"
expect_in "$Z" "二、存在问题" "zh: problems section"
expect_in "$Z" "志愿服务队“$NEVER_NAME”至今没有开展过一次志愿服务活动" \
    "zh: names the team that never served"
expect_in "$Z" "志愿服务队“慢队”未做到每14天至少一次志愿服务" \
    "zh: names the team below the cadence"
check "zh: problems name the station" grep -q "新河村文明实践站的志愿服务队“慢队”" "$Z"

expect_rc 0 w "$N" report --period 2024-05 --lang en --out "$T/en.txt"
E=$T/en.txt
expect_in "$E" "113 items were forwarded in WeChat groups" "en: 113 WeChat posts"
expect_in "$E" "120 posters were put up" "en: 120 posters"
expect_in "$E" "6,000 leaflets were handed out" "en: 6,000 leaflets"
expect_in "$E" "6,200 volunteers are registered and 4,670 real-name verified" \
    "en: 6,200 registered, 4,670 verified"
expect_in "$E" "published 60 recruitment posts" "en: 60 recruitment posts"
expect_in "$E" "111 sessions of theme lectures, theory education, party-member training, civilization practice and culture and sports activities" \
    "en: 111 activities"
expect_in "$E" "15 volunteer teams served at least every two weeks" "en: 15 teams on cadence"
expect_in "$E" "42 volunteer services were held in all" "en: 42 volunteer services"
expect_in "$E" "31 culture and sports events were held at festivals" "en: 31 festival events"
expect_in "$E" "2. Problems" "en: problems section"
expect_in "$E" "volunteer team \"$NEVER_NAME\" has never served" "en: names the idle team"
expect_in "$E" "volunteer team \"慢队\" did not serve at least every 14 days" \
    "en: names the slow team"

# report to stdout is the same text; bad --lang is rejected
expect_rc 0 w "$N" report --period 2024-05
check "report on stdout equals report --out" cmp -s "$OUT" "$Z"
expect_rc 2 w "$N" report --period 2024-05 --lang fr
expect_rc 2 w "$N" report --period 2024-13

# --- CSV: BOM, CRLF, quoting, every row equal to the JSON -----------------
expect_rc 0 w "$N" rollup --period 2024-05 --format csv --out "$T/r.csv"
expect_rc 0 w "$N" rollup --period 2024-05 --format csv --lang en --out "$T/r-en.csv"
expect_rc 0 w "$N" rollup --period 2024-05 --format xlsx --out "$T/r.xlsx"
expect_rc 0 w "$N" rollup --period 2024-05 --format xlsx --lang en --out "$T/r-en.xlsx"
# xlsx never goes to a terminal (or anywhere but a file)
expect_rc 2 w "$N" rollup --period 2024-05 --format xlsx
expect_in "$ERR" "--format xlsx needs --out" "xlsx without --out: the refusal says why"
check "xlsx without --out wrote nothing to stdout" [ ! -s "$OUT" ]

cat >"$T/check.py" <<'EOF'
import csv, io, json, re, sys, zipfile
import xml.etree.ElementTree as ET

jpath, csvpath, xlsxpath, lang, never = sys.argv[1:6]
j = json.load(open(jpath, encoding="utf-8"))

def leaves(obj, path, scope, station, out):
    for k, v in obj.items():
        if isinstance(v, dict):
            leaves(v, path + [k], scope, station, out)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            fig = ".".join(path) if path else k
            out.append((scope, station, fig, k if path else "", v))

want = []
leaves(j["totals"], [], j["scope"], j["id"], want)
for s in j["stations"]:
    leaves(s["totals"], [], "station", s["id"], want)
nprob = len(j["problems"])

# CSV ---------------------------------------------------------------------
raw = open(csvpath, "rb").read()
assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
body = raw[3:]
assert body.endswith(b"\r\n"), "last line does not end in CRLF"
assert b"\n" not in body.replace(b"\r\n", b""), "a bare LF outside CRLF"
text = body.decode("utf-8")
rows = list(csv.reader(io.StringIO(text, newline="")))
assert rows[0] == ["scope", "station", "figure", "dimension", "value", "label"], rows[0]
rows = rows[1:]
assert len(rows) == len(want) + nprob, (len(rows), len(want), nprob)
for r, w in zip(rows, want):
    assert r[:4] == list(w[:4]), (r, w)
    assert abs(float(r[4]) - w[4]) < 0.005, (r, w)
    assert r[5], ("no label", r)
probs = rows[len(want):]
for r, p in zip(probs, j["problems"]):
    assert r[2] == "problem" and r[3] == p["kind"] and r[1] == p["station"], (r, p)
idle = [r for r in probs if r[3] == "team_never_served"]
assert len(idle) == 1 and never in idle[0][5], idle
# the team name went through RFC 4180 quoting: doubled quotes inside a
# quoted field
if '"' in never or "," in never:
    q = never.replace('"', '""')
    assert q in text, "quotes not doubled"
    line = [l for l in text.split("\r\n") if q in l][0]
    assert line.split(",", 5)[5].startswith('"') and line.endswith('"'), line
if lang == "zh":
    lab = {tuple(r[2:4]): r[5] for r in rows}
    assert lab[("activities", "theme_lecture")] == "活动 · 主题宣讲", lab[("activities", "theme_lecture")]
    assert lab[("publicity", "wechat")] == "宣传 · 微信群/公众平台"
else:
    lab = {tuple(r[2:4]): r[5] for r in rows}
    assert lab[("activities", "theme_lecture")] == "Activities · Theme lectures"

# xlsx --------------------------------------------------------------------
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
z = zipfile.ZipFile(xlsxpath)
wb = ET.fromstring(z.read("xl/workbook.xml"))
names = [s.get("name") for s in wb.find("m:sheets", NS)]
assert names == (["汇总", "各站", "问题"] if lang == "zh" else ["Totals", "Stations", "Problems"]), names
sst = ET.fromstring(z.read("xl/sharedStrings.xml"))
shared = ["".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])) for si in sst.findall("m:si", NS)]

def sheet(n):
    root = ET.fromstring(z.read("xl/worksheets/sheet%d.xml" % n))
    out = {}
    for row in root.iter("{%s}row" % NS["m"]):
        r = int(row.get("r"))
        cells = {}
        for c in row.findall("m:c", NS):
            col = re.match(r"[A-Z]+", c.get("r")).group(0)
            ci = 0
            for ch in col:
                ci = ci * 26 + ord(ch) - 64
            v = c.find("m:v", NS)
            if c.get("t") == "s":
                cells[ci - 1] = shared[int(v.text)]
            elif c.get("t") == "inlineStr":
                cells[ci - 1] = "".join(t.text or "" for t in c.iter("{%s}t" % NS["m"]))
            elif v is not None:
                cells[ci - 1] = float(v.text)  # a number cell
        out[r] = cells
    return out

s1 = sheet(1)
assert [s1[1].get(i) for i in range(6)] == ["scope", "station", "figure", "dimension", "value", "label"]
assert len(s1) == 1 + len(want) + nprob, (len(s1), len(want), nprob)
for i, w in enumerate(want):
    c = s1[i + 2]
    got = (c.get(0), c.get(1), c.get(2), c.get(3, ""))
    assert got == w[:4], (got, w)
    assert isinstance(c.get(4), float), ("value is not a number cell", c)
    assert abs(c[4] - w[4]) < 1e-9, (c, w)
    assert c.get(5) == rows[i][5], (c.get(5), rows[i][5])  # same label as the CSV
for i, p in enumerate(j["problems"]):
    c = s1[len(want) + 2 + i]
    assert c.get(2) == "problem" and c.get(3) == p["kind"], c
    assert c.get(5) == probs[i][5]

s2 = sheet(2)  # the stations of a town, else the report's own scope
srows = j["stations"] or [{"id": j["id"], "name": j["name"], "totals": j["totals"]}]
assert len(s2) == 1 + len(srows), (len(s2), len(srows))
for i, s in enumerate(srows):
    c = s2[i + 2]
    assert c[0] == s["id"] and c[1] == s["name"], (c, s)
    assert c[2] == s["totals"]["activities"]["total"], (c, s)
    assert c[3] == s["totals"]["volunteer_services"]["total"], (c, s)
    assert abs(c[18] - s["totals"]["funding_yuan"]) < 1e-9, (c, s)

s3 = sheet(3)
assert len(s3) == 1 + nprob, (len(s3), nprob)
for i, p in enumerate(j["problems"]):
    c = s3[i + 2]
    assert c[0] == p["kind"] and c[2] == p["station"], (c, p)
    if "team" in p:
        assert c[4] == p["team"] and c[5] == p["name"], (c, p)
assert any(c.get(5) == never for c in s3.values()), "the idle team's name is not in Problems"
if j["stations"]:  # town scope: team keys are STATION/TEAM, stations rows follow the totals
    assert any(w[2] == "volunteer_services.by_team" and "/" in w[3] for w in want), want
    assert any(w[0] == "station" for w in want)
print("ok: %d figure rows, %d problems" % (len(want), nprob))
EOF
check "CSV and xlsx (zh) equal the JSON cell by cell" \
    python3 "$T/check.py" "$T/r.json" "$T/r.csv" "$T/r.xlsx" zh "$NEVER_NAME"
check "CSV and xlsx (en) equal the JSON cell by cell" \
    python3 "$T/check.py" "$T/r.json" "$T/r-en.csv" "$T/r-en.xlsx" en "$NEVER_NAME"

# --- table: sections present, value columns aligned by display width ----
expect_rc 0 w "$N" rollup --period 2024-05 --out "$T/t.txt"
for s in 【宣传】 【设施（六有）】 【志愿者与队伍】 【活动】 【志愿服务（按类型）】 \
    【文体活动（节日）】 【基层宣讲】 【经费】 【计划】 【补录】 【存在问题】; do
    expect_in "$T/t.txt" "$s" "table has $s"
done
check "table: activity section aligned by display width" python3 - "$T/t.txt" <<'EOF'
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
i = lines.index("【活动】")
block = []
for l in lines[i + 1:]:
    if not l.strip():
        break
    block.append(l)
ends = {width(l) for l in block if not set(l.strip()) <= {"-", " "}}
assert len(ends) == 1, ("ragged right edge", block)
rows = {l.split()[0]: l.split()[-1] for l in block[2:]}
assert rows["主题宣讲"] == "20" and rows["合计"] == "153", rows
EOF
expect_rc 0 w "$N" rollup --period 2024-05 --lang en --out "$T/t-en.txt"
expect_in "$T/t-en.txt" "Volunteer services by kind" "English table"

# --- town scope: two stations synced to a town; stations[] rows, team keys
# STATION/TEAM, the teams' station names in the report --------------------
. "$(dirname "$0")/it_sync_lib.sh"
PORT=$(free_port)
TW=$T/town
init_town "$TW" xx-county/lh "$PORT" || finish
start_daemon "$TW"
wait_ready "$TW" || finish
for s in a b; do
    init_station "$T/$s" "xx-county/lh/$s" "$PORT" "$(town_key "$TW")" || finish
    enroll "$T/$s" "$TW" || finish
    start_daemon "$T/$s"
    wait_ready "$T/$s" || finish
done
w "$T/a" record team --team t1 --name "$NEVER_NAME" --kind general >/dev/null
w "$T/a" record activity --date 2024-05-03 --category volunteer_service --service-kind legal \
    --title 普法 --team t1 >/dev/null
w "$T/b" record team --team t1 --name 乙队 --kind branch >/dev/null
w "$T/b" record activity --date 2024-05-08 --category theme_lecture --title 宣讲 \
    --tag 基层宣讲 >/dev/null
w "$T/b" record funding --date 2024-05-09 --yuan 100.25 --source 县配套资金 >/dev/null
poll 30 "the town holds both stations' records" converged "$TW" "$T/a" "$T/b"
expect_rc 0 w "$TW" rollup --period 2024-05 --format json --out "$T/town.json"
expect_rc 0 w "$TW" rollup --period 2024-05 --format csv --out "$T/town.csv"
expect_rc 0 w "$TW" rollup --period 2024-05 --format xlsx --out "$T/town.xlsx"
check "town: CSV and xlsx equal the JSON cell by cell" \
    python3 "$T/check.py" "$T/town.json" "$T/town.csv" "$T/town.xlsx" zh 乙队
expect_rc 0 w "$TW" rollup --period 2024-05 --out "$T/town.txt"
expect_in "$T/town.txt" "【各站情况】" "town table: stations section"
expect_in "$T/town.txt" "站b的志愿服务队“乙队”至今没有开展过一次志愿服务活动" \
    "town table: the idle team with its station"
expect_rc 0 w "$TW" report --period 2024-05 --out "$T/town-zh.txt"
expect_in "$T/town-zh.txt" "（一）志愿服务队从未开展志愿服务。站b的志愿服务队“乙队”" \
    "town report: names the station and team"
expect_in "$T/town-zh.txt" "（二）志愿服务未达到规定频次。站a的志愿服务队“$NEVER_NAME”" \
    "town report: names the slow team and its station"
expect_in "$T/town-zh.txt" "（三）未按月开展基层宣讲。站a在2024-05没有开展每月基层宣讲" \
    "town report: names the station without a lecture"
expect_in "$T/town-zh.txt" "0个志愿服务队进行至少每两周一次" "town report: no team on cadence"
expect_in "$T/town-zh.txt" "资金共计100.25元" "town report: funding from station b"

finish
