# SPDX-License-Identifier: MIT
# it_i18n: the language of wmctl and wmsyncd (issue 15), beyond the
# per-class checks of it_bad_input:
#  - a daemon started under zh_CN.UTF-8 serves in the C locale: its log
#    lines stay English, and it answers each wmctl in that wmctl's language
#    (CtlRequest.lang), Chinese or English, whatever its own locale;
#  - what it prints while starting is in the operator's language
#    (--check-config naming the line, a refused start);
#  - status: Chinese labels under zh, and --json the same keys and the same
#    slug values in both languages;
#  - dates as a Chinese reader writes them (2000年1月1日; counts such as
#    1000万: tests/unit/test_i18n.c).
. "$(dirname "$0")/lib.sh"

ZH=zh_CN.UTF-8
if ! locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
    fail "the $ZH locale is not installed: run packaging/deps.sh (it generates it)"
    finish
fi
han() { LC_ALL=C.UTF-8 grep -qP '\p{Han}' "$1"; }
zh() { env LANG=$ZH "$@"; }

N=$T/node
init_node "$N" || finish

# --- start-up messages in the operator's language ---------------------------
cp "$N/wmsync.conf" "$T/good.conf"
sed -i 's/^level = info/level = loud/' "$N/wmsync.conf"
line=$(grep -n '^level = loud' "$N/wmsync.conf" | cut -d: -f1)
expect_rc 2 zh "$WMSYNCD" -c "$N/wmsync.conf" --check-config
expect_in "$ERR" "wmsync.conf:$line: level 必须是 error、warn、info 或 debug（现在是“loud”）" \
    "zh: --check-config names the line and key in Chinese"
expect_rc 2 "$WMSYNCD" -c "$N/wmsync.conf" --check-config
expect_in "$ERR" "wmsync.conf:$line: level must be error, warn, info or debug (got \"loud\")" \
    "C: --check-config in English"
cp "$T/good.conf" "$N/wmsync.conf"
expect_rc 0 zh "$WMSYNCD" -c "$N/wmsync.conf" --check-config
expect_in "$OUT" "wmsync.conf：没有问题" "zh: --check-config says the file is good"

# --- a daemon in zh_CN serves in C, and answers each client in its language --
LANG=$ZH start_daemon "$N"
wait_ready "$N" || finish
w "$N" record team --team t1 --name 一分队 >/dev/null 2>"$ERR" || fail "setup team: $(cat "$ERR")"
check "the serving log line is English under a zh_CN daemon" grep -q ' serving: epoch 1' "$N/daemon.log"
logs_english() { # the daemon's log: no Chinese but the station's own name
    ! sed 's/新河村文明实践站//g' "$N/daemon.log" | LC_ALL=C.UTF-8 grep -P '\p{Han}' >&2
}
A=(record activity --date 2024-03-01 --category theme_lecture --title 宣讲 --team nosuch)
expect_rc 2 w "$N" "${A[@]}"
expect_in "$ERR" 'wmctl: rejected: --team: no team "nosuch"; record it first' \
    "C client, zh daemon: the context reject in English"
expect_rc 2 zh "$WMCTL" -c "$N/wmsync.conf" "${A[@]}"
expect_in "$ERR" 'wmctl: 已拒绝：--team：没有队伍“nosuch”；请先用 wmctl record team' \
    "zh client: the context reject in Chinese"
expect_rc 2 env LANG=fr_FR.UTF-8 "$WMCTL" -c "$N/wmsync.conf" "${A[@]}"
expect_in "$ERR" 'wmctl: rejected: --team: no team "nosuch"' \
    "a language without a catalogue (or locale): English"
check "the daemon's log stays English, also for a Chinese client's reject" logs_english
expect_in "$N/daemon.log" 'rejected a activity record: team: no team "nosuch"' \
    "the Chinese client's reject is logged in English"

# --- dates ----------------------------------------------------------------
expect_rc 2 zh "$WMCTL" -c "$N/wmsync.conf" record activity --date 1999-12-31 \
    --category theme_lecture --title x
expect_in "$ERR" "必须在2000年1月1日至" "zh: date bounds written 2000年1月1日"
expect_rc 2 w "$N" record activity --date 1999-12-31 --category theme_lecture --title x
expect_in "$ERR" "must be between 2000-01-01 and" "C: date bounds written 2000-01-01"

# --- status: Chinese labels, the same JSON in both languages ---------------------
expect_rc 0 zh "$WMCTL" -c "$N/wmsync.conf" record activity --date 2024-03-01 \
    --category theme_lecture --title 宣讲
expect_in "$OUT" "已记录活动，序号 2（第 1 纪元）" "zh: record says what it recorded in Chinese"
expect_rc 0 zh "$WMCTL" -c "$N/wmsync.conf" status
expect_in "$OUT" "守护进程：运行中" "zh: status labels in Chinese"
zh "$WMCTL" -c "$N/wmsync.conf" status --json >"$T/zh.json" 2>&1
w "$N" status --json >"$T/c.json" 2>&1
check "status --json: the same keys and slugs in both languages" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def shape(o):
    if isinstance(o, dict):
        return {k: shape(v) for k, v in o.items() if k not in ("uptime_s", "pid")}
    if isinstance(o, list):
        return [shape(v) for v in o]
    return o if isinstance(o, str) and o.isascii() else type(o).__name__
assert shape(a) == shape(b), (shape(a), shape(b))' "$T/zh.json" "$T/c.json"

# --- a refused start in the operator's language ------------------------------------
kill "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
chmod 644 "$N/keys/sign.key"
expect_rc 1 zh "$WMSYNCD" -c "$N/wmsync.conf"
expect_in "$ERR" "拒绝启动：无法载入签名密钥" "zh: a refused start says why in Chinese"
chmod 600 "$N/keys/sign.key"

finish
