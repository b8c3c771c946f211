# SPDX-License-Identifier: MIT
# it_corrupt: a damaged data file is a failure everywhere it is read, never
# a shorter answer. A town (its institute records activities too, and only
# an aggregator publishes) records 120 activities over 60 days and 40
# teams, and enrols 100 stations; copies of an online backup are damaged
# in the middle of one sub-database each (corrupt_mdb.py: a branch page
# points at a page past the end of the file, so LMDB answers
# MDB_PAGE_NOTFOUND mid-scan while the file still opens):
#   log + rollup counters: verify, log, bundle export, rollup, report and
#     status exit 1, naming the node and the last record (or day) read; the
#     daemon on that store refuses to publish and appends no RollupReport;
#   teams: rollup exits 1 naming the teams of the node (wm_team_scan);
#   peers: rollup and status exit 1 (wm_peer_scan).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

absent() { ! grep -q "$@"; }

# serving DIR PID: polls DIR/daemon.log for the daemon's "serving" line
# (status fails on a damaged store, so wait_ready cannot be used).
serving() {
    local deadline=$(($(now_ms) + 10000))
    while [ "$(now_ms)" -lt "$deadline" ] && kill -0 "$2" 2>/dev/null; do
        grep -q " serving: " "$1/daemon.log" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "daemon for $1 did not start serving (log: $(tail -3 "$1/daemon.log" 2>/dev/null))"
    return 1
}

N=$T/node
D=$T/damaged
ID=xx-county/longhua
init_town "$N" "$ID" "$(free_port)" || finish
start_daemon "$N"
PIDN=$DPID
wait_ready "$N" || finish
LONG=$(printf '志愿服务队%.0s' $(seq 1 15))
bad=0
for i in $(seq 1 40); do
    w "$N" record team --team "t$i" --name "$LONG$i" >/dev/null || bad=1
done
check "40 teams recorded" [ "$bad" = 0 ]
for i in $(seq 1 100); do
    printf 'wmsync-id 1 station %s/s%03d %s %s 站%d\n' "$ID" "$i" \
        "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
        "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" "$i" >"$T/s$i.id"
    w "$N" enroll "$T/s$i.id" >/dev/null || bad=1
done
check "100 stations enrolled" [ "$bad" = 0 ]
for i in $(seq 1 120); do
    d=$(date -u -d "2024-01-01 + $((i % 60)) days" +%F)
    w "$N" record activity --date "$d" --category theme_lecture --title "主题宣讲第${i}场" \
        --participants 40 >/dev/null || bad=1
done
check "120 activities recorded" [ "$bad" = 0 ]
expect_rc 0 w "$N" backup --out "$T/good.mdb"
stop_daemon "$PIDN"

# A damaged copy runs as a node of its own: same keys, same config.
# damaged DIR DB...: DIR holds the backup with each DB cut (the town is
# node 1: its keys begin with 00000001); the keys cut are in $CUT_db.
damaged() {
    local dir=$1 db
    shift
    mkdir -p "$dir/data"
    cp -r "$N/keys" "$N/wmsync.conf" "$dir/"
    cp "$T/good.mdb" "$dir/data/data.mdb"
    for db in "$@"; do
        local prefix=00000001
        [ "$db" = peers ] && prefix=
        local cut
        cut=$(python3 "$(dirname "$0")/corrupt_mdb.py" "$dir/data/data.mdb" "$db" $prefix)
        check "a branch page of $db was cut (first key lost: $cut)" [ -n "$cut" ]
        eval "CUT_$db=\$cut"
    done
}
damaged "$D" log rollup
# What a scan reads last before the cut: the record before it (log key:
# node u32 | epoch u32 | seq u64); the day before it (rollup key: scope u32
# | day u32; the 120 records cover 60 days in a row).
LAST="1/$((16#${CUT_log:16} - 1))"
LASTDAY=$(date -u -d "1970-01-01 + $((16#${CUT_rollup:8:8} - 1)) days" +%F)

# The undamaged copy reads in full (the tool cut nothing else).
expect_rc 0 w "$N" verify
expect_in "$OUT" "160 record(s)" "the undamaged log verifies in full (40 teams, 120 activities)"

expect_rc 1 w "$D" verify
expect_in "$OUT" "FAILED: $ID: record $LAST" "verify names the node and the last record read"
expect_in "$OUT" "MDB_PAGE_NOTFOUND" "verify says what LMDB found"
check "verify does not say ok" absent "^ok" "$OUT"

expect_rc 1 w "$D" log
expect_in "$ERR" "cannot read the log of $ID past record $LAST" "log names the node and where it stopped"
expect_in "$ERR" "the rest was not" "log says the list is partial"

expect_rc 1 w "$D" bundle export --out "$T/x.wmb"
expect_in "$ERR" "cannot read the log of $ID past record $LAST" \
    "bundle export names the node and where it stopped"
check "no bundle file is left behind" [ ! -e "$T/x.wmb" ]

for c in rollup report; do
    expect_rc 1 w "$D" $c --period 2024-Q1
    expect_in "$ERR" "cannot read the rollup counters of $ID" "$c names the node"
    expect_in "$ERR" "after $LASTDAY" "$c names the last day read"
    check "$c prints no figures" [ ! -s "$OUT" ]
done

expect_rc 1 w "$D" status
expect_in "$ERR" "cannot read the log of $ID" "status names the node"

# The daemon on the damaged store starts (the head reads), but publishes
# nothing: a report computed from a failed read is never signed.
start_daemon "$D"
PIDD=$DPID
serving "$D" "$PIDD" || finish
HEAD_BEFORE=$(w "$D" log --epoch 1 --from 120 --json | wc -l)
expect_rc 1 w "$D" publish --period 2024-Q1
expect_in "$ERR" "cannot read the rollup counters of $ID" "publish says why it refused"
expect_in "$D/daemon.log" "refusing to publish 2024-Q1" "the daemon logs the refusal"
expect_rc 0 w "$D" log --epoch 1 --from 120 --json
check "no record was appended (head still 120)" [ "$(wc -l <"$OUT")" = "$HEAD_BEFORE" ]
check "no RollupReport in the log's tail" absent '"rollup' "$OUT"
stop_daemon "$PIDD"

damaged "$T/teams" teams
expect_rc 1 w "$T/teams" rollup --period 2024-Q1
expect_in "$ERR" "cannot read the teams of $ID" "a damaged teams index fails the rollup, naming the node"
check "no figures without the teams" [ ! -s "$OUT" ]

damaged "$T/peers" peers
expect_rc 1 w "$T/peers" rollup --period 2024-Q1
expect_in "$ERR" "cannot read the register of enrolled stations of $ID" \
    "a damaged register fails the rollup"
expect_rc 1 w "$T/peers" status
expect_in "$ERR" "cannot read the log of $ID" "a damaged register fails status"
finish
