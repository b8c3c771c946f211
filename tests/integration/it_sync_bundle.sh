# SPDX-License-Identifier: MIT
# it_sync_bundle: records carried by file where there is no network.
#
#  1. Station S has no upstream at all. Its bundle is imported at the town:
#     the town's seq for S equals S's head; importing it again adds nothing
#     ("0 new"); an incremental bundle (--since) adds just the rest.
#  2. Tampered bundles (one byte of a record's title flipped in the file) are
#     refused with a nonzero exit, the message names the record at fault,
#     and nothing of them is stored — before and after the genuine import.
#  3. A bundle from a node the town never enrolled is refused.
#  4. Bundle and network agree: station B writes while its town is down,
#     its bundle is imported, then B comes online and has nothing left to
#     send (pending 0; the town logs that both sides hold the same seq);
#     its later records travel by network, and a full bundle of B then
#     brings nothing new.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

PORT=$(free_port) || { fail "no free port"; finish; }
TW=$T/town
S=$T/s
B=$T/b
U=$T/u
init_town "$TW" xx/longhua "$PORT" || finish
init_station "$S" xx/longhua/s || finish
init_station "$B" xx/longhua/b "$PORT" "$(town_key "$TW")" || finish
init_station "$U" xx/longhua/u || finish
SID=xx/longhua/s
BID=xx/longhua/b

start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" || finish
enroll "$S" "$TW" && enroll "$B" "$TW" && pass "enrolled s and b" || finish

# ---- 1. a station without upstream, by bundle ----
start_daemon "$S"
SPID=$DPID
wait_ready "$S" || finish
for i in 1 2 3 4 5 6; do
    rec "$S" "bundle-title-$i-XQZ宣讲" || finish
done
expect_rc 0 w "$S" status --json
check "station without upstream reports no upstream fields" \
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert "acked_seq" not in j and j["head_seq"] == 6, j' "$OUT"
expect_rc 0 w "$S" bundle export --out "$T/s-all.wmb"
expect_in "$OUT" "exported 6 record(s)" "export of all 6 records"

# tamper KIND SRC DST TITLE: flips the last ASCII byte of TITLE (found
# exactly once in the file) — the body changes, the size does not.
tamper() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
src, dst, title = sys.argv[1], sys.argv[2], sys.argv[3].encode()
d = bytearray(open(src, "rb").read())
assert d.count(title) == 1, "title found %d times" % d.count(title)
i = d.index(title) + len(title) - 1
d[i] ^= 0x01
open(dst, "wb").write(bytes(d))
EOF
}
tamper "$T/s-all.wmb" "$T/s-mid.wmb" "bundle-title-3-XQZ" &&
    tamper "$T/s-all.wmb" "$T/s-last.wmb" "bundle-title-6-XQZ" &&
    pass "made tampered bundles" || fail "could not tamper the bundle"

# refused BUNDLE SEQ WHEN: import fails, names epoch 1/SEQ, stores nothing.
refused() {
    local f=$1 seq=$2 when=$3 before
    before=$(town_row "$TW" "$SID" seq)
    w "$TW" bundle import "$f" >"$OUT" 2>"$ERR"
    local rc=$?
    check "$when: tampered bundle (record $seq altered) is refused (exit $rc)" [ "$rc" -ne 0 ]
    expect_in "$ERR" "record 1/$seq " "$when: the refusal names the altered record 1/$seq"
    check "$when: nothing of the refused bundle is stored (town seq stays $before)" \
        row_is "$TW" "$SID" seq "$before"
}
refused "$T/s-mid.wmb" 3 "fresh town, middle record"
refused "$T/s-last.wmb" 6 "fresh town, last record"

expect_rc 0 w "$TW" bundle import "$T/s-all.wmb"
expect_in "$OUT" "6 new record(s), 0 already held" "genuine import: 6 new"
check "town seq for s equals s's head (6)" row_is "$TW" "$SID" seq 6
check "town shows s caught up after the import" row_is "$TW" "$SID" state ok
expect_rc 0 w "$TW" bundle import "$T/s-all.wmb"
expect_in "$OUT" "0 new record(s), 6 already held" "importing the same bundle again: 0 new"
check "town seq for s still 6" row_is "$TW" "$SID" seq 6

refused "$T/s-mid.wmb" 3 "after import, middle record"
refused "$T/s-last.wmb" 6 "after import, last record"

for i in 7 8 9; do rec "$S" "bundle-title-$i-XQZ宣讲" || finish; done
expect_rc 0 w "$S" bundle export --out "$T/s-since.wmb" --since 6
expect_in "$OUT" "exported 3 record(s)" "incremental export (--since 6): 3 records"
expect_rc 0 w "$TW" bundle import "$T/s-since.wmb"
expect_in "$OUT" "3 new record(s), 0 already held" "incremental import: 3 new"
check "town seq for s equals s's head (9)" row_is "$TW" "$SID" seq "$(head_seq "$S")"
stop_daemon "$SPID" TERM
expect_rc 0 w "$S" verify

# ---- 3. unenrolled ----
start_daemon "$U"
UPID=$DPID
wait_ready "$U" || finish
rec "$U" "unenrolled-宣讲" && pass "unenrolled station records locally"
expect_rc 0 w "$U" bundle export --out "$T/u.wmb"
stop_daemon "$UPID" TERM
w "$TW" bundle import "$T/u.wmb" >"$OUT" 2>"$ERR"
check "a bundle from an unenrolled node is refused" [ $? -ne 0 ]
expect_in "$ERR" "not enrolled" "the refusal says the node is not enrolled"
check "the town does not list the unenrolled node" row_is "$TW" xx/longhua/u seq absent

# ---- 4. bundle, then network, agree ----
stop_daemon "$TPID" TERM
start_daemon "$B"
BPID=$DPID
wait_ready "$B" || finish
for i in 1 2 3 4 5; do rec "$B" "net-or-file-$i-宣讲" || finish; done
check "b has 5 records pending while its town is down" field_is "$B" pending 5
expect_rc 0 w "$B" bundle export --out "$T/b-1.wmb"
expect_in "$OUT" "exported 5 record(s)" "b's export while its daemon runs"
stop_daemon "$BPID" TERM

start_daemon "$TW"
TPID=$DPID
wait_ready "$TW" || finish
expect_rc 0 w "$TW" bundle import "$T/b-1.wmb"
expect_in "$OUT" "5 new record(s), 0 already held" "b's bundle: 5 new"
check "town seq for b equals b's head (5) after the bundle" row_is "$TW" "$BID" seq 5

start_daemon "$B"
BPID=$DPID
wait_ready "$B" || finish
poll 20 "b comes online and has nothing left to send (acked 5, pending 0, in step)" \
    synced "$TW" "$B"
poll 10 "b reports connected" field_is "$B" connected true
expect_in "$TW/daemon.log" "$BID connected: it has epoch 1 seq 5, we hold seq 5" \
    "town: b's first hello found both sides at seq 5 (nothing to resend)"
check "b's status last_reject is empty" field_is "$B" last_reject ""

rec "$B" "after-bundle-1-宣讲" && rec "$B" "after-bundle-2-宣讲" && pass "b records 2 more online"
poll 20 "b's new records arrive by network (town seq = head = 7)" synced "$TW" "$B"
check "town seq for b is 7" row_is "$TW" "$BID" seq 7
expect_rc 0 w "$B" bundle export --out "$T/b-all.wmb"
expect_rc 0 w "$TW" bundle import "$T/b-all.wmb"
expect_in "$OUT" "0 new record(s), 7 already held" \
    "a full bundle of b after network sync brings nothing new (network = bundle)"
poll 10 "town: all caught up" converged "$TW" "$B"

stop_daemon "$BPID" TERM
stop_daemon "$TPID" TERM
expect_rc 0 w "$B" verify
expect_in "$OUT" "ok:" "verify at b"
finish
