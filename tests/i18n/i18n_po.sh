#!/bin/bash
# SPDX-License-Identifier: MIT
# i18n_po SRC WMCTL WMSYNCD: the translations are complete and found.
#  1. xgettext over today's sources (po/xgettext.sh), merged with each
#     po/LANG.po: no marked message without a translation, none fuzzy, and
#     msgfmt --check (printf formats, header) passes. A message someone
#     marks tomorrow without translating it fails here.
#  2. The uninstalled binaries find the build tree's catalogues beside
#     them (no WMSYNC_LOCALEDIR): Chinese under LANG=zh_CN.UTF-8, English
#     under LANG=C and where WMSYNC_LOCALEDIR names an empty directory.
set -u
SRC=$1
WMCTL=$2
WMSYNCD=$3
T=$(mktemp -d /tmp/wmpo.XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT
FAILED=0
PASSED=0
ok() { PASSED=$((PASSED + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }

sh "$SRC/po/xgettext.sh" "$SRC" "$T/wmsync.pot" || { echo "xgettext failed" >&2; exit 1; }
total=$(msgattrib --no-obsolete "$T/wmsync.pot" | grep -c '^msgid ')
total=$((total - 1)) # the header
for lang in $(grep -v '^#' "$SRC/po/LINGUAS"); do
    msgmerge --quiet --no-fuzzy-matching "$SRC/po/$lang.po" "$T/wmsync.pot" -o "$T/$lang.po" ||
        { bad "msgmerge $lang.po"; continue; }
    msgattrib --untranslated --no-obsolete --no-wrap "$T/$lang.po" -o "$T/$lang.untr"
    msgattrib --only-fuzzy --no-obsolete --no-wrap "$T/$lang.po" -o "$T/$lang.fuzzy"
    untr=$( (grep -c '^msgid ' "$T/$lang.untr" 2>/dev/null || true) | head -1)
    [ -s "$T/$lang.untr" ] && untr=$((untr - 1)) || untr=0
    fuzzy=$( (grep -c '^msgid ' "$T/$lang.fuzzy" 2>/dev/null || true) | head -1)
    [ -s "$T/$lang.fuzzy" ] && fuzzy=$((fuzzy - 1)) || fuzzy=0
    stats=$(msgfmt --check --statistics -o /dev/null "$T/$lang.po" 2>&1)
    echo "$lang: $total marked messages; msgfmt: $stats"
    if [ "$untr" -eq 0 ]; then ok; else
        bad "$lang.po: $untr marked message(s) without a translation (add them to po/$lang.po; cmake --build build --target po-update merges the template):"
        grep -A3 '^msgid ' "$T/$lang.untr" | grep -v '^msgstr ""$' | sed -n '3,40p' >&2
    fi
    if [ "$fuzzy" -eq 0 ]; then ok; else bad "$lang.po: $fuzzy fuzzy translation(s) to review"; fi
    if msgfmt --check -o /dev/null "$T/$lang.po"; then ok; else bad "msgfmt --check $lang.po"; fi
    obsolete=$(grep -c '^#~ msgid' "$SRC/po/$lang.po" || true)
    if [ "$obsolete" -eq 0 ]; then ok; else bad "$lang.po keeps $obsolete obsolete entries (#~): drop them"; fi
done

# 2. Where the binaries find their catalogues.
han() { LC_ALL=C.UTF-8 grep -qP '\p{Han}' "$1"; }
if ! locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
    bad "the zh_CN.UTF-8 locale is not installed: run packaging/deps.sh (it generates it)"
else
    env -u WMSYNC_LOCALEDIR -u LC_ALL -u LANGUAGE -u LC_MESSAGES LANG=zh_CN.UTF-8 "$WMCTL" help >"$T/zh" 2>&1
    if han "$T/zh" && grep -q '用法' "$T/zh"; then ok; else bad "wmctl help under zh_CN.UTF-8 is not Chinese: $(head -3 "$T/zh")"; fi
    env -u WMSYNC_LOCALEDIR -u LC_ALL -u LANGUAGE -u LC_MESSAGES LANG=zh_CN.UTF-8 "$WMSYNCD" --help >"$T/zhd" 2>&1
    if grep -q '用法' "$T/zhd"; then ok; else bad "wmsyncd --help under zh_CN.UTF-8 is not Chinese: $(head -3 "$T/zhd")"; fi
    mkdir -p "$T/empty"
    env -u LC_ALL -u LANGUAGE -u LC_MESSAGES WMSYNC_LOCALEDIR="$T/empty" LANG=zh_CN.UTF-8 "$WMCTL" help >"$T/none" 2>&1
    if grep -q '^usage: wmctl' "$T/none"; then ok; else bad "WMSYNC_LOCALEDIR=empty dir does not fall back to English: $(head -2 "$T/none")"; fi
fi
env -u WMSYNC_LOCALEDIR -u LC_ALL -u LANGUAGE -u LC_MESSAGES LANG=C "$WMCTL" help >"$T/c" 2>&1
if grep -q '^usage: wmctl' "$T/c" && ! han "$T/c"; then ok; else bad "wmctl help under LANG=C is not English: $(head -3 "$T/c")"; fi

echo "i18n_po: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
