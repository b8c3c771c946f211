# SPDX-License-Identifier: MIT
# it_log_flood: a hostile enrolled station floods a real town with garbage
# frames; the town's log stays bounded (at most [log] peer_lines lines per
# peer per peer_window seconds, then one summary line "… and N more from
# PEER in the last …"), the written lines and the summaries account for
# every frame, and a real station keeps syncing meanwhile.
#
#   it_log_flood.sh WMCTL WMSYNCD HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }
FRAMES=${FLOOD_FRAMES:-20000}
LINES=5
WINDOW=2

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
E=$T/evil
G=$T/good
EID=xx/longhua/evil
init_town "$TW" xx/longhua "$PORT" || finish
printf '[log]\npeer_lines = %s\npeer_window = %s\n' "$LINES" "$WINDOW" >>"$TW/wmsync.conf"
KEY=$(town_key "$TW")
init_station "$E" "$EID" "$PORT" "$KEY" || finish
init_station "$G" xx/longhua/good "$PORT" "$KEY" || finish
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
enroll "$E" "$TW" || finish
enroll "$G" "$TW" || finish
start_daemon "$G"
wait_ready "$G" || finish

# acked DIR: the station's head is acked by the town.
acked() {
    local j
    j=$(w "$1" status --json 2>/dev/null) || return 1
    [ "$(json_field "$j" acked_seq)" = "$(json_field "$j" head_seq)" ]
}

# --- the flood, while the good station records --------------------------------
T0=$(now_ms)
"$HOSTILE" "tcp://127.0.0.1:$PORT" "$KEY" "$E/keys" "$EID" flood "$FRAMES" \
    >"$T/flood.out" 2>"$T/flood.err" &
FLOOD=$!
rec_n "$G" 10 flood
wait "$FLOOD"
check "flood of $FRAMES sent ($(cat "$T/flood.err"))" grep -qx flooded "$T/flood.out"
deadline=$(($(now_ms) + 15000))
until acked "$G"; do
    [ "$(now_ms)" -ge "$deadline" ] && break
    sleep 0.1
done
check "good station synced through the flood" acked "$G"
check "good station at seq 10" [ "$(head_seq "$G")" = 10 ]

# tally: "WRITTEN HELD SUMMARIES" for the evil station in the town's log.
tally() {
    python3 - "$TW/daemon.log" "$EID" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
peer = re.escape(sys.argv[2])
written = len(re.findall(r"sync: rejected a message from " + peer + r": malformed", text))
held = [int(n.replace(",", "")) for n in
        re.findall(r"… and ([\d,]+) more from " + peer + r" in the last ", text)]
print(written, sum(held), len(held))
PY
}

# Every frame is either a line or counted in a summary, once its window ends.
deadline=$(($(now_ms) + 15000))
while :; do
    read -r WRITTEN HELD SUMS < <(tally)
    [ $((WRITTEN + HELD)) -ge "$FRAMES" ] && break
    [ "$(now_ms)" -ge "$deadline" ] && break
    sleep 0.1
done
SECS=$(( ($(now_ms) - T0) / 1000 + 1 ))
check "every frame accounted for: $WRITTEN written + $HELD in $SUMS summaries = $FRAMES" \
    [ $((WRITTEN + HELD)) = "$FRAMES" ]
MAXW=$(( LINES * (SECS / WINDOW + 2) ))
check "at most $MAXW lines written for $FRAMES frames in ${SECS}s (wrote $WRITTEN)" \
    [ "$WRITTEN" -le "$MAXW" ]
check "the summary names the station" \
    grep -q "… and [0-9,]* more from $EID in the last $WINDOW s" "$TW/daemon.log"
TOTAL=$(wc -l <"$TW/daemon.log")
check "the town's whole log stays short ($TOTAL lines)" [ "$TOTAL" -le $((MAXW + 100)) ]
check "town still serving" kill -0 "$TPID"

# The budget is per peer: the good station's lines were never held back.
check "nothing from the good station held back" \
    bash -c "! grep -q 'more from xx/longhua/good' '$TW/daemon.log'"
finish
