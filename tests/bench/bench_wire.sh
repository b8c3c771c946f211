# SPDX-License-Identifier: MIT
#
# Bytes on the wire per record between real daemons, with and without
# compressed batches (feature "zstd", PROTOCOL.md §7.1), for a realistic
# month of a station (120 records, as it_wire records them): a town and two
# stations, Z (compress = yes, the default) and P (compress = no), each
# holding the month when the town comes up. Printed per station:
#   - as `wmctl status` counts the link (sync messages, CURVE and ZMTP
#     framing; not the handshake or TCP/IP headers);
#   - as TCP carried it (`ss -ti` bytes_sent + bytes_received of the
#     station's connection: the ZMTP/CURVE handshake, every message and
#     ZMTP heartbeat included; TCP/IP headers not);
# and the ratio Z / P of each beside the target (<= 0.60).
#
# A benchmark, not a test: it prints figures and fails only if something
# cannot be set up or does not sync.
#
# Usage: bash tests/bench/bench_wire.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
IT=$(cd "$(dirname "$0")/../integration" && pwd)
set -- "$BUILD/cli/wmctl" "$BUILD/daemon/wmsyncd"
. "$IT/lib.sh"
. "$IT/it_sync_lib.sh"

PORT=$(free_port) || { echo "bench_wire: no free port" >&2; exit 1; }
TW=$T/town Z=$T/z P=$T/p
init_town "$TW" xx/longhua "$PORT" &&
    init_station "$Z" xx/longhua/z "$PORT" "$(town_key "$TW")" &&
    init_station "$P" xx/longhua/p "$PORT" "$(town_key "$TW")" || exit 1
sed -i 's/^# compress = yes/compress = no/' "$P/wmsync.conf"
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" && enroll "$Z" "$TW" && enroll "$P" "$TW" || exit 1
stop_daemon "$TPID" TERM >/dev/null
declare -A SPID
for s in z p; do
    start_daemon "$T/$s"
    SPID[$s]=$DPID
    wait_ready "$T/$s" "$DPID" || exit 1
done
rec_month "$Z" 120
rec_month "$P" 120
start_daemon "$TW"
wait_ready "$TW" "$DPID" || exit 1
poll 60 "caught up" converged "$TW" "$Z" "$P" || { echo "bench_wire: no convergence: $(cat "$T/why")" >&2; exit 1; }

# tcp PID: bytes sent + received on the established connections of PID to the town.
tcp() {
    ss -tinpH state established "( dport = :$PORT )" 2>/dev/null |
        awk -v pid="pid=$1," 'index($0, pid) { grab = 1; next }
            grab { for (i = 1; i <= NF; i++) if ($i ~ /^bytes_(sent|received):/) { split($i, kv, ":"); n += kv[2] } grab = 0 }
            END { print n + 0 }'
}
ZS=$(jget "$(st "$Z")" wire_bytes)
PS=$(jget "$(st "$P")" wire_bytes)
ZT=$(tcp "${SPID[z]}")
PT=$(tcp "${SPID[p]}")
python3 - "$ZS" "$PS" "$ZT" "$PT" <<'EOF'
import sys
zs, ps, zt, pt = map(int, sys.argv[1:])
n, target = 120, 0.60
print("month of a station (120 records) over real daemons, bytes/record:")
print("  status (messages, framing):   zstd %6.1f   plain %6.1f   ratio %.2f (target <= %.2f)"
      % (zs / n, ps / n, zs / ps, target))
if zt and pt:
    print("  TCP (handshake, heartbeats):  zstd %6.1f   plain %6.1f   ratio %.2f (target <= %.2f)"
          % (zt / n, pt / n, zt / pt, target))
else:
    print("  TCP: not measured (ss -tinp shows no connection of the stations)")
EOF
FAILED=0
PASSED=1
finish >/dev/null
