# SPDX-License-Identifier: MIT
# it_budget: the aggregator's memory budget ([sync] memory_mb) is enforced
# through credit (PROTOCOL.md §2), and a child that keeps the credit it is
# granted is never refused nor stalled. A client (hostile.c `credit`)
# sends 20,000 valid records in batches of 2,000, keeping exactly the
# credit of the Welcome plus what each answer returns:
#   - memory_mb = 1: the Welcome grants 1 batch (a batch may be 1 MiB, the
#     budget of what is in flight is half of 1 MiB), it stays at 1, and
#     every batch is acked;
#   - memory_mb = 0 (no budget): 8, as always;
#   - memory_mb = 8: 4 at the Welcome (4 MiB for batches of up to 1 MiB),
#     grown to 8 once the batches turn out smaller;
# and the town stores every record of each.
#
#   it_budget.sh WMCTL WMSYNCD HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }

PORT=$(free_port) || { fail "no free port"; finish; }
EP=tcp://127.0.0.1:$PORT
TW=$T/town
init_town "$TW" xx/longhua "$PORT" || finish
KEY=$(town_key "$TW")
sed -i 's/^day_mb = .*/day_mb = 0/' "$TW/wmsync.conf" # all records of one capture day
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish

# run_credit N MEMORY_MB WANT: a fresh station sN sends 20,000 records to
# the town restarted with memory_mb = MEMORY_MB; its output must be WANT.
run_credit() {
    local d=$T/s$1 id=xx/longhua/s$1 got
    init_station "$d" "$id" "$PORT" "$KEY" && enroll "$d" "$TW" || return 1
    stop_daemon "$TPID" || return 1
    sed -i '/^memory_mb = /d; s/^# memory_mb = .*/&\nmemory_mb = '"$2"'/' "$TW/wmsync.conf"
    start_daemon "$TW"
    TPID=$DPID
    wait_ready "$TW" "$TPID" || return 1
    got=$("$HOSTILE" "$EP" "$KEY" "$d/keys" "$id" credit 20000 2>"$T/credit$1.err")
    if [ "$got" = "$3" ]; then
        pass "memory_mb = $2: $got"
    else
        fail "memory_mb = $2: got \"$got\", want \"$3\" ($(tail -3 "$T/credit$1.err"))"
    fi
}
run_credit 1 1 "ack welcome=1 min=1 max=1"
run_credit 2 0 "ack welcome=8 min=8 max=8"
run_credit 3 8 "ack welcome=4 min=4 max=8"
check "the budget is in the config" grep -q '^memory_mb = 8$' "$TW/wmsync.conf"
stored() { [ "$(town_row "$TW" "xx/longhua/s$1" seq)" = 20000 ]; }
for i in 1 2 3; do
    poll 30 "the town holds every record of s$i" stored "$i"
done
finish
