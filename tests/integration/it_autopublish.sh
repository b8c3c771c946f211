#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A town with publish_at_close = yes publishes the rollup of the month that
# has just closed by itself, once: the county receives it without anyone
# running wmctl publish, and a restart does not publish it again.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PC=$(free_port) && PT=$(free_port) || { fail "no free port"; finish; }
C=$T/county; TW=$T/town
"$WMCTL" init --role county --id xx --name 县 --dir "$C" --listen "tcp://127.0.0.1:$PC" >/dev/null ||
    { fail "init county"; finish; }
"$WMCTL" init --role town --id xx/t --name 镇 --dir "$TW" --listen "tcp://127.0.0.1:$PT" \
    --upstream "tcp://127.0.0.1:$PC" --upstream-key "$(cat "$C/keys/curve.pub")" >/dev/null ||
    { fail "init town"; finish; }
check "a new town publishes at month close by default" grep -q '^publish_at_close = yes' "$TW/wmsync.conf"
start_daemon "$C"; CPID=$DPID; wait_ready "$C" || finish
w "$TW" keys | w "$C" enroll - >/dev/null || fail "enrol the town"
start_daemon "$TW"; TPID=$DPID; wait_ready "$TW" || finish

# The month before this one, as the daemon computes it.
last_month=$(python3 -c 'import datetime; d = datetime.date.today().replace(day=1) - datetime.timedelta(days=1); print(d.strftime("%Y-%m"))')

reported() {
    w "$C" rollup --period "$last_month" --format json 2>/dev/null |
        python3 -c 'import json, sys; j = json.load(sys.stdin); sys.exit(0 if j["stations"] and not [p for p in j["problems"] if p["kind"] == "town_not_reported"] else 1)'
}
poll 20 "the county holds the town's rollup of $last_month without a publish command" reported

town_seq() { w "$TW" status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["head_seq"])'; }
check "the town's own log holds exactly that report" [ "$(town_seq)" = 1 ]
w "$TW" log --json | grep -q "\"period\":\"$last_month\"" && pass "its period is $last_month" ||
    fail "the town's report is not of $last_month"
stop_daemon "$TPID"
start_daemon "$TW"; TPID=$DPID; wait_ready "$TW" || finish
check "a restart does not publish the same month again" [ "$(town_seq)" = 1 ]
finish
