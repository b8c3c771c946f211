# SPDX-License-Identifier: MIT
# linkemu.sh — a real link between a station and its town, for the tests
# that need the kernel's TCP (keepalive, SYN retries, conntrack), sourced
# after lib.sh, it_sync_lib.sh and link_lib.sh:
#
#   station netns  wmsN  10.201.K.1 ── veth ── 10.201.K.2  wmtN  town netns
#
# Bandwidth: tc tbf on both ends (le_rate). Latency needs netem, which the
# kernels here lack: le_setup says so and the latency profiles stay with
# wmproxy (it_link_scn). Blackhole: nftables drops everything between the
# two, no FIN or RST (le_blackhole). NAT: conntrack forgets a flow idle
# longer than N s (an nft ct timeout policy on the station's flows) and,
# with nf_conntrack_tcp_loose off, later packets of the flow are invalid
# and dropped, as a NAT that lost its mapping drops them (le_nat). This is
# what a proxy cannot show: the proxy's own socket would answer the
# kernel's keepalive probes.
#
# Root only: le_setup exits 77 with a message without root, ip netns, veth
# or tbf. Daemons run inside with le_wrap NS (a wmsyncd that execs under
# ip netns exec, so the pid stays the daemon's); the exit trap kills them
# and deletes the namespaces.

LE_K=$(($$ % 200 + 20))
LE_S=wms$$ LE_T=wmt$$
LE_SIP=10.201.$LE_K.1 LE_TIP=10.201.$LE_K.2

le_cleanup() {
    local p
    for p in "${DAEMON_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    for p in "${DAEMON_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
    ip netns del "$LE_S" 2>/dev/null
    ip netns del "$LE_T" 2>/dev/null
    cleanup
}

# The writers of it_sync_lib.sh stop too; their own exit trap would skip
# deleting the namespaces, so start_writers here keeps this one.
le_on_exit() {
    local p
    touch "$T/stop" 2>/dev/null
    for p in "${WPIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    for p in "${WPIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
    le_cleanup
}
start_writers() {
    local fn=$1 s
    shift
    for s in "$@"; do
        "$fn" "$s" &
        WPIDS+=($!)
    done
    trap le_on_exit EXIT
}

# le_setup NAME: the two namespaces and the veth, or exit 77 saying why.
le_setup() {
    local why=
    if [ "$(id -u)" != 0 ]; then
        why="needs root (uid $(id -u))"
    elif ! command -v ip >/dev/null || ! command -v tc >/dev/null || ! command -v nft >/dev/null; then
        why="needs ip, tc and nft (iproute2, nftables)"
    elif ! ip netns add "$LE_S" 2>/dev/null; then
        why="cannot make a network namespace"
    fi
    if [ -n "$why" ]; then
        echo "$1: SKIP: $why"
        exit 77
    fi
    trap le_on_exit EXIT
    ip netns add "$LE_T" &&
        ip link add "v$LE_S" type veth peer name "v$LE_T" &&
        ip link set "v$LE_S" netns "$LE_S" && ip link set "v$LE_T" netns "$LE_T" &&
        ip -n "$LE_S" addr add "$LE_SIP/24" dev "v$LE_S" &&
        ip -n "$LE_T" addr add "$LE_TIP/24" dev "v$LE_T" &&
        ip -n "$LE_S" link set "v$LE_S" up && ip -n "$LE_T" link set "v$LE_T" up &&
        ip -n "$LE_S" link set lo up && ip -n "$LE_T" link set lo up ||
        { echo "$1: SKIP: cannot set up the veth pair"; exit 77; }
    if ! ip netns exec "$LE_S" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
        echo "$1: note: this kernel has no netem: no latency in the namespaces (the latency" \
            "profiles run through wmproxy: it_link_scn)"
    else
        ip netns exec "$LE_S" tc qdisc del dev lo root 2>/dev/null
    fi
}

# le_rate BITS: tbf both ways (e.g. 40kbit), a 2G-like modem buffer.
le_rate() {
    local ns dev
    for ns in "$LE_S" "$LE_T"; do
        dev=v$ns
        ip netns exec "$ns" tc qdisc replace dev "$dev" root tbf rate "$1" burst 1600 latency 2s ||
            return 1
    done
}

# le_wrap NS: prints the path of a wmsyncd that runs in NS.
le_wrap() {
    local w=$T/wmsyncd-$1
    printf '#!/bin/sh\nexec ip netns exec %s "%s" "$@"\n' "$1" "$WMSYNCD" >"$w"
    chmod +x "$w"
    echo "$w"
}

# le_start DIR NS: starts DIR's daemon inside NS ($DPID).
le_start() {
    local real=$WMSYNCD
    WMSYNCD=$(le_wrap "$2")
    start_daemon "$1"
    WMSYNCD=$real
}

# le_blackhole on|off: the station's side drops everything to and from
# the town: no FIN, no RST, no ICMP.
le_blackhole() {
    if [ "$1" = on ]; then
        ip netns exec "$LE_S" nft -f - <<EOF2
table inet wmhole {
  chain out { type filter hook output priority 0; ip daddr $LE_TIP drop; }
  chain inp { type filter hook input priority 0; ip saddr $LE_TIP drop; }
}
EOF2
    else
        ip netns exec "$LE_S" nft delete table inet wmhole
    fi
}

# le_nat SECONDS PORT: the station's flows to the town's PORT are
# forgotten after SECONDS idle; their later packets are dropped.
le_nat() {
    ip netns exec "$LE_S" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 || return 1
    ip netns exec "$LE_S" nft -f - <<EOF2
table inet wmnat {
  ct timeout idle {
    protocol tcp;
    l3proto ip;
    policy = { established: $1 };
  }
  chain out {
    type filter hook output priority 0;
    ip daddr $LE_TIP tcp dport $2 ct timeout set "idle"
    ct state invalid counter drop
  }
  chain inp {
    type filter hook input priority 0;
    ct state invalid counter drop
  }
}
EOF2
}

# le_nat_drops: packets the NAT dropped as belonging to forgotten flows.
le_nat_drops() {
    ip netns exec "$LE_S" nft list table inet wmnat 2>/dev/null |
        awk '/invalid counter/ {for (i = 1; i <= NF; i++) if ($i == "packets") s += $(i + 1)} END {print s + 0}'
}

# le_wire_bytes: bytes the station's veth sent and received (IP packets:
# headers, TCP, ZMTP, CURVE and all).
le_wire_bytes() {
    ip -n "$LE_S" -s link show "v$LE_S" | awk '/RX:/ {getline; rx = $1} /TX:/ {getline; tx = $1} END {print rx + tx}'
}

# le_town_and_station: a town in wmtN on $LE_TIP:$PORT and a station in
# wmsN ($TW, $S, $KEY), enrolled, both started ($TPID, $SPID).
le_town_and_station() {
    PORT=$(free_port) || { fail "no free port"; return 1; }
    TW=$T/town S=$T/s
    "$WMCTL" init --role town --id xx/longhua --name 龙华镇 --dir "$TW" \
        --listen "tcp://$LE_TIP:$PORT" >/dev/null || { fail "init town"; return 1; }
    KEY=$(town_key "$TW")
    "$WMCTL" init --role station --id xx/longhua/s --name 站 --dir "$S" \
        --upstream "tcp://$LE_TIP:$PORT" --upstream-key "$KEY" >/dev/null ||
        { fail "init station"; return 1; }
    [ -n "${LE_TIMERS_T:-}" ] && set_timers "$TW" $LE_TIMERS_T
    [ -n "${LE_TIMERS_S:-}" ] && set_timers "$S" $LE_TIMERS_S
    le_start "$TW" "$LE_T"
    TPID=$DPID
    wait_ready "$TW" "$TPID" || return 1
    enroll "$S" "$TW" || return 1
    le_start "$S" "$LE_S"
    SPID=$DPID
    wait_ready "$S" "$SPID"
}
