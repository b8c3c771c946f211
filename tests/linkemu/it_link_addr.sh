# SPDX-License-Identifier: MIT
# it_link_addr: where the town is.
#
#  1. IPv6: a town listening on tcp://[::1]:PORT and a station whose
#     upstream is that endpoint converge (ZMQ_IPV6). Skipped with a
#     message when the machine has no ::1.
#  2. The town's address changes while the station is offline: the
#     station's upstream is a host name (wmtown.test) that a private
#     /etc/hosts of the station daemon's own mount namespace (unshare -m,
#     a bind mount) points at 127.0.0.2. The town stops, moves to
#     127.0.0.3, the name is re-pointed; the station, still running, finds
#     it by itself (each connection attempt resolves the name again) and
#     converges. Root only: skipped with a message otherwise.
#
#   it_link_addr.sh WMCTL WMSYNCD        (exit 77 if both phases skip)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/it_sync_lib.sh"
. "$(dirname "$0")/link_lib.sh"

skipped=0
# ---- 1 ----
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    PORT=$(free_port) || { fail "no free port"; finish; }
    T6=$T/t6 S6=$T/s6
    "$WMCTL" init --role town --id xx/v6 --name 六镇 --dir "$T6" --listen "tcp://[::1]:$PORT" \
        >/dev/null || fail "init town on [::1]"
    "$WMCTL" init --role station --id xx/v6/s --name 六站 --dir "$S6" \
        --upstream "tcp://[::1]:$PORT" --upstream-key "$(town_key "$T6")" >/dev/null ||
        fail "init station with upstream [::1]"
    start_daemon "$T6"
    wait_ready "$T6" || finish
    enroll "$S6" "$T6" || finish
    start_daemon "$S6"
    wait_ready "$S6" || finish
    rec_n "$S6" 5 v6
    poll 20 "ipv6: the station converges over tcp://[::1]" synced "$T6" "$S6"
    check "ipv6: the town's copy verifies" verified_at_town "$T6" "$S6"
else
    echo "it_link_addr: ipv6 phase skipped: this machine has no ::1"
    skipped=$((skipped + 1))
fi

# ---- 2 ----
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "it_link_addr: address-change phase skipped: needs root and unshare -m (uid $(id -u))"
    skipped=$((skipped + 1))
else
    PORT=$(free_port) || { fail "no free port"; finish; }
    TW=$T/town S=$T/s
    "$WMCTL" init --role town --id xx/longhua --name 龙华镇 --dir "$TW" \
        --listen "tcp://127.0.0.2:$PORT" >/dev/null || fail "init town"
    "$WMCTL" init --role station --id xx/longhua/s --name 站 --dir "$S" \
        --upstream "tcp://wmtown.test:$PORT" --upstream-key "$(town_key "$TW")" >/dev/null ||
        fail "init station"
    set_timers "$S" 2 6 4
    printf '127.0.0.1 localhost\n127.0.0.2 wmtown.test\n' >"$T/hosts"
    # The station daemon in its own mount namespace, with $T/hosts as its
    # /etc/hosts: unshare and sh exec, so the pid is wmsyncd's.
    cat >"$T/wmsyncd-ns" <<EOS
#!/bin/sh
exec unshare -m -- sh -c 'mount --bind "$T/hosts" /etc/hosts && exec "$WMSYNCD" "\$@"' wmsyncd "\$@"
EOS
    chmod +x "$T/wmsyncd-ns"
    start_daemon "$TW"
    TPID=$DPID
    wait_ready "$TW" "$TPID" || finish
    enroll "$S" "$TW" || finish
    REAL=$WMSYNCD WMSYNCD=$T/wmsyncd-ns
    start_daemon "$S"
    WMSYNCD=$REAL
    wait_ready "$S" || finish
    rec_n "$S" 5 before
    poll 20 "move: converged with the town at 127.0.0.2 (wmtown.test)" synced "$TW" "$S"
    stop_daemon "$TPID"
    rec_n "$S" 5 offline
    poll 15 "move: the station sees the town gone" up_is "$S" connected false
    sed -i "s#^listen = .*#listen = tcp://127.0.0.3:$PORT#" "$TW/wmsync.conf"
    printf '127.0.0.1 localhost\n127.0.0.3 wmtown.test\n' >"$T/hosts" # same inode: the bind follows
    start_daemon "$TW"
    TPID=$DPID
    wait_ready "$TW" "$TPID" || finish
    t0=$(now_ms)
    poll 40 "move: the station found the town at its new address and converged" synced "$TW" "$S"
    echo "move: converged $(($(now_ms) - t0)) ms after the town came back at 127.0.0.3"
    check "move: the town's copy verifies" verified_at_town "$TW" "$S"
fi
[ "$skipped" = 2 ] && exit 77
finish
