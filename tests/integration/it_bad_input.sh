# SPDX-License-Identifier: MIT
# it_bad_input: every class of bad input to `wmctl record` exits 2, names
# the field on stderr ("wmctl: rejected: --FIELD: ...") and writes nothing:
# the head seq and record count stay as they were, and the daemon goes on
# serving. Both the CLI-side checks and the daemon-side context checks
# (teams, void and plan targets) are covered.
# Each case runs twice: under LANG=C (lib.sh's default) the English line
# above, and under LANG=zh_CN.UTF-8 the Chinese one ("wmctl: 已拒绝：
# --FIELD：..."), with the reason itself in Chinese, not only the prefix:
# the daemon (started in the C locale) words its context rejects in the
# language wmctl asks for (CtlRequest.lang).
. "$(dirname "$0")/lib.sh"

ZH=zh_CN.UTF-8
if ! locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
    fail "the $ZH locale is not installed: run packaging/deps.sh (it generates it)"
    finish
fi
# zh_reason FILE: the message after "--FIELD：" (or the whole line), with
# what the operator typed (quoted “...”) and option names taken out, holds
# Chinese text.
zh_reason() {
    sed -e 's/^wmctl: 已拒绝：--[a-z-]*：//' -e 's/“[^”]*”//g' -e 's/--[a-z-]*//g' "$1" |
        LC_ALL=C.UTF-8 grep -qP '\p{Han}'
}

N=$T/node
init_node "$N" || finish
start_daemon "$N"
wait_ready "$N" || finish

ok() { w "$N" record "$@" >/dev/null 2>"$ERR" || fail "setup record failed: $* ($(cat "$ERR"))"; }
# Context for the daemon-side rules.
ok team --team t1 --name 一分队                                                       # 1
ok team --team old --name 旧分队                                                      # 2
ok team --team old --disband                                                          # 3
ok activity --date 2024-03-01 --category theme_lecture --title 宣讲                  # 4
ok void --seq 4 --reason 重复                                                         # 5
ok plan --title 考察学习 --due 2024-05-31                                             # 6
ok plan-done --plan 6 --date 2024-05-20                                               # 7
HEAD0=$(head_seq "$N")
check "setup: head seq 7 (got $HEAD0)" [ "$HEAD0" = 7 ]

DAY=86400
TODAY=$(date +%F)
TOMORROW2=$(date -d "@$(($(date +%s) + 2 * DAY + 3600))" +%F) # beyond today + 1 in any zone
A=(--category theme_lecture --title 宣讲)

# bad FIELD ARGS...: record ARGS must exit 2, name --FIELD, write nothing.
bad() {
    local field=$1 h
    shift
    expect_rc 2 w "$N" record "$@" || return
    expect_in "$ERR" "--$field" "stderr names --$field for: $*"
    if ! grep -q '^wmctl: ' "$ERR"; then fail "stderr not prefixed wmctl: for $*"; fi
    h=$(head_seq "$N")
    check "head seq unchanged ($h) after: $*" [ "$h" = "$HEAD0" ]
    expect_rc 2 env LANG=$ZH "$WMCTL" -c "$N/wmsync.conf" record "$@" || return
    expect_in "$ERR" "--$field" "zh: stderr names --$field for: $*"
    check "zh: the reason is in Chinese for: $* ($(head -c 300 "$ERR"))" zh_reason "$ERR"
    if grep -q ' is \| must \| not \|required' "$ERR"; then fail "zh: English left in: $(cat "$ERR")"; fi
    h=$(head_seq "$N")
    check "zh: head seq unchanged ($h) after: $*" [ "$h" = "$HEAD0" ]
}
# rejected FIELD ARGS...: as bad, and the line has the "rejected: --FIELD:" form.
rejected() {
    local field=$1
    expect_rc 2 w "$N" record "${@:2}" || return
    expect_in "$ERR" "wmctl: rejected: --$field:" "rejected: --$field: form for: ${*:2}"
    bad "$@" || return
    expect_in "$ERR" "wmctl: 已拒绝：--$field：" "zh: 已拒绝：--$field： form for: ${*:2}"
}

# --- dates ------------------------------------------------------------------
rejected date activity --date 2024-13-01 "${A[@]}"
rejected date activity --date 2024-02-30 "${A[@]}"
rejected date activity --date 2023-02-29 "${A[@]}"
rejected date activity --date 24-1-1 "${A[@]}"
rejected date activity --date "" "${A[@]}"
rejected date activity --date 2024-1-1 "${A[@]}"
rejected date activity --date "2024-01-01 " "${A[@]}"
rejected date activity --date 1999-12-31 "${A[@]}"
rejected date activity --date 2099-01-01 "${A[@]}"
rejected date activity --date "$TOMORROW2" "${A[@]}"
rejected date activity "${A[@]}"
rejected date publicity --date 2024-00-10 --channel wechat --count 1
rejected date volunteers --date 1999-12-31 --registered 1
rejected date recruitment --date 2024-04-31 --count 1
rejected date funding --date 2099-01-01 --yuan 1 --source 县
rejected date site --date 20240101 --plaque
rejected due plan --title 计划 --due 2024-02-30
rejected date plan-done --plan 6 --date 2024-13-01

# --- categories and service kinds ---------------------------------------------
rejected category activity --date 2024-03-01 --category lecture --title x
rejected category activity --date 2024-03-01 --category THEME_LECTURE --title x
rejected category activity --date 2024-03-01 --category "" --title x
rejected category activity --date 2024-03-01 --title x
rejected service-kind activity --date 2024-03-01 --category volunteer_service --service-kind cooking --title x
rejected service-kind activity --date 2024-03-01 --category volunteer_service --title x
rejected service-kind activity --date 2024-03-01 --category theme_lecture --service-kind legal --title x

# --- counts, hours, money -------------------------------------------------------
rejected participants activity --date 2024-03-01 "${A[@]}" --participants -1
rejected participants activity --date 2024-03-01 "${A[@]}" --participants abc
rejected participants activity --date 2024-03-01 "${A[@]}" --participants 1.5
rejected participants activity --date 2024-03-01 "${A[@]}" --participants " 3"
rejected participants activity --date 2024-03-01 "${A[@]}" --participants ""
rejected participants activity --date 2024-03-01 "${A[@]}" --participants 99999999999999999999999
rejected participants activity --date 2024-03-01 "${A[@]}" --participants 10000001
rejected volunteers activity --date 2024-03-01 "${A[@]}" --volunteers +5
rejected count publicity --date 2024-03-01 --channel wechat --count -5
rejected count publicity --date 2024-03-01 --channel wechat --count 12x
rejected count publicity --date 2024-03-01 --channel wechat
rejected count recruitment --date 2024-03-01 --count ten
rejected registered volunteers --date 2024-03-01 --registered 0x10
rejected verified volunteers --date 2024-03-01 --verified -1
rejected hours activity --date 2024-03-01 "${A[@]}" --hours 1.234
rejected hours activity --date 2024-03-01 "${A[@]}" --hours -2
rejected hours activity --date 2024-03-01 "${A[@]}" --hours 1.
rejected hours activity --date 2024-03-01 "${A[@]}" --hours .5
rejected hours activity --date 2024-03-01 "${A[@]}" --hours 1e3
rejected yuan funding --date 2024-03-01 --yuan 100.001 --source 县
rejected yuan funding --date 2024-03-01 --yuan -100 --source 县
rejected yuan funding --date 2024-03-01 --yuan 1,000 --source 县

# --- channels ---------------------------------------------------------------------
rejected channel publicity --date 2024-03-01 --channel weibo --count 1
rejected channel publicity --date 2024-03-01 --channel WeChat --count 1
rejected channel publicity --date 2024-03-01 --count 1

# --- teams --------------------------------------------------------------------------
rejected team activity --date 2024-03-01 "${A[@]}" --team nosuch
rejected team activity --date 2024-03-01 "${A[@]}" --team old
rejected team activity --date 2024-03-01 --category volunteer_service --service-kind legal --title 普法 --team old
rejected team activity --date 2024-03-01 "${A[@]}" --team BadTeam
rejected team team --team BadTeam --name 分队
rejected team team --team "a b" --name 分队
rejected team team --team old --disband
rejected team team --team nosuch --disband
rejected kind team --team t2 --name 分队 --kind squad
rejected name team --team t2 --name ""

# --- voids and plan completions -------------------------------------------------------
rejected seq void --seq 999 --reason 错
rejected seq void --seq 4 --reason 又错 # already voided by 5
rejected seq void --seq 5 --reason 作废作废 # a void
rejected seq void --seq 0 --reason 错
rejected seq void --seq -1 --reason 错
rejected seq void --seq x --reason 错
rejected reason void --seq 1 --reason ""
rejected reason void --seq 1
rejected plan plan-done --plan 4 --date 2024-05-20 # an activity, not a plan
rejected plan plan-done --plan 1 --date 2024-05-20 # a team
rejected plan plan-done --plan 6 --date 2024-05-21 # already done
rejected plan plan-done --plan 999 --date 2024-05-20
rejected plan plan-done --plan 0 --date 2024-05-20

# --- text -------------------------------------------------------------------------------
rejected title activity --date 2024-03-01 --category theme_lecture --title "$(printf '\xff')"
rejected title activity --date 2024-03-01 --category theme_lecture --title "$(printf '宣讲\xe5\xae')"
rejected title activity --date 2024-03-01 --category theme_lecture --title "$(printf '\xc0\xaf')"
rejected title activity --date 2024-03-01 --category theme_lecture --title ""
rejected title activity --date 2024-03-01 --category theme_lecture
rejected title activity --date 2024-03-01 --category theme_lecture --title "$(printf '%0257d' 0)"
rejected place activity --date 2024-03-01 "${A[@]}" --place "$(printf 'x\xfe')"
rejected title plan --title "" --due 2024-05-31
rejected source funding --date 2024-03-01 --yuan 1 --source "$(printf '\xff\xfe')"
rejected festival activity --date 2024-03-01 "${A[@]}" --festival ""

# --- options and kinds -------------------------------------------------------------------
bad colour activity --date 2024-03-01 "${A[@]}" --colour red
bad plaque publicity --date 2024-03-01 --channel wechat --count 1 --plaque
expect_rc 2 w "$N" record meeting --date 2024-03-01
expect_in "$ERR" "meeting" "unknown kind is named"
check "head unchanged after unknown kind" [ "$(head_seq "$N")" = "$HEAD0" ]
expect_rc 2 w "$N" record
check "head unchanged after bare record" [ "$(head_seq "$N")" = "$HEAD0" ]
expect_rc 2 w "$N" record activity --date 2024-03-01 "${A[@]}" stray
check "head unchanged after stray argument" [ "$(head_seq "$N")" = "$HEAD0" ]
expect_rc 2 w "$N" record activity --date
check "head unchanged after flag without value" [ "$(head_seq "$N")" = "$HEAD0" ]

# --- the daemon still serves, and the log is intact ---------------------------------------
expect_rc 0 w "$N" record activity --date "$TODAY" --category volunteer_service \
    --service-kind traffic --title 交通引导 --team t1 --hours 1.25 --participants 0
expect_in "$OUT" "as seq $((HEAD0 + 1)) (epoch 1)" "a good record after all rejects takes the next seq"
expect_rc 0 w "$N" record activity --date 2000-01-01 "${A[@]}"
expect_rc 0 w "$N" verify
expect_rc 0 w "$N" status --json
check "records = head after rejects" python3 -c '
import json,sys; o=json.load(open(sys.argv[1])); assert o["records"] == o["head_seq"] == int(sys.argv[2]), o' \
    "$OUT" "$((HEAD0 + 2))"
check "daemon still running after all rejects" kill -0 "$DPID"

finish
