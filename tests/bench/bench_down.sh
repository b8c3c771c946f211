# SPDX-License-Identifier: MIT
# bench_down: the town's own log down to a station (feature "down"), over
# real daemons on loopback, beside the limit measured in the same run:
#  1. catch-up: a town whose own log holds M records (gen_log, default
#     20,000) and a fresh station that pinned it; from the station's start
#     until it holds the whole log: records/s, beside the single-core
#     Ed25519 verify rate (bench_ingest limits): the station checks every
#     record's own signature before its commit, so that rate bounds it;
#  2. the station's extra memory: the idle VmRSS of that station after
#     the catch-up, beside a station of the same town that pinned nothing
#     (both synced up, both idle long enough to give memory back).
#
# A benchmark, not a test: it prints figures and fails only if something
# cannot be set up or does not sync.
#
# Usage: bash tests/bench/bench_down.sh BUILD_DIR    (BENCH_DOWN_M: records)
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
set -- "$BUILD/cli/wmctl" "$BUILD/daemon/wmsyncd"
. "$HERE/../integration/lib.sh"
. "$HERE/../integration/it_sync_lib.sh"

M=${BENCH_DOWN_M:-20000}
PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town A=$T/a P=$T/plain
init_town "$TW" xx/longhua "$PORT" || finish
"$BUILD/tests/bench/gen_log" "$TW" "$M" >"$T/gen.out" || { fail "gen_log"; finish; }
w "$TW" keys >"$T/town.id"
"$WMCTL" init --role station --id xx/longhua/a --name 站a --dir "$A" \
    --upstream "tcp://127.0.0.1:$PORT" --upstream-id "$T/town.id" >/dev/null || finish
init_station "$P" xx/longhua/plain "$PORT" "$(town_key "$TW")" || finish
"$BUILD/tests/bench/bench_ingest" limits >"$T/limits" || { fail "bench_ingest limits"; finish; }
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$A" "$TW" && enroll "$P" "$TW" || finish

have() { st "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["down"].get("have_seq", 0))'; }

# 1 ----
t0=$(now_ms)
start_daemon "$A"
APID=$DPID
deadline=$((t0 + 300000))
until [ "$(have "$A")" = "$M" ] || [ "$(now_ms)" -ge "$deadline" ]; do sleep 0.05; done
t1=$(now_ms)
[ "$(have "$A")" = "$M" ] || { fail "the station did not receive the town's $M records"; finish; }
start_daemon "$P"
PPID_=$DPID
wait_ready "$P" "$PPID_" || finish
rec "$A" "a's record" && rec "$P" "plain's record" || finish
poll 30 "both stations synced up" synced "$TW" "$A" "$P"
python3 - "$t0" "$t1" "$M" "$(sed -n 's/^limit_verify_per_s //p' "$T/limits")" \
    "$(sed -n 's/.* records, \([0-9]*\) bytes.*/\1/p' "$T/gen.out")" <<'PY'
import sys
t0, t1, m, verify, rb = map(float, sys.argv[1:])
s = (t1 - t0) / 1000
print("down catch-up: %d records of the town's log (%d bytes signed) to a fresh station in %.2f s "
      "(daemon start included): %.0f records/s" % (m, rb, s, m / s))
print("   limit: one core verifies %.0f Ed25519 signatures/s; the station reaches %.2f of it" % (
    verify, m / s / verify))
PY

# 2 ---- idle (a station idle 2 s gives memory back: wait for it)
sleep 4
ra=$(awk '/^VmRSS:/ {print $2}' "/proc/$APID/status")
rp=$(awk '/^VmRSS:/ {print $2}' "/proc/$PPID_/status")
echo "station idle VmRSS: with the town's log of $M records held $((ra / 1024)).$(((ra % 1024) * 10 / 1024)) MiB" \
    "($ra KiB), without a pin $((rp / 1024)).$(((rp % 1024) * 10 / 1024)) MiB ($rp KiB):" \
    "extra $((ra - rp)) KiB, ratio $(python3 -c "print('%.2f' % ($ra / $rp))")"
stop_daemon "$APID" TERM >/dev/null
stop_daemon "$PPID_" TERM >/dev/null
stop_daemon "$TPID" TERM >/dev/null
finish
