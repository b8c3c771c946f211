# SPDX-License-Identifier: MIT
# it_sync_kill9: replication survives kill -9 on either side.
#
# A town and stations a and b; one writer loop per station records
# activities with unique titles for the whole test. For ROUNDS rounds
# (default 50): after a random 0.05-0.5 s, kill -9 the town (odd rounds) or
# a random station (even rounds), then restart it.
#
# Before each kill of the town, each station's acked_seq is read (from its
# LMDB); right after the kill the town's stored seq for that station (read
# from the town's LMDB, daemon down) must be at least that: nothing a
# station was told is durable may be lost.
#
# At the end, with the writers stopped: everything converges (the town holds
# each station's head, acked_seq == head_seq, nothing pending); every title
# a station's wmctl reported accepted is in that station's log exactly once
# at the acknowledged seq, no title twice, nothing unattempted; nothing was
# quarantined; verify passes at both stations.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

ROUNDS=${ROUNDS:-50}
run_town_ab || finish
for s in a b; do : >"$T/acc.$s"; : >"$T/att.$s"; done

# writer NAME: records at station NAME until $T/stop exists. A record is
# "accepted" only if wmctl exited 0; one whose daemon died under it is
# ended by timeout (its title stays merely "attempted").
writer() {
    local s=$1 i=0 title out
    while [ -d "$T" ] && [ ! -e "$T/stop" ]; do
        title="k9-$s-$i-第${i}次宣讲"
        echo "$title" >>"$T/att.$s"
        if out=$(timeout -s KILL 2 "$WMCTL" -c "$T/$s/wmsync.conf" record activity \
            --date 2024-03-01 --category theme_lecture --title "$title" 2>/dev/null); then
            # "recorded activity as seq N (epoch E)"
            echo "$title ${out#recorded activity as seq }" >>"$T/acc.$s"
        else
            sleep 0.02
        fi
        i=$((i + 1))
    done
}
start_writers writer a b

town_kills=0
station_kills=0
lost=0
max_acked=0
for round in $(seq 1 "$ROUNDS"); do
    sleep "$(printf '0.%02d' $((5 + RANDOM % 46)))"
    if [ $((round % 2)) = 1 ]; then
        # nothing acked is lost: the town's disk holds at least each acked_seq
        acked_a=$(jget "$(st "$T/a")" acked_seq)
        acked_b=$(jget "$(st "$T/b")" acked_seq)
        [ "$acked_a" -gt "$max_acked" ] 2>/dev/null && max_acked=$acked_a
        kill9 "$TPID"
        town_kills=$((town_kills + 1))
        tj=$(st "$TW")
        have_a=$(python3 -c "$SYNC_PY" row "$tj" xx/longhua/a seq)
        have_b=$(python3 -c "$SYNC_PY" row "$tj" xx/longhua/b seq)
        if ! [ "$have_a" -ge "$acked_a" ] 2>/dev/null || ! [ "$have_b" -ge "$acked_b" ] 2>/dev/null; then
            fail "round $round: town lost acked records: a acked $acked_a, town has $have_a; b acked $acked_b, town has $have_b"
            lost=$((lost + 1))
        fi
        start_daemon "$TW"
        TPID=$DPID
        wait_ready "$TW" "$TPID" 10 || { fail "round $round: town did not restart"; break; }
    else
        s=$([ $((RANDOM % 2)) = 0 ] && echo a || echo b)
        kill9 "${PID[$s]}"
        station_kills=$((station_kills + 1))
        start_daemon "$T/$s"
        PID[$s]=$DPID
        wait_ready "$T/$s" "$DPID" 10 || { fail "round $round: station $s did not restart"; break; }
    fi
done
stop_writers
check "ran $ROUNDS rounds: $town_kills town kills, $station_kills station kills" \
    [ "$town_kills" -gt 0 -a "$station_kills" -gt 0 ]
check "nothing acked was lost at any of $town_kills town kills" [ "$lost" -eq 0 ]
check "the acked check was not vacuous (a had $max_acked acked before a town kill)" [ "$max_acked" -gt 0 ]
for s in a b; do
    n=$(grep -c . "$T/acc.$s")
    check "station $s: writers got records accepted ($n)" [ "$n" -ge 10 ]
done

poll 60 "after the rounds everything converges" converged "$TW" "$T/a" "$T/b"
for s in a b; do
    h=$(head_seq "$T/$s")
    check "station $s: town seq = head ($h)" row_is "$TW" "xx/longhua/$s" seq "$h"
    check "station $s: acked_seq = head_seq ($h)" field_is "$T/$s" acked_seq "$h"
    check "station $s: not quarantined, no equivocation proof" row_is "$TW" "xx/longhua/$s" proofs 0
    expect_rc 0 w "$T/$s" log --json
    cp "$OUT" "$T/log.$s"
    check "station $s: accepted titles once each at their acked seq; seqs 1..N; nothing unattempted" \
        python3 "$(dirname "$0")/check_accepted.py" "$T/log.$s" "$T/acc.$s" "$T/att.$s" "$s"
done

for s in a b; do stop_daemon "${PID[$s]}" TERM; done
stop_daemon "$TPID" TERM
for s in a b; do
    expect_rc 0 w "$T/$s" verify
    expect_in "$OUT" "ok:" "verify at $s after $ROUNDS rounds"
done
check "after shutdown the town's disk holds both heads" synced "$TW" "$T/a" "$T/b"
finish
