# SPDX-License-Identifier: MIT
# Helpers for the replication tests (it_sync_*.sh), sourced after lib.sh:
# a town and its stations on a loopback port, enrolment, and reading the
# sync state of several nodes at once. Like lib.sh, every wait is a poll
# with a deadline.

# init_town DIR ID PORT
init_town() {
    "$WMCTL" init --role town --id "$2" --name "龙华镇" --dir "$1" \
        --listen "tcp://127.0.0.1:$3" >/dev/null || { fail "init town $1"; return 1; }
}

# init_station DIR ID [PORT KEYHEX]: without PORT the station has no upstream.
init_station() {
    local d=$1 id=$2 port=${3:-} key=${4:-}
    if [ -n "$port" ]; then
        "$WMCTL" init --role station --id "$id" --name "站${id##*/}" --dir "$d" \
            --upstream "tcp://127.0.0.1:$port" --upstream-key "$key" >/dev/null
    else
        "$WMCTL" init --role station --id "$id" --name "站${id##*/}" --dir "$d" >/dev/null
    fi || { fail "init station $d"; return 1; }
}

# town_with_two TOWNDIR STATIONDIR BACKLOGDIR: a town on a free port ($PORT,
# $EP, its key $KEY) and two stations of it, xx/longhua/xinhe ($SID) and
# xx/longhua/back ($HID, for hostile.c's backlog), all with map_size_mb = 1
# except the backlog's; nothing started.
town_with_two() {
    PORT=$(free_port) || { fail "no free port"; return 1; }
    EP=tcp://127.0.0.1:$PORT
    SID=xx/longhua/xinhe
    HID=xx/longhua/back
    init_town "$1" xx/longhua "$PORT" || return 1
    KEY=$(town_key "$1")
    init_station "$2" "$SID" "$PORT" "$KEY" && init_station "$3" "$HID" "$PORT" "$KEY" || return 1
    sed -i 's/^map_size_mb = .*/map_size_mb = 1/' "$1/wmsync.conf" "$2/wmsync.conf"
}

# start_two TOWNDIR STATIONDIR BACKLOGDIR: after town_with_two, starts the
# town ($TPID), enrols both stations, starts the first ($SPID) and waits
# until both daemons are ready. Returns 1 (and has said why) on failure.
start_two() {
    start_daemon "$1"
    TPID=$DPID
    wait_ready "$1" "$TPID" || return 1
    enroll "$2" "$1" && enroll "$3" "$1" || return 1
    start_daemon "$2"
    SPID=$DPID
    wait_ready "$2" "$SPID"
}

# orders_town: the needs-and-orders tests' town xx/longhua ($TW, running as
# $TPID) and its stations xx/longhua/a ($A) and xx/longhua/b ($B), enrolled,
# not started. Returns 1 (and has said why) on failure.
orders_town() {
    PORT=$(free_port) || { fail "no free port"; return 1; }
    TW=$T/town A=$T/a B=$T/b
    init_town "$TW" xx/longhua "$PORT" || return 1
    KEY=$(town_key "$TW")
    init_station "$A" xx/longhua/a "$PORT" "$KEY" && init_station "$B" xx/longhua/b "$PORT" "$KEY" ||
        return 1
    start_daemon "$TW"
    TPID=$DPID
    wait_ready "$TW" "$TPID" || return 1
    enroll "$A" "$TW" && enroll "$B" "$TW"
}

# run_town_ab: the kill tests' town xx/longhua ($TW on $PORT, running as
# $TPID) and its stations xx/longhua/a and xx/longhua/b in $T/a and $T/b,
# enrolled and running as ${PID[a]} and ${PID[b]}. Returns 1 (and has said
# why) on failure.
run_town_ab() {
    local s
    declare -gA PID
    PORT=$(free_port) || { fail "no free port"; return 1; }
    TW=$T/town
    init_town "$TW" xx/longhua "$PORT" || return 1
    KEY=$(town_key "$TW")
    for s in a b; do init_station "$T/$s" "xx/longhua/$s" "$PORT" "$KEY" || return 1; done
    start_daemon "$TW"
    TPID=$DPID
    wait_ready "$TW" "$TPID" || return 1
    for s in a b; do enroll "$T/$s" "$TW" || return 1; done
    for s in a b; do
        start_daemon "$T/$s"
        PID[$s]=$DPID
        wait_ready "$T/$s" "${PID[$s]}" || return 1
    done
}

# pinned_town [ARG...]: like orders_town, but a and b pinned the town
# (--upstream-id: its log comes down to them, feature "down"); ARGs are
# added to the town's init (an upstream above it, say; with $PARENT set,
# the town is enrolled at that running node before it starts). The town
# runs ($TPID), a and b are enrolled, not started; $T/town.id is its keys
# line.
pinned_town() {
    local s
    PORT=$(free_port) || { fail "no free port"; return 1; }
    TW=$T/town A=$T/a B=$T/b
    "$WMCTL" init --role town --id xx/longhua --name "龙华镇" --dir "$TW" \
        --listen "tcp://127.0.0.1:$PORT" "$@" >/dev/null || { fail "init town $TW"; return 1; }
    w "$TW" keys >"$T/town.id"
    if [ -n "${PARENT:-}" ]; then enroll "$TW" "$PARENT" || return 1; fi
    for s in a b; do
        "$WMCTL" init --role station --id "xx/longhua/$s" --name "站$s" --dir "$T/$s" \
            --upstream "tcp://127.0.0.1:$PORT" --upstream-id "$T/town.id" >/dev/null ||
            { fail "init $s"; return 1; }
    done
    start_daemon "$TW"
    TPID=$DPID
    wait_ready "$TW" "$TPID" || return 1
    enroll "$A" "$TW" && enroll "$B" "$TW"
}

# list_field NODE CMD ID KEY: KEY of the object with "id" ID in `wmctl CMD list --json`
# (CMD: order, need).
list_field() {
    w "$1" "$2" list --json >"$T/list" 2>"$T/why" || return 1
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["id"] == sys.argv[2]:
        print(o[sys.argv[3]]); break' "$T/list" "$3" "$4"
}
# state_is NODE CMD ID STATE: for poll/check (the reason in $T/why).
state_is() {
    local v
    v=$(list_field "$1" "$2" "$3" state)
    echo "$2 $3 at $1 is \"$v\", want $4" >"$T/why"
    [ "$v" = "$4" ]
}

# town_key TOWNDIR: the town's Curve25519 public key (hex).
town_key() { cat "$1/keys/curve.pub"; }

# node_id DIR: the node id from its config.
node_id() { sed -n 's/^id *= *//p' "$1/wmsync.conf"; }

# enroll STATION TOWN: the town (daemon running) admits the station's keys.
enroll() {
    w "$1" keys | w "$2" enroll - >"$OUT" 2>"$ERR" ||
        { fail "enroll $1 at $2: $(cat "$ERR")"; return 1; }
}

# rec DIR TITLE: records one activity; fails the test if it is not accepted.
rec() {
    w "$1" record activity --date 2024-03-01 --category theme_lecture --title "$2" \
        >"$OUT" 2>"$ERR" || { fail "record \"$2\" at $1: $(cat "$ERR")"; return 1; }
}

# rec_n DIR N PREFIX: N records, one check.
rec_n() {
    local i bad=0
    for i in $(seq 1 "$2"); do
        rec "$1" "$3-$i-宣讲" || bad=1
    done
    [ "$bad" = 0 ] && pass "$2 records at $1"
}

WM_TITLES=(学习贯彻党的二十大精神主题宣讲 新时代文明实践志愿服务进村入户 道德讲堂：孝老爱亲身边好人故事分享
    平安校园交通安全普法宣传 理论政策宣讲进院坝 垃圾分类环保知识宣传 关爱留守儿童暑期课堂
    移风易俗倡导文明新风 防范电信网络诈骗宣传 重阳节敬老爱老志愿服务 红色电影进乡村放映 健康义诊进村)
WM_PLACES=(村新时代文明实践站 村委会二楼会议室 村文化广场 村小学操场 党群服务中心)
WM_CATS=(theme_lecture theory_education party_training civilization_practice culture_sports)
WM_CHANNELS=(wechat website poster leaflet)
# rec_month DIR N: N records of March 2024 as a station writes a month of
# them: three in four activities (Chinese titles, places, a tag), the rest
# publicity. One check.
rec_month() {
    local d=$1 n=$2 i day bad=0
    for i in $(seq 1 "$n"); do
        day=$(printf '2024-03-%02d' $((1 + (i - 1) * 30 / n)))
        if [ $((i % 4)) = 0 ]; then
            w "$d" record publicity --date "$day" --channel "${WM_CHANNELS[i % 4]}" \
                --count $((i * 7 % 300 + 1)) >/dev/null 2>"$ERR" || bad=1
        else
            w "$d" record activity --date "$day" --category "${WM_CATS[i % 5]}" \
                --title "${WM_TITLES[i * 7 % 12]}" --place "新河${WM_PLACES[i % 5]}" \
                --participants $((i * 13 % 190 + 10)) --volunteers $((i % 15)) \
                --tag 基层宣讲 >/dev/null 2>"$ERR" || bad=1
        fi
    done
    [ "$bad" = 0 ] && pass "$n records at $d" || fail "recording at $d: $(cat "$ERR")"
}
# st DIR: status --json of a node (LMDB, plus the daemon's live view if up).
st() { w "$1" status --json 2>/dev/null || echo '{}'; }

# The analysis side: one python3 run over several status documents.
SYNC_PY='
import json, sys
cmd = sys.argv[1]
def load(s):
    try:
        return json.loads(s)
    except ValueError:
        return {}
if cmd == "get":            # get JSON KEY...: top-level values, one a line
    j = load(sys.argv[2])
    for k in sys.argv[3:]:
        v = j.get(k)
        print(json.dumps(v) if not isinstance(v, str) else v)
elif cmd == "row":          # row TOWNJSON ID KEY: a field of the station row, "absent" if none
    rows = {r["id"]: r for r in load(sys.argv[2]).get("stations", [])}
    r = rows.get(sys.argv[3])
    v = None if r is None else r.get(sys.argv[4])
    print("absent" if r is None else (json.dumps(v) if not isinstance(v, str) else v))
elif cmd in ("synced", "converged"):  # TOWNJSON STJSON...
    town = load(sys.argv[2])
    rows = {r["id"]: r for r in town.get("stations", [])}
    bad = []
    if cmd == "converged" and town.get("caught_up") is not True:
        bad.append("town not caught_up (%s)" % ", ".join(
            "%s:%s" % (r["id"], r["state"]) for r in rows.values()))
    for s in map(load, sys.argv[3:]):
        r = rows.get(s.get("id"))
        if r is None:
            bad.append("%s not listed at the town" % s.get("id"))
            continue
        if r["seq"] != s.get("head_seq") or s.get("acked_seq") != s.get("head_seq") \
                or s.get("pending") != 0:
            bad.append("%s: head %s, town seq %s, acked %s, pending %s" % (
                s.get("id"), s.get("head_seq"), r["seq"], s.get("acked_seq"), s.get("pending")))
    print("; ".join(bad) if bad else "in step")
    sys.exit(1 if bad else 0)
'

# jget JSON KEY...: top-level values of a status document.
jget() { python3 -c "$SYNC_PY" get "$@"; }

# town_row TOWN ID KEY: KEY of station ID in the town's status ("absent").
town_row() { python3 -c "$SYNC_PY" row "$(st "$1")" "$2" "$3"; }

# synced TOWN STATION...: each station's head is at the town and acked,
# nothing pending. converged: also the town says it is caught up.
# The reason for "not yet" is in $T/why.
synced() {
    local town=$1 s args=()
    shift
    for s in "$@"; do args+=("$(st "$s")"); done
    python3 -c "$SYNC_PY" synced "$(st "$town")" "${args[@]}" >"$T/why"
}
converged() {
    local town=$1 s args=()
    shift
    for s in "$@"; do args+=("$(st "$s")"); done
    python3 -c "$SYNC_PY" converged "$(st "$town")" "${args[@]}" >"$T/why"
}

# poll LIMIT_S MESSAGE CMD...: retries CMD until it succeeds (pass) or the
# deadline passes (fail, with $T/why if CMD left one).
poll() {
    local limit=$1 msg=$2
    shift 2
    local start deadline
    start=$(now_ms)
    deadline=$((start + limit * 1000 * SLOW))
    : >"$T/why"
    while :; do
        if "$@"; then
            pass "$msg ($(($(now_ms) - start)) ms)"
            return 0
        fi
        [ "$(now_ms)" -ge "$deadline" ] && break
        sleep 0.1
    done
    fail "$msg: not within ${limit}s: $(head -c 600 "$T/why")"
    return 1
}

# steady LIMIT_S MESSAGE CMD...: CMD must hold at every sample for LIMIT_S
# seconds (for "never happens" checks).
steady() {
    local limit=$1 msg=$2
    shift 2
    local deadline=$(($(now_ms) + limit * 1000 * SLOW)) n=0
    : >"$T/why"
    while [ "$(now_ms)" -lt "$deadline" ]; do
        if ! "$@"; then
            fail "$msg: broken after $n samples: $(head -c 600 "$T/why")"
            return 1
        fi
        n=$((n + 1))
        sleep 0.2
    done
    pass "$msg (held for ${limit}s, $n samples)"
}

# is VALUE-CMD... = WANT helpers for poll/steady.
# field_is DIR KEY WANT: top-level status KEY of DIR equals WANT.
field_is() {
    local v
    v=$(jget "$(st "$1")" "$2")
    echo "$1 $2 = $v (want $3)" >"$T/why"
    [ "$v" = "$3" ]
}

# down_is NODE KEY WANT: the child's status "down" object (its copy of the
# parent's log) has KEY = WANT; KEY may be a dotted path (followed.epoch).
down_is() {
    local v
    v=$(st "$1" | python3 -c 'import json,sys
v = json.load(sys.stdin).get("down", {})
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print(json.dumps(v) if not isinstance(v, str) else v)' "$2")
    echo "down.$2 = $v, want $3" >"$T/why"
    [ "$v" = "$3" ]
}

# row_is TOWN ID KEY WANT: the town's row for ID has KEY = WANT.
row_is() {
    local v
    v=$(town_row "$1" "$2" "$3")
    echo "town row $2 $3 = $v (want $4)" >"$T/why"
    [ "$v" = "$4" ]
}

# start_writers FN NAME...: runs "FN NAME" in the background for each NAME
# (writer loops that stop when $T/stop exists); stop_writers waits for
# them; the exit trap set here stops them before the usual cleanup.
WPIDS=()
start_writers() {
    local fn=$1 s
    shift
    for s in "$@"; do
        "$fn" "$s" &
        WPIDS+=($!)
    done
    trap writers_on_exit EXIT
}
stop_writers() {
    touch "$T/stop"
    local p
    for p in "${WPIDS[@]}"; do wait "$p" 2>/dev/null; done
    WPIDS=()
}
writers_on_exit() {
    local p
    touch "$T/stop" 2>/dev/null
    for p in "${WPIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    for p in "${WPIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
    cleanup
}

# old_build SOURCE_DIR BUILD_DIR REV: a build of commit REV of this source
# tree's git history (git archive), wmsyncd and wmctl only, kept in
# BUILD_DIR/oldpeer/REV for the next run; sets OLD_WMSYNCD and OLD_WMCTL.
# Exits 77 (skip) when there is no such history or it does not build.
old_build() {
    local src=$1 bld=$2 rev=$3 old=$2/oldpeer/$3
    if [ ! -x "$old/build/daemon/wmsyncd" ] || [ ! -x "$old/build/cli/wmctl" ]; then
        if ! git -C "$src" rev-parse -q --verify "$rev^{commit}" >/dev/null 2>&1; then
            echo "$(basename "$0" .sh): SKIP: $src has no git history with $rev (a source tarball?)"
            exit 77
        fi
        rm -rf "$old" && mkdir -p "$old/src" &&
            git -C "$src" archive "$rev" | tar -x -C "$old/src" &&
            cmake -S "$old/src" -B "$old/build" >"$old/build.log" 2>&1 &&
            cmake --build "$old/build" -j2 --target wmsyncd wmctl >>"$old/build.log" 2>&1 || {
            echo "$(basename "$0" .sh): SKIP: cannot build $rev (see $old/build.log): $(tail -3 "$old/build.log")"
            exit 77
        }
    fi
    OLD_WMSYNCD=$old/build/daemon/wmsyncd
    OLD_WMCTL=$old/build/cli/wmctl
}
