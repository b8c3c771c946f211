# SPDX-License-Identifier: MIT
# it_oldpeer: this build against a build from before compressed batches and
# wall clocks (PROTOCOL.md §7: a peer of any build keeps syncing with a
# peer of any other). The old build is commit OLD_REV (default e386baf, the
# last commit before them), taken from this source tree's git history with
# `git archive` and built here (wmsyncd and wmctl, ~15 s; kept in
# BUILD_DIR/oldpeer for the next run).
#
#  1. An old station under a new town, and a new station beside it, each
#     holding a month when the town comes up: both converge (verified);
#     the town's row for the old one says no zstd and no clock offset (its
#     HELLO has neither features nor a time), the new one zstd.
#  2. A new station under an old town: converges, no zstd, no clock offset
#     (the old WELCOME carries no time).
#     2b. An activity with a sign-in sheet (Activity.attachments, field
#     20) from the new station: the old town stores, verifies and counts it.
#  4. Feature "down" (the town's own log to its children): the new town
#     writes a notice; the old station, whose HELLO lists no "down", is
#     sent nothing new and keeps syncing up. The new station under the old
#     town pins it (wmctl upstream-id): it lists "down", the old town's
#     WELCOME does not, so it asks for nothing, receives nothing, and keeps
#     syncing up.
#  3. Records of the new header field: a new station whose clock runs a
#     year ahead (faketime) learns its offset from the new town, then is
#     moved to the old town (enrolled at both, its upstream changed): the
#     records it writes there carry Record.clock_offset_s, which the old
#     build does not know; the old town stores and verifies them (rule 1:
#     unknown fields travel and verify).
#
#   it_oldpeer.sh WMCTL WMSYNCD SOURCE_DIR BUILD_DIR [OLD_REV]
#   Skips (exit 77) when SOURCE_DIR has no git history or OLD_REV, or the
#   old build cannot be made (it says why).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

SRC=${3:-}
BLD=${4:-}
REV=${5:-e386baf}
[ -d "$SRC" ] && [ -d "$BLD" ] || { echo "usage: $0 WMCTL WMSYNCD SOURCE_DIR BUILD_DIR [OLD_REV]" >&2; exit 2; }
old_build "$SRC" "$BLD" "$REV"
NEW_WMSYNCD=$WMSYNCD NEW_WMCTL=$WMCTL
pass "old build $REV ready"

# old CMD...: runs CMD with the old wmctl and wmsyncd as WMCTL and WMSYNCD.
old() { WMCTL=$OLD_WMCTL WMSYNCD=$OLD_WMSYNCD "$@"; }

PORT=$(free_port) || { fail "no free port"; finish; }
PORT2=$(free_port) || { fail "no free port"; finish; }
TW=$T/town OT=$T/oldtown OS=$T/olds NS=$T/news NO=$T/newo NX=$T/newx
init_town "$TW" xx/longhua "$PORT" || finish
old init_town "$OT" xx/oldtown "$PORT2" || finish
old init_station "$OS" xx/longhua/olds "$PORT" "$(town_key "$TW")" || finish
init_station "$NS" xx/longhua/news "$PORT" "$(town_key "$TW")" || finish
init_station "$NO" xx/oldtown/newo "$PORT2" "$(town_key "$OT")" || finish
init_station "$NX" xx/longhua/newx "$PORT" "$(town_key "$TW")" || finish

start_daemon "$TW"
TPID=$DPID
old start_daemon "$OT"
OPID=$DPID
wait_ready "$TW" "$TPID" && wait_ready "$OT" "$OPID" || finish
enroll "$OS" "$TW" && enroll "$NS" "$TW" && enroll "$NX" "$TW" || finish
old enroll "$NO" "$OT" || finish
w "$NX" keys | old w "$OT" enroll - >"$OUT" 2>"$ERR" ||
    fail "enrol newx at the old town: $(cat "$ERR")"
stop_daemon "$TPID" TERM
stop_daemon "$OPID" TERM
old start_daemon "$OS"
wait_ready "$OS" "$DPID" || finish
for d in "$NS" "$NO"; do
    start_daemon "$d"
    wait_ready "$d" "$DPID" || finish
done
NOPID=$DPID
old rec_month "$OS" 60
rec_month "$NS" 60
rec_month "$NO" 60

# ---- 1, 2 ----
start_daemon "$TW"
TPID=$DPID
old start_daemon "$OT"
OPID=$DPID
wait_ready "$TW" "$TPID" && wait_ready "$OT" "$OPID" || finish
poll 40 "new town caught up with the old and the new station" synced "$TW" "$OS" "$NS"
poll 20 "the old station's records verified at the new town" row_is "$TW" xx/longhua/olds unverified 0
poll 20 "the new station's records verified at the new town" row_is "$TW" xx/longhua/news unverified 0
check "new town: the old station uses no zstd" row_is "$TW" xx/longhua/olds zstd false
check "new town: the new station uses zstd" row_is "$TW" xx/longhua/news zstd true
check "new town: no clock offset for the old station (no time in its HELLO)" \
    row_is "$TW" xx/longhua/olds clock_offset_s null
poll 40 "old town caught up with the new station" old synced "$OT" "$NO"
check "new station under the old town: no zstd" [ "$(jget "$(st "$NO")" zstd)" = false ]
check "new station under the old town: no clock offset (no time in the WELCOME)" \
    [ "$(jget "$(st "$NO")" clock_offset_s)" = null ]

# ---- 2b ----
# An activity with evidence (Activity.attachments, record.proto field 20,
# which the old build does not know) from the new station: the old town
# stores it, verifies it and counts it, the field ignored in the signed bytes.
lecture() { old w "$OT" rollup --period 2024-03 --format json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["activities"]["theme_lecture"])'; }
BEFORE=$(lecture)
printf '%%PDF-1.4\n%%%%EOF\n' >"$T/sheet.pdf"
expect_rc 0 w "$NO" record activity --date 2024-03-28 --category theme_lecture --title 有签到表 \
    --attach "$T/sheet.pdf"
poll 40 "the old town stores the activity with its sign-in sheet" old synced "$OT" "$NO"
poll 20 "and verifies its signature" old row_is "$OT" xx/oldtown/newo unverified 0
check "and counts it (theme lectures $BEFORE, then $(lecture))" [ "$(lecture)" = $((BEFORE + 1)) ]
# ---- 4 ----
expect_rc 0 w "$TW" notice send --title 新镇通知 --body x
old rec "$OS" "old station after the new town's notice" || finish
poll 20 "the old station still syncs up to the new town" synced "$TW" "$OS"
check "new town: the old station never asked for its log" row_is "$TW" xx/longhua/olds down_at 0
old w "$OT" keys >"$T/oldtown.id" 2>"$ERR" || fail "old town keys: $(cat "$ERR")"
expect_rc 0 w "$NO" upstream-id "$T/oldtown.id"
stop_daemon "$NOPID" TERM
start_daemon "$NO"
wait_ready "$NO" "$DPID" || finish
rec "$NO" "new station pinned under the old town" || finish
poll 30 "the pinned new station still syncs up to the old town" old synced "$OT" "$NO"
check "it receives nothing from the old town" \
    [ "$(st "$NO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["down"]["have_seq"])')" = 0 ]

# ---- 3 ----
# The daemon itself (exec: same pid) with libfaketime preloaded, a year ahead.
LIBFT=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
printf '#!/bin/sh\nexec env LD_PRELOAD=%s FAKETIME=+365d DONT_FAKE_MONOTONIC=1 FAKETIME_DONT_FAKE_MONOTONIC=1 %s "$@"\n' \
    "$LIBFT" "$NEW_WMSYNCD" >"$T/fake-wmsyncd"
chmod +x "$T/fake-wmsyncd"
if [ -z "$LIBFT" ]; then
    echo "it_oldpeer: part 3 skipped: libfaketime (Debian package faketime) is not installed"
else
    WMSYNCD=$T/fake-wmsyncd start_daemon "$NX"
    XPID=$DPID
    wait_ready "$NX" "$XPID" || finish
    if ! grep -q "^$(($(date +%Y) + 1))-" "$NX/daemon.log"; then
        echo "it_oldpeer: part 3 skipped: libfaketime does not reach this wmsyncd (an emulator?)"
        finish
    fi
    poll 20 "newx (+1 year) connected to the new town" field_is "$NX" connected true
    stop_daemon "$XPID" TERM
    sed -i "s#^upstream = .*#upstream = tcp://127.0.0.1:$PORT2#; s#^upstream_key = .*#upstream_key = $(town_key "$OT")#" \
        "$NX/wmsync.conf"
    WMSYNCD=$T/fake-wmsyncd start_daemon "$NX"
    wait_ready "$NX" "$DPID" || finish
    rec_n "$NX" 3 fieldeight
    w "$NX" log --json >"$OUT" 2>"$ERR"
    check "newx's records carry clock_offset_s (a year)" python3 -c 'import json, sys
offs = [json.loads(l).get("clock_offset_s", json.loads(l).get("clockOffsetS", 0)) for l in open(sys.argv[1])]
sys.exit(not (len(offs) == 3 and all(abs(int(o) - 31536000) < 60 for o in offs)))' "$OUT"
    poll 30 "the old town stores them" old synced "$OT" "$NX"
    poll 20 "and verifies each one's signature" old row_is "$OT" xx/longhua/newx unverified 0
fi
finish
