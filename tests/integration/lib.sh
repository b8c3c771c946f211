# SPDX-License-Identifier: MIT
# Shared helpers for the integration tests: each script sources this file
# with the paths of wmctl and wmsyncd as $1 and $2. It makes a temporary
# directory, tracks every daemon started so the exit trap can kill -9 them,
# and counts checks so each script ends with "N passed, N failed".
#
# Waiting is always a poll loop with a deadline, never a fixed sleep.

set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 WMCTL WMSYNCD" >&2
    exit 2
fi
WMCTL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
WMSYNCD=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
[ -x "$WMCTL" ] || { echo "not executable: $WMCTL" >&2; exit 2; }
[ -x "$WMSYNCD" ] || { echo "not executable: $WMSYNCD" >&2; exit 2; }

# Messages in English whatever the machine's locale (the tests match
# English text; it_i18n sets LANG=zh_CN.UTF-8 where it wants Chinese), and
# the build tree's catalogues (wm_i18n.h: WMSYNC_LOCALEDIR comes first).
unset LC_ALL LC_MESSAGES LANGUAGE
export LANG=C
if [ -d "$(dirname "$WMCTL")/../locale" ]; then
    WMSYNC_LOCALEDIR=$(cd "$(dirname "$WMCTL")/../locale" && pwd)
    export WMSYNC_LOCALEDIR
fi

# Short path: the control socket path must fit in sun_path.
T=$(mktemp -d /tmp/wmit.XXXXXX) || exit 2

# WM_EXEC_WRAPPER: a command that runs the programs under test, e.g.
# "qemu-aarch64-static -L SYSROOT" for the arm64 build's binaries (set by
# ctest in a cross build). WMCTL and WMSYNCD then name small scripts in $T
# that exec the program through it, in the same process (signals, pids).
wrap_exec() {
    local f=$T/wrap-$(basename "$1")
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$WM_EXEC_WRAPPER" "$1" >"$f" && chmod +x "$f" &&
        echo "$f"
}
if [ -n "${WM_EXEC_WRAPPER:-}" ]; then
    WMCTL=$(wrap_exec "$WMCTL") && WMSYNCD=$(wrap_exec "$WMSYNCD") || exit 2
fi
# WM_IT_SLOW: how many times slower than natively the programs run (4 under
# qemu-user); every wait's deadline and it_kill9's kill delay scale by it.
SLOW=${WM_IT_SLOW:-1}
PASSED=0
FAILED=0
DAEMON_PIDS=()
DPID=
OUT=$T/out
ERR=$T/err
KEEP=${WM_IT_KEEP:-0}

cleanup() {
    local p
    for p in "${DAEMON_PIDS[@]:-}"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    for p in "${DAEMON_PIDS[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null
    done
    release_ports
    if [ "$KEEP" = 1 ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports. Tests run side by side (ctest -j, several checkouts on one
# machine), and a daemon binds its port long after its test chose it, and
# again after every restart. So free_port reserves the port for the test's
# whole life: the file WM_PORT_DIR/PORT holds the pid of the test's shell
# ($$, also in a $(...) subshell). It is written under one lock (flock),
# after checking that no live test holds the port and no socket uses it
# (listening, connected or in TIME_WAIT); cleanup removes the test's own
# files, and the reservation of a shell that is gone (kill -9 by ctest's
# timeout) is taken over. Ports are drawn from [WM_PORT_LO, WM_PORT_HI),
# by default below the kernel's ephemeral range (32768 …): the local ports
# of outgoing links (thousands in it_province and it_bigtown) come from
# there, and one could hold a chosen port before its daemon binds it.
WM_PORT_DIR=${WM_PORT_DIR:-/tmp/wmit-ports}
WM_PORT_LO=${WM_PORT_LO:-20000}
if [ -z "${WM_PORT_HI:-}" ]; then
    WM_PORT_HI=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [ "${WM_PORT_HI:-0}" -gt $((WM_PORT_LO + 1000)) ] 2>/dev/null || WM_PORT_HI=32768
fi

# free_port: prints a port reserved for this test until it exits; 1 if
# none is free (200 draws) or the lock is not had within 30 s.
free_port() {
    local p i owner
    mkdir -p "$WM_PORT_DIR" 2>/dev/null && chmod 1777 "$WM_PORT_DIR" 2>/dev/null
    (
        flock -w 30 9 || exit 1
        for i in $(seq 1 200); do
            p=$((WM_PORT_LO + RANDOM % (WM_PORT_HI - WM_PORT_LO)))
            owner=$(cat "$WM_PORT_DIR/$p" 2>/dev/null)
            [ -n "$owner" ] && [ -d "/proc/$owner" ] && continue
            [ -n "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && continue
            echo "$$" >"$WM_PORT_DIR/$p" 2>/dev/null || continue
            echo "$p"
            exit 0
        done
        exit 1
    ) 9>>"$WM_PORT_DIR/.lock"
}

# release_ports: removes this test's reservations (cleanup does).
release_ports() {
    [ -d "$WM_PORT_DIR" ] || return 0
    grep -lx -- "$$" "$WM_PORT_DIR"/[0-9]* 2>/dev/null | xargs -r rm -f
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

pass() {
    PASSED=$((PASSED + 1))
    [ "${WM_IT_VERBOSE:-0}" = 1 ] && echo "ok: $*"
    return 0
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL: $*" >&2
    return 1
}

# check COND-MESSAGE CMD...: passes if CMD succeeds.
check() {
    local msg=$1
    shift
    if "$@"; then pass "$msg"; else fail "$msg"; fi
}

# expect_rc N CMD...: runs CMD with stdout in $OUT and stderr in $ERR and
# checks its exit status is N.
expect_rc() {
    local want=$1 rc
    shift
    "$@" >"$OUT" 2>"$ERR"
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        pass "rc $want: $*"
    else
        fail "expected exit $want, got $rc: $*"
        sed 's/^/    stdout: /' "$OUT" | head -5 >&2
        sed 's/^/    stderr: /' "$ERR" | head -5 >&2
        return 1
    fi
}

# expect_in FILE NEEDLE MESSAGE: FILE contains NEEDLE (fixed string).
expect_in() {
    if grep -qF -- "$2" "$1"; then
        pass "$3"
    else
        fail "$3: \"$2\" not in: $(head -c 400 "$1")"
    fi
}

# wmctl for node DIR: w DIR args...
# Every `rollup --format json` goes through rollup_checked: each rollup the
# test suite produces is checked against docs/rollup.schema.json.
w() {
    local d=$1
    shift
    if [ "${1:-}" = rollup ] && is_json_format "$@"; then
        rollup_checked "$d" "$@"
        return
    fi
    "$WMCTL" -c "$d/wmsync.conf" "$@"
}

# is_json_format ARGS...: the arguments ask for --format json.
is_json_format() {
    local prev= a
    for a in "$@"; do
        [ "$a" = --format=json ] && return 0
        [ "$prev" = --format ] && [ "$a" = json ] && return 0
        prev=$a
    done
    return 1
}

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROLLUP_SCHEMA=$SRC_DIR/docs/rollup.schema.json
# truth_equal.py ROLLUP TRUTH MONTH [ROWS]: a rollup against sim_town's truth.
TRUTH_EQUAL=$SRC_DIR/tests/integration/truth_equal.py
# Debian's python3 with python3-jsonschema (packaging/deps.sh), where it is.
SCHEMA_PY=/usr/bin/python3
[ -x "$SCHEMA_PY" ] || SCHEMA_PY=python3
SCHEMA_LOG=$T/schema-violations

# check_rollup FILE...: FILEs are rollups the schema accepts, in strict
# mode (no undocumented key). A violation is logged to $SCHEMA_LOG, which
# finish counts: it is seen even when the caller runs in a subshell.
check_rollup() {
    if ! "$SCHEMA_PY" "$SRC_DIR/tests/integration/check_rollup.py" --strict "$ROLLUP_SCHEMA" \
        "$@" 2>"$T/schema.err"; then
        { echo "rollup JSON breaks docs/rollup.schema.json:"; cat "$T/schema.err"; } |
            tee -a "$SCHEMA_LOG" >&2
        return 1
    fi
    echo x >>"$T/schema-checked"
}

# rollup_checked DIR ARGS...: wmctl rollup ... --format json for node DIR,
# its output (stdout or --out FILE) checked against the schema when it
# succeeds. Exit status: wmctl's, or 1 if the JSON breaks the schema.
rollup_checked() {
    local d=$1 out= prev= a rc tmp
    shift
    for a in "$@"; do
        [ "$prev" = --out ] && out=$a
        case $a in --out=*) out=${a#--out=} ;; esac
        prev=$a
    done
    if [ -n "$out" ]; then
        "$WMCTL" -c "$d/wmsync.conf" "$@" || return
        check_rollup "$out"
        return
    fi
    tmp=$(mktemp "$T/rollup.XXXXXX") || return 2
    "$WMCTL" -c "$d/wmsync.conf" "$@" >"$tmp"
    rc=$?
    cat "$tmp"
    if [ "$rc" -eq 0 ] && ! check_rollup "$tmp"; then
        rc=1
    fi
    rm -f "$tmp"
    return "$rc"
}

# init_node DIR [ID]: a fresh station node in DIR.
init_node() {
    local d=$1 id=${2:-xx-county/longhua/xinhe}
    "$WMCTL" init --role station --id "$id" --name "新河村文明实践站" --dir "$d" >/dev/null ||
        { fail "init $d"; return 1; }
}

# start_daemon DIR [ARGS...]: starts wmsyncd in the background, output
# appended to DIR/daemon.log; its pid is in $DPID.
start_daemon() {
    local d=$1
    shift
    "$WMSYNCD" -c "$d/wmsync.conf" "$@" >>"$d/daemon.log" 2>&1 &
    DPID=$!
    DAEMON_PIDS+=("$DPID")
}

# wait_ready DIR [PID] [TIMEOUT_S]: polls status --json until the daemon
# answers. Fails early if PID exits.
wait_ready() {
    local d=$1 pid=${2:-$DPID} limit=${3:-10}
    local deadline=$(($(now_ms) + limit * 1000 * SLOW))
    while [ "$(now_ms)" -lt "$deadline" ]; do
        if w "$d" status --json 2>/dev/null | grep -q '"daemon_running":true'; then
            return 0
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            fail "daemon for $d exited before it was ready (log: $(tail -3 "$d/daemon.log" 2>/dev/null))"
            return 1
        fi
        sleep 0.05
    done
    fail "daemon for $d not ready within ${limit}s"
    return 1
}

# wait_exit PID [TIMEOUT_S]: waits for a daemon we started to exit; its exit
# status is in $EXIT_RC (-1 on timeout).
wait_exit() {
    local pid=$1 limit=${2:-10}
    local deadline=$(($(now_ms) + limit * 1000 * SLOW))
    EXIT_RC=-1
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            return 1
        fi
        # a zombie still answers kill -0: reap it once its state says so
        if grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    wait "$pid"
    EXIT_RC=$?
    forget_pid "$pid"
    return 0
}

forget_pid() {
    local p keep=()
    for p in "${DAEMON_PIDS[@]:-}"; do
        [ -n "$p" ] && [ "$p" != "$1" ] && keep+=("$p")
    done
    DAEMON_PIDS=("${keep[@]:-}")
}

# stop_daemon PID [SIGNAL]: signals the daemon and waits; checks exit 0.
stop_daemon() {
    local pid=$1 sig=${2:-TERM}
    kill -"$sig" "$pid" 2>/dev/null
    if ! wait_exit "$pid" 10; then
        fail "daemon $pid did not exit after SIG$sig"
        kill -9 "$pid" 2>/dev/null
        return 1
    fi
    if [ "$EXIT_RC" -ne 0 ]; then
        fail "daemon $pid exited $EXIT_RC after SIG$sig"
        return 1
    fi
    pass "daemon stopped by SIG$sig"
}

# kill9 PID: kill -9 and reap.
kill9() {
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    forget_pid "$1"
}

# json_field JSON KEY: prints the value of a top-level key (python3, stdlib).
json_field() {
    python3 -c 'import json,sys
v = json.loads(sys.argv[1]).get(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}

# head_seq DIR: the node's head seq read from the log.
head_seq() {
    local j
    j=$(w "$1" status --json 2>/dev/null) || { echo "?"; return 1; }
    json_field "$j" head_seq
}

# finish: prints the tally and exits nonzero if anything failed (a rollup
# that broke the schema in a subshell counts too).
finish() {
    if [ -s "$SCHEMA_LOG" ]; then
        fail "$(grep -c 'breaks docs/rollup.schema.json' "$SCHEMA_LOG") rollup(s) broke the schema"
    elif [ -s "$T/schema-checked" ]; then
        pass "$(wc -l <"$T/schema-checked") rollup(s) met the schema"
    fi
    echo "$(basename "$0"): $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
}
