# SPDX-License-Identifier: MIT
# Helpers for the link tests (tests/linkemu/it_link_*.sh), sourced after
# tests/integration/lib.sh and it_sync_lib.sh: a fault-injecting proxy
# (wmproxy.py) between a station and its town, status fields of the
# upstream link, and scaled durations.
#
# Durations: every scenario reads its lengths through dur(), which
# multiplies by $WM_LINK_SCALE (default 1: the short form of make test;
# `make test-links` runs the full-length form, see README).

PROXY_PY=$SRC_DIR/tests/linkemu/wmproxy.py
WM_LINK_SCALE=${WM_LINK_SCALE:-1}

# dur SHORT FULL: SHORT seconds in the short form; FULL when
# WM_LINK_FULL=1 (make test-links).
dur() {
    if [ "${WM_LINK_FULL:-0}" = 1 ]; then echo "$2"; else echo "$1"; fi
}

# start_proxy TO_HOST TO_PORT [wmproxy options...]: a proxy on a free
# loopback port ($PXPORT) in front of TO; $PXCTL is its control socket,
# $PXPID its pid (killed by the exit trap like a daemon).
start_proxy() {
    local host=$1 port=$2 n=${PXN:-0}
    shift 2
    PXN=$((n + 1))
    PXCTL=$T/proxy$n.ctl
    rm -f "$T/proxy$n.port"
    python3 "$PROXY_PY" --listen 127.0.0.1:0 --to "$host:$port" --port-file "$T/proxy$n.port" \
        --control "$PXCTL" "$@" >>"$T/proxy$n.log" 2>&1 &
    PXPID=$!
    DAEMON_PIDS+=("$PXPID")
    local deadline=$(($(now_ms) + 10000))
    while [ ! -s "$T/proxy$n.port" ]; do
        [ "$(now_ms)" -ge "$deadline" ] && { fail "proxy did not start: $(cat "$T/proxy$n.log")"; return 1; }
        sleep 0.05
    done
    PXPORT=$(cat "$T/proxy$n.port")
}

# px CMD...: a command to the proxy of $PXCTL (set, blackhole, reset,
# down, up, stall, stats).
px() { python3 "$PROXY_PY" --ctl "$PXCTL" "$@"; }

# px_bytes: payload bytes the proxy carried, both ways.
px_bytes() {
    px stats | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["up_bytes"]+j["down_bytes"])'
}

# up_field DIR KEY: a field of the station's live upstream status.
up_field() {
    st "$1" | python3 -c 'import json,sys
u = json.load(sys.stdin).get("daemon", {}).get("upstream", {})
v = u.get(sys.argv[1])
print(json.dumps(v) if not isinstance(v, str) else v)' "$2"
}

# up_is DIR KEY WANT / up_has DIR KEY TEXT: for poll and steady.
up_is() {
    local v
    v=$(up_field "$1" "$2")
    echo "upstream $2 = $v (want $3)" >"$T/why"
    [ "$v" = "$3" ]
}
up_has() {
    local v
    v=$(up_field "$1" "$2")
    echo "upstream $2 = $v (want it to contain \"$3\")" >"$T/why"
    case $v in *"$3"*) return 0 ;; esac
    return 1
}

# set_timers DIR HEARTBEAT DEAD [HANDSHAKE [KEEPALIVE]]: the [sync] timers.
set_timers() {
    local d=$1
    sed -i "/^\[sync\]/a heartbeat_s = $2\ndead_link_s = $3${4:+\nhandshake_s = $4}${5:+\nkeepalive_s = $5}" \
        "$d/wmsync.conf"
}

# writer_loop DIR: records one activity every ~0.3 s until $T/stop exists,
# counting what was accepted in DIR.count (records being written at the
# station throughout a scenario).
writer_loop() {
    local d=$1 i=0
    while [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        if "$WMCTL" -c "$d/wmsync.conf" record activity --date 2024-03-01 \
            --category theme_lecture --title "写-$i-宣讲" >/dev/null 2>>"$d.writer.err"; then
            echo "$i" >>"$d.count"
        fi
        sleep 0.3
    done
}

# no_loss TOWN STATION: the town holds exactly the station's log: same
# head, every seq once (wmctl log at the town lists the station's
# records), nothing pending.
no_loss() {
    local sid n_st n_town
    sid=$(node_id "$2")
    synced "$1" "$2" || return 1
    n_st=$(head_seq "$2")
    n_town=$(town_row "$1" "$sid" seq)
    echo "station head $n_st, town seq $n_town" >"$T/why"
    [ "$n_st" = "$n_town" ]
}

# verified_at_town TOWN STATION: the town's copy of the station's log
# verifies (chain and every signature): nothing altered, no seq twice.
verified_at_town() {
    "$WMCTL" -c "$1/wmsync.conf" verify --station "$(node_id "$2")" >"$T/why" 2>&1
}

# town_and_station_via_proxy [proxy options...]: a town on a free port
# ($TW, $PORT, $KEY) and a station xx/longhua/s ($S) whose upstream is a
# proxy in front of the town ($PXPORT, $PXCTL); nothing started.
town_and_station_via_proxy() {
    PORT=$(free_port) || { fail "no free port"; return 1; }
    TW=$T/town S=$T/s
    init_town "$TW" xx/longhua "$PORT" || return 1
    KEY=$(town_key "$TW")
    start_proxy 127.0.0.1 "$PORT" "$@" || return 1
    init_station "$S" xx/longhua/s "$PXPORT" "$KEY"
}

# start_town_station: starts both ($TPID, $SPID), enrols the station.
start_town_station() {
    start_daemon "$TW"
    TPID=$DPID
    wait_ready "$TW" "$TPID" || return 1
    enroll "$S" "$TW" || return 1
    start_daemon "$S"
    SPID=$DPID
    wait_ready "$S" "$SPID"
}

# town_session TOWN ID: "yes" if the town holds a live session for ID.
town_session() {
    st "$1" | python3 -c 'import json,sys
s = json.load(sys.stdin).get("daemon", {}).get("sessions", {})
print("yes" if sys.argv[1] in s else "no")' "$2"
}
session_is() {
    local v
    v=$(town_session "$1" "$2")
    echo "town session of $2: $v (want $3)" >"$T/why"
    [ "$v" = "$3" ]
}
