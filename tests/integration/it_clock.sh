# SPDX-License-Identifier: MIT
# it_clock: stations with wrong wall clocks (libfaketime, per process, with
# DONT_FAKE_MONOTONIC=1: the machine's clock is never touched) still record
# and sync, and every side says so (PROTOCOL.md §2, §3).
#
#  A's clock starts at 1970-01-02 (a dead clock battery); B's runs a year
#  ahead. Both daemons and their wmctl run under faketime; the town runs on
#  the real clock.
#  1. Both connect and show their clock offset (A about -56 years, B about
#     +365 days); the town's rows show the same.
#  2. Each records yesterday's activity (A's clock cannot tell "after
#     tomorrow": the check is skipped) and a publicity; both sync, and the
#     town verifies them.
#  3. The town flags them (implausible capture times) and counts no late
#     entry: each record carries its station's clock error, and the rollup
#     judges by the corrected time. B's record says its clock_offset_s.
#  4. A second town's own wall clock jumps back a year while it runs
#     (libfaketime reading its offset from a file): its timers are
#     monotonic, so it still stores what its station says within seconds
#     (fails with the peers' flush timed on the wall clock).
#
#   it_clock.sh WMCTL WMSYNCD      (skips, exit 77, without faketime)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

LIBFT=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
if [ -z "$LIBFT" ]; then
    echo "it_clock: SKIP: faketime (Debian package faketime) is not installed"
    exit 77
fi
REAL_WMSYNCD=$WMSYNCD REAL_WMCTL=$WMCTL

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town A=$T/a B=$T/b
init_town "$TW" xx/longhua "$PORT" || finish
init_station "$A" xx/longhua/a "$PORT" "$(town_key "$TW")" || finish
init_station "$B" xx/longhua/b "$PORT" "$(town_key "$TW")" || finish
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$A" "$TW" && enroll "$B" "$TW" || finish

# fake NAME SPEC PROGRAM: a script $T/NAME that execs PROGRAM (same pid:
# signals and kill -9 reach the daemon itself) with libfaketime preloaded
# and the clock SPEC (FAKETIME: "@DATE TIME" starts there and runs, "+365d"
# is an offset), the monotonic clock left real.
fake() {
    printf '#!/bin/sh\nexec env LD_PRELOAD=%s FAKETIME=%s DONT_FAKE_MONOTONIC=1 FAKETIME_DONT_FAKE_MONOTONIC=1 %s "$@"\n' \
        "$LIBFT" "'$2'" "$3" >"$T/$1"
    chmod +x "$T/$1"
}
fake a-wmsyncd '@1970-01-02 00:00:00' "$REAL_WMSYNCD"
fake a-wmctl '@1970-01-02 00:00:00' "$REAL_WMCTL"
fake b-wmsyncd '+365d' "$REAL_WMSYNCD"
fake b-wmctl '+365d' "$REAL_WMCTL"
fake a-date '@1970-01-02 00:00:00' "$(command -v date)"
if [ "$("$T/a-date" +%Y)" != 1970 ]; then
    echo "it_clock: SKIP: faketime does not fake the clock here"
    exit 77
fi
for s in a b; do
    WMSYNCD=$T/$s-wmsyncd start_daemon "$T/$s"
    wait_ready "$T/$s" "$DPID" || finish
done
# The daemon's own log lines carry its wall clock: an emulator (qemu-user
# runs the daemon's system calls itself) is not reached by libfaketime.
if ! grep -q '^1970-' "$A/daemon.log"; then
    echo "it_clock: SKIP: libfaketime does not reach this wmsyncd (run under an emulator?): $(head -1 "$A/daemon.log")"
    exit 77
fi

# ---- 1 ----
poll 20 "A (1970) connected" field_is "$A" connected true
poll 20 "B (+1 year) connected" field_is "$B" connected true
# near WANT TOL VALUE: |VALUE - WANT| <= TOL
near() { python3 -c 'import sys; w, t, v = map(float, sys.argv[1:]); sys.exit(not abs(v - w) <= t)' "$@"; }
YEAR=$((365 * 86400))
AOFF=$(jget "$(st "$A")" clock_offset_s)
BOFF=$(jget "$(st "$B")" clock_offset_s)
NOW=$(date +%s)
check "A shows its clock about $((86400 - NOW)) s off ($AOFF)" near $((86400 - NOW)) 120 "$AOFF"
check "B shows its clock a year ahead ($BOFF)" near "$YEAR" 30 "$BOFF"
# known ID: the town's status has ID's clock offset (stored within 2 s).
known() { case $(town_row "$TW" "$1" clock_offset_s) in absent | null) return 1 ;; esac; }
poll 10 "the town shows A's offset" known xx/longhua/a
poll 10 "the town shows B's offset" known xx/longhua/b
check "the town shows A about $((86400 - NOW)) s off" near $((86400 - NOW)) 120 "$(town_row "$TW" xx/longhua/a clock_offset_s)"
check "the town shows B a year ahead" near "$YEAR" 30 "$(town_row "$TW" xx/longhua/b clock_offset_s)"
w "$TW" status >"$OUT" 2>&1
check "the town's status text says a clock is WRONG" grep -q "WRONG, set the date and time" "$OUT"
check "A's log warns its operator" grep -q "clock is .* behind the aggregator" "$A/daemon.log"

# ---- 2 ----
DAY=$(date -d yesterday +%F)
for s in a b; do
    expect_rc 0 "$T/$s-wmctl" -c "$T/$s/wmsync.conf" record activity --date "$DAY" \
        --category theme_lecture --title "理论宣讲 $s" --participants 30
    if [ "$s" = a ]; then
        expect_in "$ERR" "warning: this computer's clock says 1970-01-0" "A's wmctl record warns of the clock"
    else
        check "B's wmctl record gives no warning (its clock is after 2020)" [ ! -s "$ERR" ]
    fi
    expect_rc 0 "$T/$s-wmctl" -c "$T/$s/wmsync.conf" record publicity --date "$DAY" \
        --channel wechat --count 5
done
poll 30 "A and B synced" synced "$TW" "$A" "$B"
poll 20 "A's records verified at the town" row_is "$TW" xx/longhua/a unverified 0
poll 20 "B's records verified at the town" row_is "$TW" xx/longhua/b unverified 0

# ---- 3 ----
poll 10 "the town flagged A's 2 records" row_is "$TW" xx/longhua/a flagged 2
poll 10 "the town flagged B's 2 records" row_is "$TW" xx/longhua/b flagged 2
w "$B" log --json >"$OUT" 2>"$ERR"
check "B's record carries its clock error" near "$YEAR" 30 \
    "$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("kind") == "activity":
        print(r.get("clockOffsetS", r.get("clock_offset_s", 0)))' "$OUT")"
MONTH=${DAY%-*}
expect_rc 0 w "$TW" rollup --period "$MONTH" --format json --out "$T/r.json"
check "the town's rollup of $MONTH counts no late entry" python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
late = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "late_entries" and isinstance(v, int):
                late.append(v)
            if k == "kind" and v == "late_entries":
                late.append(1)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(j)
print("late_entries seen:", late, file=sys.stderr)
sys.exit(not (late and max(late) == 0))' "$T/r.json"

# ---- 4: the town's own wall clock jumps back a year while it runs ----
# Its timers run on the monotonic clock: the peers' flush (every 2 s)
# goes on, so the town still stores what a station says after the jump
# (here: its clock offset, now a year), where a wall-clock timer would
# wait a year.
PORT2=$(free_port) || { fail "no free port"; finish; }
TW2=$T/town2 C=$T/c
init_town "$TW2" xx/jumptown "$PORT2" || finish
init_station "$C" xx/jumptown/c "$PORT2" "$(town_key "$TW2")" || finish
echo "+0" >"$T/town2.time"
printf '#!/bin/sh\nexec env LD_PRELOAD=%s FAKETIME_TIMESTAMP_FILE=%s FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 FAKETIME_DONT_FAKE_MONOTONIC=1 %s "$@"\n' \
    "$LIBFT" "$T/town2.time" "$REAL_WMSYNCD" >"$T/town2-wmsyncd"
chmod +x "$T/town2-wmsyncd"
WMSYNCD=$T/town2-wmsyncd start_daemon "$TW2"
wait_ready "$TW2" "$DPID" || finish
enroll "$C" "$TW2" || finish
start_daemon "$C"
CPID=$DPID
wait_ready "$C" "$CPID" || finish
# offset2 WANT: town2 stores C's clock offset within 60 s of WANT.
offset2() { near "$1" 60 "$(town_row "$TW2" xx/jumptown/c clock_offset_s | sed 's/null/1e12/')"; }
poll 10 "town2 stores C's clock offset, about 0" offset2 0
stop_daemon "$CPID" TERM
echo "-365d" >"$T/town2.time"
start_daemon "$C"
wait_ready "$C" "$DPID" || finish
poll 20 "C connected again" field_is "$C" connected true
poll 10 "town2, its clock now a year back, still stores C's new offset (+1 year) within seconds" \
    offset2 "$YEAR"
UP=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["daemon"]["uptime_s"])' "$(st "$TW2")")
check "town2's uptime did not run backwards with its clock ($UP s)" [ "$UP" -ge 0 ]
finish
