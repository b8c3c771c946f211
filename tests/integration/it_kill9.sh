# SPDX-License-Identifier: MIT
# it_kill9: nothing acknowledged is ever lost. For ROUNDS rounds (default
# 20): start the daemon, run WRITERS background writer loops recording
# activities with unique titles, kill -9 the daemon after a random 0.05-0.4 s
# (times WM_IT_SLOW), let the writers notice, restart. A title goes to the
# "accepted" file (with the seq the daemon acknowledged) only when wmctl
# exited 0. At the end every accepted title is in the log exactly once at
# its acknowledged seq, no title appears twice, nothing unattempted
# appears, seqs are 1..N with no gap and the whole chain verifies. The fork
# guard must never refuse a restart after kill -9.
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-20}
WRITERS=${WRITERS:-2}
N=$T/node
ACC=$T/accepted
ATT=$T/attempted
init_node "$N" || finish
: >"$ACC"
: >"$ATT"

# writer ROUND ID: records until wmctl fails (the daemon was killed).
# Each wmctl runs in the background with its pid in $T/inflight.ID, so the
# main loop can end one that waits for the reply of a daemon it killed
# (wmctl would wait its own 15 s reply timeout). A wmctl ended that way
# exited nonzero: its title is attempted, not accepted, which is exactly
# what a user who saw no success line knows.
writer() {
    local round=$1 id=$2 i=0 title out cp rc
    while :; do
        title="kill9-r${round}-w${id}-n${i}-第${i}次宣讲"
        echo "$title" >>"$ATT"
        timeout -s KILL 30 "$WMCTL" -c "$N/wmsync.conf" record activity \
            --date 2024-03-01 --category theme_lecture --title "$title" \
            >"$T/w$id.out" 2>>"$T/writer.err" &
        cp=$!
        echo "$cp" >"$T/inflight.$id"
        wait "$cp"
        rc=$?
        [ "$rc" -eq 0 ] || return 0
        out=$(cat "$T/w$id.out")
        # "recorded activity as seq N (epoch E)"
        echo "$title ${out#recorded activity as seq }" >>"$ACC"
        i=$((i + 1))
    done
}

# alive PID...: some of the pids still run.
alive() {
    local p
    for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
    return 1
}

cut=0
for round in $(seq 1 "$ROUNDS"); do
    start_daemon "$N"
    if ! wait_ready "$N" "$DPID" 10; then
        fail "round $round: daemon did not come back after kill -9 (log: $(tail -2 "$N/daemon.log"))"
        break
    fi
    wpids=()
    for id in $(seq 1 "$WRITERS"); do
        writer "$round" "$id" &
        wpids+=($!)
    done
    ms=$(((50 + RANDOM % 351) * SLOW))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill9 "$DPID"
    # Writers notice a dead daemon at their next call (exit 1, not running);
    # one whose request was in flight is ended after a grace period.
    deadline=$(($(now_ms) + 500))
    while alive "${wpids[@]}" && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
    if alive "${wpids[@]}"; then
        cut=$((cut + 1))
        for id in $(seq 1 "$WRITERS"); do
            cp=$(cat "$T/inflight.$id" 2>/dev/null)
            if [ -n "$cp" ] && grep -q '^timeout' "/proc/$cp/cmdline" 2>/dev/null; then
                kill -TERM "$cp" 2>/dev/null # timeout passes it on to wmctl
            fi
        done
    fi
    deadline=$(($(now_ms) + 10000))
    while alive "${wpids[@]}" && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
    if alive "${wpids[@]}"; then
        fail "round $round: writers still running 10 s after the daemon was killed"
        kill -9 "${wpids[@]}" 2>/dev/null
    fi
    for p in "${wpids[@]}"; do wait "$p" 2>/dev/null; done
done
pass "ran $ROUNDS kill -9 rounds"
[ "$cut" -gt 0 ] && echo "note: in $cut of $ROUNDS round(s) a wmctl waited for the reply of the killed daemon and was ended by the test"

n_acc=$(grep -c . "$ACC")
check "writers got records accepted ($n_acc)" [ "$n_acc" -ge "$ROUNDS" ]

expect_rc 0 w "$N" log --json
cp "$OUT" "$T/log.json"
check "log --json: accepted titles exactly once at their acked seq; seqs 1..N; no dup; nothing unattempted" \
    python3 "$(dirname "$0")/check_accepted.py" "$T/log.json" "$ACC" "$ATT" kill9 --epoch 1

expect_rc 0 w "$N" verify
expect_in "$OUT" "ok:" "verify after $ROUNDS kill -9 rounds"
expect_rc 0 w "$N" status --json
check "status head_seq = records = log length" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
n = sum(1 for l in open(sys.argv[2]) if l.strip())
assert o["head_seq"] == o["records"] == n and o["epoch"] == 1, (o, n)' "$OUT" "$T/log.json"

# one last restart: the fork guard accepts the log, and the next seq follows on
start_daemon "$N"
wait_ready "$N" || finish
expect_rc 0 w "$N" record activity --date 2024-03-02 --category theme_lecture --title 收尾
n=$(grep -c . "$T/log.json")
expect_in "$OUT" "as seq $((n + 1)) (epoch 1)" "after the rounds the next record takes seq $((n + 1))"
stop_daemon "$DPID" TERM
expect_rc 0 w "$N" verify

finish
