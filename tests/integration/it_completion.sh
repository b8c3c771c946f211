#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# it_completion: the bash completion of wmctl (packaging/completion/wmctl)
# offers the commands, record kinds, each command's options, the values of
# --category, --service-kind, --channel, --kind, --role, --format, --lang
# and --period, and files for -c, bundle import, restore, --out and --keys. Needs no daemon; arguments (wmctl, wmsyncd paths)
# are accepted and ignored so it runs like the other integration scripts.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
COMPLETION=$HERE/../../packaging/completion/wmctl
PASSED=0
FAILED=0
T=$(mktemp -d /tmp/wmcomp.XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT

# shellcheck disable=SC1090,SC1091
source "$COMPLETION" || { echo "FAIL: cannot source $COMPLETION" >&2; exit 1; }
complete -p wmctl >/dev/null || { echo "FAIL: no completion registered for wmctl" >&2; exit 1; }

# expect "WANTED REPLY" WORD...: completes the last WORD and compares the
# sorted replies with WANTED (space separated, any order).
expect() {
    local want=$1 got
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _wmctl
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
    local -a w
    read -ra w <<<"$want"
    want=$(printf '%s\n' "${w[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
    if [ "$got" = "$want" ]; then
        PASSED=$((PASSED + 1))
    else
        FAILED=$((FAILED + 1))
        echo "FAIL: [$*]: want '$want', got '$got'" >&2
    fi
}

expect "init record log verify status keys enroll upstream-id revoke bundle rollup report publish audit backup restore rekey export user web-cert need order notice blob help" \
    wmctl ""
expect "create list accept done rate cancel" wmctl order ""
expect "add list review" wmctl need ""
expect "--open" wmctl order create --op
expect "environmental science legal campus_safety traffic assistance other" \
    wmctl order create --open --service-kind ""
expect "--score --comment --date --json" wmctl order rate xx/t:1:2 ""
expect "--title --body --to --date --json" wmctl notice send ""
expect "add passwd del list" wmctl user ""
expect "" wmctl user add ""
expect "--role --password-stdin" wmctl user add op1 ""
expect "viewer operator admin" wmctl user add op1 --role ""
expect "--json" wmctl user list ""
expect "--host --days --force" wmctl web-cert ""
expect "record revoke restore rekey report" wmctl re
expect "status" wmctl -c /etc/wmsync/wmsync.conf st
expect "-c --config -h --help" wmctl -
expect "activity publicity volunteers recruitment team funding site plan plan-done void" \
    wmctl record ""
expect "--category" wmctl record activity --cat
expect "theme_lecture theory_education party_training civilization_practice culture_sports volunteer_service" \
    wmctl record activity --category ""
expect "volunteer_service" wmctl record activity --date 2024-03-12 --category vol
expect "environmental science legal campus_safety traffic assistance other" \
    wmctl record activity --category volunteer_service --service-kind ""
expect "wechat website poster leaflet" wmctl record publicity --channel ""
expect "general branch" wmctl record team --team youth --kind ""
expect "station town county city province" wmctl init --role ""
expect "--category=theme_lecture --category=theory_education" wmctl record activity --category=the
# used options are not offered again, except the repeatable --festival and --photo
expect "--date --service-kind --team --participants --volunteers --hours --place --festival --tag --photo --attach --json" \
    wmctl record activity --category theme_lecture --title 主题宣讲 ""
expect "--festival" wmctl record activity --festival 春节 --fe
expect "--photo" wmctl record activity --photo a.jpg --attach s.pdf --ph
expect "" wmctl record activity --attach s.pdf --att
expect "get prune fetch" wmctl blob ""
expect "" wmctl blob get ""
expect "--out --thumb --force" wmctl blob get 5fb5a17d ""
expect "" wmctl blob fetch ""
expect "--child --path --chunk --out --force" wmctl blob fetch 5fb5a17d ""
# --plan is a flag of site, a value of plan-done
expect "--date --plaque --rules --equipment --manager --ledger --theme --model --json" \
    wmctl record site --plan ""
expect "" wmctl record plan-done --plan ""
expect "--from --epoch --json" wmctl log ""
expect "--json" wmctl status ""
expect "--after --compromised --id" wmctl revoke ""
expect "export import" wmctl bundle ""
expect "--out --since --epoch --no-blobs --force" wmctl bundle export ""
expect "status" wmctl help st
expect "--station --json" wmctl verify ""
# reports, the county, backup and keys
expect "--period --station --format --out --lang --force" wmctl rollup ""
expect "table json csv xlsx" wmctl rollup --period 2024-05 --format ""
expect "--format=csv" wmctl rollup --format=c
expect "--station --lang --out --force" wmctl report --period 2024-05 ""
expect "zh en" wmctl report --period 2024-05 --lang ""
expect "$(date +%Y-%m)" wmctl rollup --period "$(date +%Y-%m)"
expect "--period" wmctl publish ""
expect "--child --town --period --keys --with-evidence --json" wmctl audit ""
expect "--child --town --period --keys --json" wmctl audit --with-evidence ""
expect "--out --force" wmctl backup ""
expect "--period --station --format --lang" wmctl rollup --out r.csv --force ""
expect "--new-epoch" wmctl restore /media/usb/xinhe.wmbak ""
expect "" wmctl restore /media/usb/xinhe.wmbak --new-epoch ""
expect "--transport" wmctl rekey ""
expect "--postgres --since --follow" wmctl export ""
expect "--postgres --since" wmctl export --follow ""
expect "" wmctl rekey --transport ""

# files: -c, bundle import, enroll
mkdir -p "$T/town"
touch "$T/town/wmsync.conf" "$T/xinhe.wmb" "$T/xinhe.id" "$T/backup-0306.wmbak" "$T/keys.txt"
expect "$T/town/wmsync.conf" wmctl -c "$T/town/wm"
expect "$T/xinhe.wmb" wmctl -c "$T/town/wmsync.conf" bundle import "$T/xinhe.w"
expect "$T/xinhe.id" wmctl enroll "$T/xinhe.i"
expect "$T/xinhe.id" wmctl upstream-id "$T/xinhe.i"
expect "--reset-fork --forks" wmctl upstream-id --
expect "--json" wmctl upstream-id --forks ""
expect "" wmctl upstream-id --reset-fork ""
expect "$T/xinhe.id" wmctl init --upstream-id "$T/xinhe.i"
expect "$T/xinhe.wmb" wmctl bundle export --out "$T/xinhe.w"
expect "$T/backup-0306.wmbak" wmctl restore "$T/backup-"
expect "$T/keys.txt" wmctl audit --town xx-county/longhua --keys "$T/keys"
expect "$T/backup-0306.wmbak" wmctl rollup --period 2024-05 --out "$T/backup-"

echo "it_completion: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
