# SPDX-License-Identifier: MIT
# it_quota: per-station storage quotas at a town ([quota] in wmsync.conf).
#
# A hostile enrolled station (hostile.c, holding the station's real keys)
# floods the town with valid signed records of an unknown kind, 60 KB each,
# all captured on one day: the town stores one capture day's worth
# (day_mb) and refuses the rest with reason "quota", naming the day and the
# limit, while a well-behaved station (a real wmsyncd) keeps syncing. An
# honest station back after 60 days offline sends its whole backlog at
# once, more than day_mb in one go, and is never refused: the limit is by
# capture day, not by arrival. Raising the limit with SIGHUP lets the
# refused station go on. The usage shows in the town's status --json.
#
#   it_quota.sh WMCTL WMSYNCD HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }

PORT=$(free_port) || { fail "no free port"; finish; }
EP=tcp://127.0.0.1:$PORT
TW=$T/town
E=$T/evil
G=$T/good
B=$T/back
EID=xx/longhua/evil
GID=xx/longhua/good
BID=xx/longhua/back

init_town "$TW" xx/longhua "$PORT" || finish
KEY=$(town_key "$TW")
sed -i 's/^day_mb = .*/day_mb = 1/; s/^total_mb = .*/total_mb = 8/' "$TW/wmsync.conf"
grep -q '^day_mb = 1$' "$TW/wmsync.conf" || { fail "town config has no [quota] day_mb"; finish; }
init_station "$E" "$EID" "$PORT" "$KEY" || finish
init_station "$G" "$GID" "$PORT" "$KEY" || finish
init_station "$B" "$BID" "$PORT" "$KEY" || finish
start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" "$TPID" || finish
for d in "$E" "$G" "$B"; do enroll "$d" "$TW" || finish; done
start_daemon "$G"
wait_ready "$G" || finish

# hx DIR ID SCENARIO ARG: the hostile client's outcome word (details in $T/hx.err).
hx() { "$HOSTILE" "$EP" "$KEY" "$1/keys" "$2" "$3" "$4" 2>"$T/hx.err" | tail -1; }

# quota_of ID KEY: a field of station ID's "quota" object in the town's status.
quota_of() {
    w "$TW" status --json 2>/dev/null | python3 -c 'import json, sys
rows = {r["id"]: r for r in json.load(sys.stdin).get("stations", [])}
print(rows.get(sys.argv[1], {}).get("quota", {}).get(sys.argv[2], "absent"))' "$1" "$2"
}

# 1. The flood: 40 records of 60 KB on one capture day, against 1 MiB a day.
got=$(hx "$E" "$EID" quota_flood 40)
if [ "$got" = quota ]; then pass "flood refused with quota"; else
    fail "flood: outcome $got, want quota: $(tail -2 "$T/hx.err")"; fi
expect_in "$T/hx.err" "2024-03-15" "the refusal names the capture day"
expect_in "$T/hx.err" "day_mb" "the refusal names the limit"
held=$(town_row "$TW" "$EID" seq)
check "the town holds one day's worth of the flood ($held records of 60 KB)" \
    [ "$held" -ge 10 ] && [ "$held" -le 17 ]
bytes=$(quota_of "$EID" bytes)
check "status: the flood's bytes ($bytes) are within day_mb" \
    [ "$bytes" -gt 600000 ] && [ "$bytes" -le 1048576 ]
check "status: the flood's fullest day is 2024-03-15" [ "$(quota_of "$EID" max_day)" = 2024-03-15 ]
check "status: the day limit is shown" [ "$(quota_of "$EID" day_limit)" = 1048576 ]
poll 10 "status: last_reject of the flooding station is quota" row_is "$TW" "$EID" last_reject quota
expect_in "$TW/daemon.log" "quota" "the town logs the refusal"

# Meanwhile (and after) the good station syncs.
rec_n "$G" 5 good
poll 20 "the good station is in step with the town" synced "$TW" "$G"

# Again: still refused, nothing more stored.
got=$(hx "$E" "$EID" quota_flood 40)
check "flood again: refused with quota ($got)" [ "$got" = quota ]
check "flood again: nothing more stored" [ "$(town_row "$TW" "$EID" seq)" = "$held" ]

# 2. An honest backlog: 60 capture days of 60 records (some 1.4 MB, more
#    than day_mb) arriving at once: all acked.
got=$(hx "$B" "$BID" backlog 60x60)
if [ "$got" = ack ]; then pass "60-day backlog acked in full"; else
    fail "backlog: outcome $got, want ack: $(tail -2 "$T/hx.err")"; fi
check "town holds the whole backlog" [ "$(town_row "$TW" "$BID" seq)" = 3600 ]
check "status: the backlog spans 60 capture days" [ "$(quota_of "$BID" days)" = 60 ]
bb=$(quota_of "$BID" bytes)
check "status: the backlog ($bb bytes) is more than one day's limit" [ "$bb" -gt 1048576 ]

# 3. The operator raises the limit; SIGHUP; the refused station goes on.
sed -i 's/^day_mb = .*/day_mb = 4/' "$TW/wmsync.conf"
kill -HUP "$TPID"
poll 10 "town logs the reload" grep -q "SIGHUP: reloaded" "$TW/daemon.log"
got=$(hx "$E" "$EID" quota_flood 40)
check "after raising day_mb the station's 40 records are all stored ($got)" [ "$got" = ack ]
check "town holds all 40" [ "$(town_row "$TW" "$EID" seq)" = 40 ]

# Everyone else was served throughout.
rec_n "$G" 3 after
poll 20 "the good station is still in step" synced "$TW" "$G"
check "the town daemon is still running" kill -0 "$TPID"
finish
