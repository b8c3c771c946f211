#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# it_identity: the identity line of PROTOCOL.md §6 as `keys` writes it and
# `enroll` reads it. NAME is the rest of the line (spaces kept, a name that
# begins with "from=" is not taken for the from= token); from=N is a whole
# number 1 … 4294967295 or the line is refused; `keys --json` has exactly
# the documented fields.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
init_town "$TW" xx/t "$PT" || finish
start_daemon "$TW"; wait_ready "$TW" || finish

# station DIR ID NAME: a station node with that display name.
station() { "$WMCTL" init --role station --id "$2" --name "$3" --dir "$1" >/dev/null || fail "init $1"; }

station "$T/a" xx/t/a "新河 村  文明 实践站"
station "$T/b" xx/t/b "from=5 村"
w "$T/a" keys >"$T/a.id"; w "$T/b" keys >"$T/b.id"
expect_rc 0 w "$TW" enroll "$T/a.id"
check "a name with spaces is enrolled whole" [ "$(town_row "$TW" xx/t/a name)" = "新河 村  文明 实践站" ]
expect_in "$T/b.id" " from=1 from=5 村" "a name beginning with from= gets the from= token before it"
expect_rc 0 w "$TW" enroll "$T/b.id"
check "... and is enrolled whole" [ "$(town_row "$TW" xx/t/b name)" = "from=5 村" ]

# A hand-made line: KEYS from=VALUE.
hex() { printf "$1%.0s" $(seq 1 32); }
for bad in 0 99999999999 4294967296 x -1 "" 3x; do
    echo "wmsync-id 1 station xx/t/c $(hex ab) $(hex cd) from=$bad 站" >"$T/c.id"
    expect_rc 2 w "$TW" enroll "$T/c.id"
done
check "no line with a bad from= was enrolled" [ "$(town_row "$TW" xx/t/c name)" = absent ]
echo "wmsync-id 1 station xx/t/c $(hex ab) $(hex cd) from=4294967295 站 c" >"$T/c.id"
expect_rc 0 w "$TW" enroll "$T/c.id"
check "from=4294967295 is a valid epoch" [ "$(town_row "$TW" xx/t/c name)" = "站 c" ]

w "$T/a" keys --json >"$T/a.json"
check "keys --json has exactly the documented fields" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
want = {"id": str, "name": str, "role": str, "sign_pub": str, "curve_pub": str, "from_epoch": int}
sys.exit(0 if set(j) == set(want) and all(isinstance(j[k], t) for k, t in want.items())
         and j["from_epoch"] == 1 and j["name"] == "新河 村  文明 实践站" else 1)' "$T/a.json"
echo '{"id":"xx/t/d","name":"d","role":"station","sign_pub":"'"$(hex ab)"'","curve_pub":"'"$(hex ce)"'","from_epoch":4294967296}' >"$T/d.id"
expect_rc 2 w "$TW" enroll "$T/d.id"
finish
