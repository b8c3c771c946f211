# SPDX-License-Identifier: MIT
# it_import: `wmctl bundle import` streams the file. A bundle of hundreds
# of MiB (records plus an unknown field, as protobuf allows) is imported
# with a peak RSS of a few MiB, not the file's size; the node id may come
# after the records; a record over the size limit is named with its size
# and the limit before anything is sent; a truncated bundle is refused
# whole. A control socket this user may not open says "permission denied",
# not "not running".
#
#   it_import.sh WMCTL WMSYNCD HOSTILE     (BUNDLE_PAD_MB, default 200)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }
PAD_MB=${BUNDLE_PAD_MB:-200}
N=5000
RSS_MAX_KB=$((48 * 1024))

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
S=$T/s
H=$T/h
init_town "$TW" xx/longhua "$PORT" || finish
KEY=$(town_key "$TW")
init_station "$S" xx/longhua/s "$PORT" "$KEY" || finish
init_station "$H" xx/longhua/h "$PORT" "$KEY" || finish
start_daemon "$TW"
wait_ready "$TW" || finish
enroll "$S" "$TW" || finish
enroll "$H" "$TW" || finish

# town_seq ID: the town's seq for station ID ("absent" if no row).
town_seq() {
    w "$TW" status --json 2>/dev/null | python3 -c 'import json, sys
rows = {r["id"]: r for r in json.load(sys.stdin).get("stations", [])}
print(rows.get(sys.argv[1], {}).get("seq", "absent"))' "$1"
}

# peak_rss CMD...: runs CMD (stdout in $OUT, stderr in $ERR, exit status in
# $RC) and prints its peak resident set size in KiB.
peak_rss() {
    python3 - "$OUT" "$ERR" "$@" <<'PY'
import resource, subprocess, sys
out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "w") as o, open(err, "w") as e:
    rc = subprocess.call(cmd, stdout=o, stderr=e)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# --- a large bundle, imported with bounded memory -------------------------------
B=$T/big.wmb
"$HOSTILE" --bundle "$S/keys" xx/longhua/s "$N" "$B" "pad=$PAD_MB" || fail "generate $B"
SIZE=$(stat -c %s "$B")
read -r RC KB < <(peak_rss "$WMCTL" -c "$TW/wmsync.conf" bundle import "$B")
check "import of a $((SIZE >> 20)) MiB bundle succeeds (rc $RC: $(head -c 300 "$ERR"))" [ "$RC" = 0 ]
expect_in "$OUT" "imported xx/longhua/s: $N new record(s), 0 already held" "all $N records new"
check "peak RSS ${KB} KiB for a $((SIZE >> 20)) MiB bundle (at most $RSS_MAX_KB)" \
    [ "$KB" -le "$RSS_MAX_KB" ]
echo "bundle import: $((SIZE >> 20)) MiB, $N records, peak RSS $((KB / 1024)) MiB" >&2
check "the town holds seq $N" [ "$(town_seq xx/longhua/s)" = "$N" ]
expect_rc 0 w "$TW" bundle import "$B"
expect_in "$OUT" "0 new record(s), $N already held" "a second import: all already held"
rm -f "$B"

# --- the node id after the records: still a bundle ------------------------------
"$HOSTILE" --bundle "$S/keys" xx/longhua/s 10 "$T/late.wmb" node-last || fail "generate late"
expect_rc 0 w "$TW" bundle import "$T/late.wmb"
expect_in "$OUT" "0 new record(s), 10 already held" "node id last: read"

# --- an oversized record is named, before anything is sent ---------------------
"$HOSTILE" --bundle "$H/keys" xx/longhua/h 5 "$T/over.wmb" big=3 || fail "generate over"
expect_rc 2 w "$TW" bundle import "$T/over.wmb"
expect_in "$ERR" "record 3 of the bundle" "oversized: names the record"
expect_in "$ERR" "is 5000000 bytes" "oversized: names its size"
expect_in "$ERR" "at most 65600" "oversized: names the limit"
expect_in "$ERR" "nothing was imported" "oversized: says nothing was imported"
check "oversized: nothing stored" [ "$(town_seq xx/longhua/h)" = 0 ]

# --- a truncated bundle is refused whole -------------------------------------------
"$HOSTILE" --bundle "$H/keys" xx/longhua/h 50 "$T/full.wmb" || fail "generate full"
head -c $(($(stat -c %s "$T/full.wmb") - 100)) "$T/full.wmb" >"$T/cut.wmb"
expect_rc 2 w "$TW" bundle import "$T/cut.wmb"
expect_in "$ERR" "not a wmsync bundle" "truncated: refused"
expect_in "$ERR" "the file ends" "truncated: says where the file ends"
check "truncated: nothing stored" [ "$(town_seq xx/longhua/h)" = 0 ]
expect_rc 0 w "$TW" bundle import "$T/full.wmb"
check "the whole file then imports" [ "$(town_seq xx/longhua/h)" = 50 ]

# --- a control socket this user may not use -------------------------------------
# The socket is 0600 root; another user is refused by the kernel at once.
if [ "$(id -u)" = 0 ] && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    chmod 755 "$T" "$TW"
    chmod 644 "$T/full.wmb"
    expect_rc 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$WMCTL" -c "$TW/wmsync.conf" bundle import "$T/full.wmb"
    expect_in "$ERR" "permission denied" "another user: permission denied"
    expect_in "$ERR" "$TW/control.sock" "another user: names the socket"
    check "another user: not told the daemon is down" \
        bash -c "! grep -q 'not running' '$ERR'"
else
    echo "it_import: skipped the permission check (needs root and setpriv)" >&2
fi
finish
