# SPDX-License-Identifier: MIT
# it_oldtier: binary rollups between builds (PROTOCOL.md §4, "Which form").
# The old build is commit OLD_REV (default e386baf, the last before binary
# rollups), built from this tree's git history like it_oldpeer's (shared
# cache BUILD_DIR/oldpeer; the two tests take the same resource lock).
#
#  A. An old county above a new town (5 stations, sim_town): the town
#     publishes 2024-05 in the JSON form (the old county's Welcome does not
#     list rollup-bin); the old county's rollup equals the stations'
#     records, and its audit of the new town finds 0 differ.
#  B. A new county above an old town: the old town publishes its JSON; the
#     new county's rollup equals the stations' records, and the new
#     county's audit (--child) of the old town finds 0 differ.
#
#   it_oldtier.sh WMCTL WMSYNCD SIM_TOWN SOURCE_DIR BUILD_DIR [OLD_REV]
#   Skips (exit 77) when SOURCE_DIR has no git history with OLD_REV, or the
#   old build cannot be made (it says why).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

SIM=${3:-}
SRC=${4:-}
BLD=${5:-}
REV=${6:-e386baf}
[ -x "$SIM" ] && [ -d "$SRC" ] && [ -d "$BLD" ] ||
    { echo "usage: $0 WMCTL WMSYNCD SIM_TOWN SOURCE_DIR BUILD_DIR [OLD_REV]" >&2; exit 2; }
old_build "$SRC" "$BLD" "$REV"
pass "old build $REV ready"
old() { WMCTL=$OLD_WMCTL WMSYNCD=$OLD_WMSYNCD "$@"; }

# equals_truth NODE TRUTH: NODE's rollup of 2024-05 (with the wmctl in
# $WMCTL) has every figure of the stations' records.
equals_truth() {
    w "$1" rollup --period 2024-05 --format json >"$T/eq.json" 2>"$T/why" || return 1
    "$TRUTH_EQUAL" "$T/eq.json" "$2" 2024-05 1 >"$T/why"
}

# tree COUNTY_RUNNER TOWN_RUNNER TAG: a county and a town under it, each
# run by `old` or `new`; the town's 5 stations synced. Sets C and TW.
new() { "$@"; }
init_as() { "$WMCTL" init "$@"; } # with the wmctl of the build that runs it
tree() {
    local cp tp
    cp=$(free_port) || { fail "no free port"; finish; }
    while :; do tp=$(free_port) || { fail "no free port"; finish; }; [ "$tp" != "$cp" ] && break; done
    C=$T/$3-county TW=$T/$3-town
    $1 init_as --role county --id xx --name 青山县 --dir "$C" \
        --listen "tcp://127.0.0.1:$cp" >/dev/null || { fail "$3: init county"; finish; }
    $2 init_as --role town --id xx/t --name 龙华镇 --dir "$TW" --listen "tcp://127.0.0.1:$tp" \
        --upstream "tcp://127.0.0.1:$cp" --upstream-key "$(town_key "$C")" >/dev/null ||
        { fail "$3: init town"; finish; }
    sed -i 's/^publish_at_close = yes/publish_at_close = no/' "$TW/wmsync.conf"
    $1 start_daemon "$C"
    wait_ready "$C" || finish
    $2 w "$TW" keys | $1 w "$C" enroll - >"$OUT" 2>"$ERR" || { fail "$3: enrol: $(cat "$ERR")"; finish; }
    $2 start_daemon "$TW"
    wait_ready "$TW" || finish
    "$SIM" "$TW" "$(town_key "$TW")" 5 2 "$T/$3-sim" "$T/$3-truth" >"$T/$3-sim.out" 2>&1 ||
        { fail "$3: sim_town: $(tail -2 "$T/$3-sim.out")"; finish; }
    pass "$3: a county and a town ($1 above $2), 5 stations synced"
}

# has_row NODE: NODE's rollup of 2024-05 has the town's row.
has_row() {
    w "$1" rollup --period 2024-05 --format json 2>"$T/why" |
        python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["stations"] else 1)'
}
publish_ok() { w "$1" publish --period 2024-05 >"$T/pub.out" 2>"$T/why"; }

# ---- A: an old county above a new town ----
tree old new a
poll 60 "A: the new town published 2024-05" publish_ok "$TW"
check "A: ... in the JSON form (the old county's Welcome has no rollup-bin)" \
    grep -q "published the rollup of 2024-05 as seq [0-9]*\$" "$TW/daemon.log"
check "A: ... and no binary part" [ "$(grep -c "(binary)" "$TW/daemon.log")" = 0 ]
poll 60 "A: the old county holds the town's report" old has_row "$C"
check "A: the old county's 2024-05 == the stations' records ($(old equals_truth "$C" "$T/a-truth"; cat "$T/why"))" \
    old equals_truth "$C" "$T/a-truth"
poll 30 "A: the old county sees the town ok" old row_is "$C" xx/t state ok
old expect_rc 0 w "$C" audit --town xx/t --period 2024-05
expect_in "$OUT" " 0 differ" "A: the old county's audit of the new town: 0 differ"

# ---- B: a new county above an old town ----
tree new old b
poll 60 "B: the old town published 2024-05" old publish_ok "$TW"
poll 60 "B: the new county holds the old town's report" has_row "$C"
check "B: the new county's 2024-05 == the stations' records ($(equals_truth "$C" "$T/b-truth"; cat "$T/why"))" \
    equals_truth "$C" "$T/b-truth"
poll 30 "B: the new county sees the old town ok" row_is "$C" xx/t state ok
expect_rc 0 w "$C" audit --child xx/t --period 2024-05
expect_in "$OUT" " 0 differ" "B: the new county's audit of the old town: 0 differ"

finish
