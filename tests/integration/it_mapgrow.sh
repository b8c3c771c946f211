# SPDX-License-Identifier: MIT
# it_mapgrow: the LMDB map grows by itself, at every node.
#
# A town and a station both start with map_size_mb = 1. The town takes far
# more than 1 MiB over the network (a 16-day backlog of an enrolled station
# sent by hostile.c in 1 MiB batches, each bigger than the room left in the
# map) and the station takes hundreds of local appends from parallel
# writers, which it syncs to the town. Nothing is refused, nothing is lost,
# and wmctl, reading both nodes all along from other processes, never
# fails while the maps grow under it.
#
#   it_mapgrow.sh WMCTL WMSYNCD HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }

TW=$T/town
S=$T/station
H=$T/backlog
WRITERS=4
PER_WRITER=${PER_WRITER:-300}

town_with_two "$TW" "$S" "$H" || finish
for d in "$TW" "$S"; do
    grep -q '^map_size_mb = 1$' "$d/wmsync.conf" || { fail "map_size_mb not set in $d"; finish; }
done
start_two "$TW" "$S" "$H" || finish

# reader: wmctl on both nodes, over and over, until $T/stop; every failure
# is noted in $T/reader.fail.
reader() {
    local n=0
    : >"$T/reader.fail"
    while [ ! -e "$T/stop" ]; do
        w "$TW" status --json >/dev/null 2>"$T/reader.err" ||
            echo "town status: $(head -c 300 "$T/reader.err")" >>"$T/reader.fail"
        w "$S" log >/dev/null 2>"$T/reader.err" ||
            echo "station log: $(head -c 300 "$T/reader.err")" >>"$T/reader.fail"
        n=$((n + 1))
    done
    echo "$n" >"$T/reader.rounds"
}

# writer ID: PER_WRITER local appends with long titles; failures to $T/writer.fail.
writer() {
    local id=$1 i pad
    pad=$(printf '%0200d' 0)
    for i in $(seq 1 "$PER_WRITER"); do
        w "$S" record activity --date 2024-03-01 --category theme_lecture \
            --title "w$id-$i-$pad" --place "新河村文化广场-$pad" >/dev/null 2>>"$T/writer.fail.$id" ||
            echo "w$id-$i" >>"$T/writer.fail"
    done
}

: >"$T/writer.fail"
start_writers reader main
for i in $(seq 1 "$WRITERS"); do writer "$i" & WPIDS+=($!); done

# The network: 16 capture days of 400 records of some 400 bytes, in batches
# of up to 1 MiB, into a town whose map started at 1 MiB.
got=$("$HOSTILE" "$EP" "$KEY" "$H/keys" "$HID" backlog 16x400 2>"$T/hx.err" | tail -1)
if [ "$got" = ack ]; then pass "town acked a 6,400-record backlog"; else
    fail "backlog: outcome $got, want ack: $(tail -3 "$T/hx.err")"; fi

# Let the writers finish, then stop the reader.
for p in "${WPIDS[@]:1}"; do wait "$p"; done
stop_writers
check "every local append was accepted ($(wc -l <"$T/writer.fail") failed)" \
    [ ! -s "$T/writer.fail" ]
total=$((WRITERS * PER_WRITER))
check "station head is seq $total" [ "$(head_seq "$S")" = "$total" ]
poll 60 "station in step with the town" synced "$TW" "$S"
check "town holds the whole backlog" [ "$(town_row "$TW" "$HID" seq)" = 6400 ]
check "wmctl read both nodes all along without a failure ($(cat "$T/reader.rounds" 2>/dev/null) rounds): $(head -3 "$T/reader.fail")" \
    [ ! -s "$T/reader.fail" ]
expect_rc 0 w "$S" verify
expect_rc 0 w "$TW" verify --station "$SID"
expect_rc 0 w "$TW" verify --station "$HID"
for d in "$TW" "$S"; do
    sz=$(stat -c %s "$d/data/data.mdb")
    check "$(basename "$d")'s data grew past the 1 MiB first map ($sz bytes)" [ "$sz" -gt 1048576 ]
    if grep -qiE "map|cannot store|append of .* failed" "$d/daemon.log"; then
        fail "$(basename "$d") logged a storage failure: $(grep -iE "map|cannot store|failed" "$d/daemon.log" | head -2)"
    else
        pass "$(basename "$d") logged no storage failure"
    fi
done

# Restarted with the same tiny map_size_mb, both serve and write.
stop_daemon "$SPID"
start_daemon "$S"
wait_ready "$S" || finish
rec "$S" "after the restart" && pass "station appends after a restart with map_size_mb = 1"
poll 30 "station in step after the restart" synced "$TW" "$S"
finish
