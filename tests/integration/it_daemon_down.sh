# SPDX-License-Identifier: MIT
# it_daemon_down: wmctl without a daemon. record exits 1 and says the
# daemon is not running (also with a stale socket left by kill -9, and
# promptly); log, verify and status read LMDB directly and work with the
# daemon down. SIGTERM and SIGINT stop the daemon cleanly (exit 0, socket
# removed); a second daemon for the same node refuses to start; the
# control socket is mode 0600.
. "$(dirname "$0")/lib.sh"

N=$T/node
SOCK=$N/control.sock
init_node "$N" || finish
REC=(record activity --date 2024-03-01 --category theme_lecture --title 宣讲)

# not_running: the last command said the daemon is not running.
not_running() {
    expect_in "$ERR" "not running" "$1: message says the daemon is not running"
    expect_in "$ERR" "nothing was recorded" "$1: message says nothing was recorded"
}

# --- never started: no data directory at all -----------------------------------
expect_rc 1 w "$N" "${REC[@]}"
not_running "never started"
expect_rc 1 w "$N" "${REC[@]}" --json
expect_rc 0 w "$N" log
expect_rc 0 w "$N" log --json
check "log --json of an empty node prints nothing" [ ! -s "$OUT" ]
expect_rc 0 w "$N" verify
expect_rc 0 w "$N" status --json
check "status, never started: daemon_running false, head 0" python3 -c '
import json,sys; o=json.load(open(sys.argv[1]))
assert o["daemon_running"] is False and o["head_seq"] == 0 and o["records"] == 0, o' "$OUT"
expect_rc 0 w "$N" status
expect_in "$OUT" "not running" "status (text) says not running"

# --- running: socket mode, records -------------------------------------------------
start_daemon "$N"
wait_ready "$N" || finish
P1=$DPID
m=$(stat -c %a "$SOCK" 2>/dev/null)
check "control socket is mode 0660: the daemon's group may use it (got $m)" [ "$m" = 660 ]
check "control socket is a socket" [ -S "$SOCK" ]
for i in 1 2 3; do
    expect_rc 0 w "$N" record activity --date 2024-03-0$i --category theme_lecture --title "宣讲$i"
done

# --- a second daemon for the same node refuses while the first runs ------------------
start_daemon "$N"
P2=$DPID
if wait_exit "$P2" 10; then
    check "second daemon exits nonzero (got $EXIT_RC)" [ "$EXIT_RC" -ne 0 ]
else
    fail "second daemon for the same node kept running"
    kill9 "$P2"
fi
check "second daemon says another one runs" grep -q "already running" "$N/daemon.log"
check "first daemon still alive" kill -0 "$P1"
check "socket still there after the refused second daemon" [ -S "$SOCK" ]
expect_rc 0 w "$N" "${REC[@]}"
expect_in "$OUT" "as seq 4 (epoch 1)" "first daemon still records after the refused second"

# --- SIGTERM: clean stop --------------------------------------------------------------
stop_daemon "$P1" TERM
check "socket removed after SIGTERM" [ ! -e "$SOCK" ]
expect_in "$N/daemon.log" "shutting down" "daemon logged its shutdown"

# --- reads with the daemon down ---------------------------------------------------------
expect_rc 1 w "$N" "${REC[@]}"
not_running "after SIGTERM"
expect_rc 0 w "$N" log
check "log with daemon down shows 4 records" [ "$(grep -c . "$OUT")" -eq 4 ]
expect_in "$OUT" "宣讲2" "log with daemon down shows the titles"
expect_rc 0 w "$N" log --json
check "log --json with daemon down: seqs 1..4" python3 -c '
import json,sys
s=[json.loads(l)["seq"] for l in open(sys.argv[1]) if l.strip()]; assert s == [1,2,3,4], s' "$OUT"
expect_rc 0 w "$N" verify
expect_in "$OUT" "ok:" "verify with daemon down"
expect_rc 0 w "$N" verify --json
expect_rc 0 w "$N" status --json
check "status with daemon down: head 4, daemon_running false" python3 -c '
import json,sys; o=json.load(open(sys.argv[1]))
assert o["daemon_running"] is False and o["head_seq"] == 4 and o["records"] == 4, o
assert o["role"] == "station" and o["id"] == "xx-county/longhua/xinhe", o' "$OUT"

# --- SIGINT: clean stop too -------------------------------------------------------------
start_daemon "$N"
wait_ready "$N" || finish
expect_rc 0 w "$N" "${REC[@]}"
stop_daemon "$DPID" INT
check "socket removed after SIGINT" [ ! -e "$SOCK" ]
check "head 5 after SIGINT stop" [ "$(head_seq "$N")" = 5 ]

# --- kill -9 leaves a stale socket: record still says not running, promptly ---------------
start_daemon "$N"
wait_ready "$N" || finish
expect_rc 0 w "$N" "${REC[@]}"
kill9 "$DPID"
check "stale control socket left behind by kill -9" [ -S "$SOCK" ]
t0=$(now_ms)
expect_rc 1 timeout 10 "$WMCTL" -c "$N/wmsync.conf" "${REC[@]}"
el=$(($(now_ms) - t0))
not_running "stale socket"
check "record with a stale socket answers promptly (${el} ms < 2000)" [ "$el" -lt 2000 ]
t0=$(now_ms)
expect_rc 0 timeout 10 "$WMCTL" -c "$N/wmsync.conf" status --json
el=$(($(now_ms) - t0))
check "status with a stale socket: daemon_running false" grep -q '"daemon_running":false' "$OUT"
check "status with a stale socket answers promptly (${el} ms < 2000)" [ "$el" -lt 2000 ]
expect_rc 0 w "$N" verify
check "head 6 after kill -9 (the acknowledged record survived)" [ "$(head_seq "$N")" = 6 ]

# --- restart over the stale socket ---------------------------------------------------------
start_daemon "$N"
wait_ready "$N" || finish
expect_rc 0 w "$N" "${REC[@]}"
expect_in "$OUT" "as seq 7 (epoch 1)" "restart over a stale socket continues at seq 7"
m=$(stat -c %a "$SOCK" 2>/dev/null)
check "recreated control socket is mode 0660 (got $m)" [ "$m" = 660 ]
stop_daemon "$DPID" TERM
expect_rc 0 w "$N" verify

finish
