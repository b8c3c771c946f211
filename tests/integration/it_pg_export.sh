# SPDX-License-Identifier: MIT
# it_pg_export: a town's verified records into a real PostgreSQL 15 started
# here in a temporary directory (pg_lib.sh; skipped, exit 77, with the
# reason, where PostgreSQL cannot run), through `wmctl export`:
#   - three stations record random records of every kind (pg_records.py:
#     voids, voids of voids, plans and completions, site checklists, late
#     entries, teams), and needs and orders with the town (pg_orders.py:
#     the whole loop, races, steps out of date order, steps not counted)
#     and sync to the town; a one-shot export creates the
#     schema and loads every record of the town's log, each row's hash the
#     log's own;
#   - a second export adds nothing (exported 0, the same rows); --since
#     into another database leaves its cursor unset;
#   - the views' figures (wmsync.totals) equal `wmctl rollup --format json`
#     key by key, those of needs and orders too, for 25 random periods at
#     the town and at each station (pg_compare.py);
#   - at a county above the town: the town's published rollups in both
#     forms (JSON to a county of an older build, then binary RollupPart
#     records) in wmsync.rollup, each report's totals the town's; a
#     database of schema version 1 is migrated to 4;
#   - `wmctl export --follow` while the stations keep recording:
#     PostgreSQL is crashed (pg_ctl -m immediate) in the middle, the
#     exporter retries, PostgreSQL comes back and every record arrives
#     once: per station, rows = the station's head seq, no gap, cursor at
#     the head; SIGTERM stops the exporter with exit 0.
# WM_IT_SEED picks the random records (default: the time).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"
. "$(dirname "$0")/pg_lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
export TZ=UTC
SEED=${WM_IT_SEED:-$(date +%s)}
echo "it_pg_export: seed $SEED (WM_IT_SEED)"
if ! why=$(pg_have); then
    echo "SKIP: $why"
    exit 77
fi
PGROOT=$(mktemp -d /tmp/wmpg.XXXXXX) || exit 2
chmod 755 "$PGROOT"
trap 'pg_cleanup; rm -rf "$PGROOT"; cleanup' EXIT
if ! pg_start "$PGROOT/pg"; then
    echo "SKIP: PostgreSQL 15 could not be started here (see above)"
    exit 77
fi

# The county above the town starts as an older build (no rollup-bin): the
# town publishes to it in the JSON form first (part 5).
CPORT=$(free_port) || { fail "no free port"; finish; }
COUNTY=$T/county
"$WMCTL" init --role county --id xx --name 县 --dir "$COUNTY" --listen "tcp://127.0.0.1:$CPORT" \
    >/dev/null || { fail "init county"; finish; }
WMSYNCD_FEATURES_OFF=rollup-bin start_daemon "$COUNTY"
CPID=$DPID
wait_ready "$COUNTY" || finish
PORT=$(free_port) || { fail "no free port"; finish; }
TOWN=$T/town
w "$COUNTY" keys >"$T/county.id"
"$WMCTL" init --role town --id xx/longhua --name 龙华镇 --dir "$TOWN" \
    --listen "tcp://127.0.0.1:$PORT" --upstream "tcp://127.0.0.1:$CPORT" \
    --upstream-id "$T/county.id" >/dev/null || { fail "init town"; finish; }
KEY=$(town_key "$TOWN")
enroll "$TOWN" "$COUNTY" || finish
start_daemon "$TOWN"
wait_ready "$TOWN" || finish
S=()
IDS=()
for i in 1 2 3; do
    d=$T/s$i
    init_station "$d" "xx/longhua/s$i" "$PORT" "$KEY" && enroll "$d" "$TOWN" || finish
    start_daemon "$d"
    wait_ready "$d" || finish
    S+=("$d")
    IDS+=("xx/longhua/s$i")
done

# make_records ROUND N: N random records at each station, at once.
declare -A LAST
make_records() {
    local i pids=() bad=0
    for i in 1 2 3; do
        python3 "$HERE/pg_records.py" "$WMCTL" "$T/s$i/wmsync.conf" "$((SEED + 10 * $1 + i))" \
            "$2" "$((${LAST[$i]:-0} + 1))" >"$T/last$i" 2>"$T/gen$i.err" &
        pids+=($!)
    done
    for i in 1 2 3; do
        wait "${pids[$((i - 1))]}" || { bad=1; fail "records at s$i: $(cat "$T/gen$i.err")"; }
        LAST[$i]=$(cat "$T/last$i")
    done
    [ "$bad" = 0 ] && pass "round $1: $2 random records at each station (heads ${LAST[1]} ${LAST[2]} ${LAST[3]})"
}
make_records 1 60
# Needs and orders, the whole loop and its odd cases (pg_orders.py), at the
# town and its stations; the town writes its word as it ingests the steps.
STA=()
for i in 1 2 3; do STA+=("xx/longhua/s$i=$T/s$i/wmsync.conf"); done
if python3 "$HERE/pg_orders.py" "$WMCTL" "$SEED" 4 "$TOWN/wmsync.conf" "${STA[@]}" \
    >"$T/orders.out" 2>"$T/orders.err"; then
    pass "needs and orders at the town and its stations: $(cat "$T/orders.out") records"
else
    fail "needs and orders: $(cat "$T/orders.err")"
fi
for i in 1 2 3; do LAST[$i]=$(head_seq "$T/s$i"); done
# The town pinned the county: the county's log comes down to it. The
# county's order to the town, long overdue, is the county's and no figure
# of the town's (wm_orders_keep_log), in wmctl rollup as in the views.
expect_rc 0 w "$COUNTY" order create --title 县派单 --service-kind other --to xx/longhua \
    --date "$(date -d '-100 days' +%F)" --due "$(date -d '-90 days' +%F)" --json
CORD=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <"$OUT")
poll 30 "the county's order comes down to the town" state_is "$TOWN" order "$CORD" overdue
# The town dispatches it again to a station of its own (层层派单).
expect_rc 0 w "$TOWN" order create --title 县派单转派 --service-kind other --to xx/longhua/s1 \
    --due 2099-12-31 --from-order "$CORD" --json
poll 60 "the town holds and has verified every record" converged "$TOWN" "${S[@]}" || finish

total() { echo $((LAST[1] + LAST[2] + LAST[3] + $(w "$TOWN" log --json | wc -l) + 1)); } # + the county's order

# 1. a one-shot export creates the schema and loads the log.
expect_rc 0 w "$TOWN" export --postgres "$PG_CONN"
expect_in "$ERR" "schema wmsync created at version 5" "the schema is created"
check "schema_version says 5" [ "$(pgq 'SELECT max(version) FROM wmsync.schema_version')" = 5 ]
check "service_order: the town's order names the county's it carries on" \
    [ "$(pgq "SELECT count(*) FROM wmsync.service_order WHERE node = 'xx/longhua' AND from_order = '$CORD'")" = 1 ]
want=$(total)
got=$(pgq 'SELECT count(*) FROM wmsync.records')
check "every record of the town's log is exported ($got of $want)" [ "$got" = "$want" ]
expect_in "$OUT" "exported $want records of 5 logs" "the summary counts them (the county's log too)"
w "${S[0]}" log --json | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l); print("%d|%s|%s" % (r["seq"], r["hash"], r["kind"]))' >"$T/s1.log"
pgq "SELECT seq || '|' || encode(hash, 'hex') || '|' || kind FROM wmsync.records
     WHERE node = 'xx/longhua/s1' ORDER BY epoch, seq" >"$T/s1.pg"
check "each row keeps the log's seq, hash and kind" cmp -s "$T/s1.log" "$T/s1.pg"
check "the cursors stand at the heads" [ "$(pgq "SELECT string_agg(seq::text, ' ' ORDER BY node)
    FROM wmsync.export_cursor WHERE node LIKE 'xx/longhua/s%'")" = "${LAST[1]} ${LAST[2]} ${LAST[3]}" ]

# 2. again: nothing new, nothing twice; --since leaves the cursor alone.
expect_rc 0 w "$TOWN" export --postgres "$PG_CONN"
expect_in "$OUT" "exported 0 records" "a second export adds nothing"
check "the same rows after a re-export" [ "$(pgq 'SELECT count(*) FROM wmsync.records')" = "$want" ]
pgq 'CREATE DATABASE since' >/dev/null
tomorrow=$(date -d tomorrow +%F)
expect_rc 0 w "$TOWN" export --postgres "${PG_CONN/dbname=postgres/dbname=since}" --since "$tomorrow"
check "--since: older records skipped, no cursor moved" [ "$(psql "${PG_CONN/dbname=postgres/dbname=since}" -XAtc \
    'SELECT count(*) FROM wmsync.records UNION ALL SELECT count(*) FROM wmsync.export_cursor' | tr '\n' ' ')" = "0 0 " ]
expect_rc 2 w "$TOWN" export --postgres "$PG_CONN" --since 2024-13-01
expect_in "$ERR" "--since" "a bad --since is refused naming it"
expect_rc 1 w "$TOWN" export --postgres "host=$PGROOT/none dbname=x"
expect_in "$ERR" "cannot connect to PostgreSQL" "an unreachable database is said so"

# 3. the views' figures are wmctl rollup's.
if python3 "$HERE/pg_compare.py" "$WMCTL" "$TOWN/wmsync.conf" "$PG_CONN" "$SEED" 25 "${IDS[@]}" \
    >"$T/compare" 2>&1; then
    pass "$(tail -1 "$T/compare")"
else
    fail "the views differ from wmctl rollup: $(head -c 1500 "$T/compare")"
fi

# 4. --follow through a PostgreSQL crash.
"$WMCTL" -c "$TOWN/wmsync.conf" export --postgres "$PG_CONN" --follow 2>"$T/follow.err" &
FPID=$!
DAEMON_PIDS+=("$FPID")
make_records 2 15
rows() { pgq 'SELECT count(*) FROM wmsync.records' 2>/dev/null || echo 0; }
grew() { [ "$(rows)" -gt "$want" ]; }
poll 30 "the follower exports new records as they arrive" grew
pg_stop immediate
check "PostgreSQL is down" [ ! -f "$PGROOT/pg/data/postmaster.pid" ]
make_records 3 15
retried() { grep -q "retrying in" "$T/follow.err"; }
poll 30 "the follower notices the outage and retries" retried
pg_restart
check "PostgreSQL is back" pgq 'SELECT 1' >/dev/null
make_records 4 10
poll 60 "the town holds and has verified every record" converged "$TOWN" "${S[@]}"
all_in() {
    local want got
    want=$(total)
    got=$(rows)
    echo "$got of $want rows" >"$T/why"
    [ "$got" = "$want" ]
}
poll 60 "every record arrives after the outage" all_in
check "no station has a gap or a double: rows = max(seq) = head" [ "$(pgq "
    SELECT string_agg(c, ' ' ORDER BY node) FROM (SELECT node, count(*) || '=' || max(seq) AS c
    FROM wmsync.records WHERE node LIKE 'xx/longhua/s%' GROUP BY node) x")" = \
    "${LAST[1]}=${LAST[1]} ${LAST[2]}=${LAST[2]} ${LAST[3]}=${LAST[3]}" ]
check "the cursors stand at the new heads" [ "$(pgq "SELECT string_agg(seq::text, ' ' ORDER BY node)
    FROM wmsync.export_cursor WHERE node LIKE 'xx/longhua/s%'")" = "${LAST[1]} ${LAST[2]} ${LAST[3]}" ]
kill -TERM "$FPID"
wait_exit "$FPID" 10
check "SIGTERM stops the follower with exit 0" [ "$EXIT_RC" = 0 ]

# 5. published rollups in both forms, exported at the county: last year in
# JSON (the county an older build), this year binary (RollupPart records,
# once the county agrees rollup-bin); each report's totals are the town's.
Y1=$(($(date +%Y) - 1))
Y2=$(date +%Y)
county_has_town() {
    local want got
    want=$(w "$TOWN" log --json | wc -l)
    got=$(town_row "$COUNTY" xx/longhua seq)
    echo "county holds seq $got of the town's $want" >"$T/why"
    [ "$got" = "$want" ]
}
expect_rc 0 w "$TOWN" publish --period "$Y1"
poll 30 "the county holds the town's JSON report of $Y1" county_has_town
stop_daemon "$CPID"
start_daemon "$COUNTY"
CPID=$DPID
wait_ready "$COUNTY" || finish
# The town learns the county's features at its next Welcome.
welcomed_again() { [ "$(grep -c 'upstream: connected' "$TOWN/daemon.log")" -ge 2 ]; }
poll 30 "the town says hello to the restarted county" welcomed_again
expect_rc 0 w "$TOWN" publish --period "$Y2"
poll 30 "the county holds the town's report of $Y2" county_has_town
CDB=${PG_CONN/dbname=postgres/dbname=county}
pgq 'CREATE DATABASE county' >/dev/null
expect_rc 0 w "$COUNTY" export --postgres "$CDB"
check "the county's export holds both forms" [ "$(psql "$CDB" -XAtc "SELECT string_agg(form || ':' ||
    period || ':' || latest, ' ' ORDER BY period) FROM wmsync.rollup
    WHERE period IN ('$Y1', '$Y2')")" = "json:$Y1:true binary:$Y2:true" ]
check "the binary form's parts are records of kind rollup_part" [ "$(psql "$CDB" -XAtc \
    "SELECT count(*) > 0 FROM wmsync.records WHERE kind = 'rollup_part'")" = t ]
# A database of schema version 1 (an older wmctl) is migrated to 5.
ODB=${PG_CONN/dbname=postgres/dbname=old}
pgq 'CREATE DATABASE old' >/dev/null
psql "$ODB" -Xq -v ON_ERROR_STOP=1 -c "CREATE SCHEMA wmsync; CREATE TABLE wmsync.schema_version
    (version integer PRIMARY KEY, migrated timestamptz NOT NULL DEFAULT now());
    INSERT INTO wmsync.schema_version VALUES (1)" -f "$SRC_DIR/cli/pg_schema_1.sql" 2>/dev/null
expect_rc 0 w "$COUNTY" export --postgres "$ODB"
expect_in "$ERR" "schema wmsync migrated to version 5" "a version 1 database is migrated"
check "the migrated database shows the binary report" [ "$(psql "$ODB" -XAtc \
    "SELECT form FROM wmsync.rollup WHERE period = '$Y2'")" = binary ]
for y in "$Y1" "$Y2"; do
    w "$TOWN" rollup --period "$y" --format json >"$T/town-$y.json"
    psql "$CDB" -XAtc "SELECT report FROM wmsync.rollup WHERE period = '$y'" >"$T/pub-$y.json"
    check "the published $y report's totals are the town's" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["totals"]; b = json.load(open(sys.argv[2]))["totals"]
sys.exit(0 if a == b else 1)' "$T/town-$y.json" "$T/pub-$y.json"
done
finish
