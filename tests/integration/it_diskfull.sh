# SPDX-License-Identifier: MIT
# it_diskfull: a full disk is "disk full", the daemons keep serving, and
# writing resumes by itself when space returns.
#
# A town and a station live on a small tmpfs (root only: skipped with a
# message otherwise). An enrolled station's backlog (hostile.c) fills it:
# the town refuses with reason `storage`, "disk full" in the detail and in
# its log, and keeps answering. `wmctl record` at the station says disk
# full. The tmpfs is then made larger: the backlog is taken in full, the
# station records again and syncs, and nothing acknowledged was lost.
#
# Then a station's own disk fills (issue 13 §4): a second station on its
# own small tmpfs records and syncs until its disk is full. `wmctl record`
# refuses plainly: "disk full", how much is free and how much to free; the
# daemon goes on, what was recorded is at the town. Space returns: the
# next record is taken with no restart, and everything converges.
#
#   it_diskfull.sh WMCTL WMSYNCD HOSTILE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_sync_lib.sh"

HOSTILE=${3:-}
[ -x "$HOSTILE" ] || { echo "usage: $0 WMCTL WMSYNCD HOSTILE" >&2; exit 2; }

DISK=$T/disk
mkdir -p "$DISK"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=3m tmpfs "$DISK" 2>/dev/null; then
    echo "it_diskfull: skipped: needs root and mount -t tmpfs (uid $(id -u))"
    exit 0
fi
unmount_disk() {
    local p
    for p in "${DAEMON_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    for p in "${DAEMON_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
    [ "$KEEP" = 1 ] && cp -a "$DISK" "$T/disk.kept" 2>/dev/null
    umount "$DISK" 2>/dev/null
    cleanup
}
trap unmount_disk EXIT

TW=$DISK/town
S=$DISK/station
H=$T/back
town_with_two "$TW" "$S" "$H" || finish
start_two "$TW" "$S" "$H" || finish
rec_n "$S" 3 before
poll 20 "station in step before the disk fills" synced "$TW" "$S"

# The backlog fills the disk: refused with storage, "disk full".
got=$("$HOSTILE" "$EP" "$KEY" "$H/keys" "$HID" backlog 40x400 2>"$T/hx.err" | tail -1)
check "a backlog larger than the disk is refused with storage (got $got)" [ "$got" = storage ]
expect_in "$T/hx.err" "disk full" "the refusal says disk full"
expect_in "$TW/daemon.log" "disk full" "the town's log says disk full"
if grep -q "I/O error" "$TW/daemon.log"; then fail "the town's log says I/O error"; else
    pass "the town's log never says I/O error"; fi
held=$(town_row "$TW" "$HID" seq)
# What room the town's refused batch left, taken too (as other files would).
dd if=/dev/zero of="$DISK/filler" bs=4k >/dev/null 2>&1

# Local appends on the full disk: the pages the station's file already
# holds take a few; then they are refused, saying so. The daemons serve on.
n=0
while [ "$n" -lt 400 ] && w "$S" record activity --date 2024-03-01 --category theme_lecture \
    --title "满盘 $n" >"$OUT" 2>"$ERR"; do n=$((n + 1)); done
check "wmctl record on a full disk fails at last (after $n)" [ "$n" -lt 400 ]
expect_in "$ERR" "disk full" "wmctl record says disk full"
expect_in "$S/daemon.log" "disk full" "the station's log says disk full"
check "the town still answers" field_is "$TW" daemon_running true
check "the station still answers" field_is "$S" daemon_running true

# Space returns: everything goes on by itself.
rm -f "$DISK/filler"
mount -o remount,size=64m "$DISK" || { fail "remount"; finish; }
got=$("$HOSTILE" "$EP" "$KEY" "$H/keys" "$HID" backlog 40x400 2>"$T/hx.err" | tail -1)
check "with space back the backlog is taken in full (got $got)" [ "$got" = ack ]
check "town holds the whole backlog" [ "$(town_row "$TW" "$HID" seq)" = 16000 ]
check "what the town held before ($held) is still there" [ "$held" -le 16000 ]
rec "$S" "space is back" && pass "the station records again"
poll 30 "station in step after space returned" synced "$TW" "$S"
expect_rc 0 w "$TW" verify --station "$SID"
check "the town daemon never stopped" kill -0 "$TPID"
check "the station daemon never stopped" kill -0 "$SPID"

# ---- a station's own disk fills
DISK2=$T/disk2
mkdir -p "$DISK2"
mount -t tmpfs -o size=512k tmpfs "$DISK2" || { fail "mount the station's tmpfs"; finish; }
unmount_both() {
    local p
    for p in "${DAEMON_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    for p in "${DAEMON_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
    umount "$DISK2" 2>/dev/null
    unmount_disk
}
trap unmount_both EXIT
S2=$DISK2/s2
init_station "$S2" xx/longhua/s2 "$PORT" "$KEY" || finish
sed -i 's/^map_size_mb = .*/map_size_mb = 1/' "$S2/wmsync.conf"
start_daemon "$S2"
S2PID=$DPID
wait_ready "$S2" "$S2PID" || finish
enroll "$S2" "$TW" || finish
n=0
while [ "$n" -lt 3000 ] && w "$S2" record activity --date 2024-03-01 --category theme_lecture \
    --title "站满 $n 一二三四五六七八九十" --place "新河村文化广场" >"$OUT" 2>"$ERR"; do n=$((n + 1)); done
check "the station's own disk fills: record refused at last (after $n)" [ "$n" -lt 3000 ]
expect_in "$ERR" "disk full" "wmctl record at the full station says disk full"
expect_in "$ERR" "KiB free on the file system of" "it says how much is free"
expect_in "$ERR" "free at least" "it says how much to free"
expect_in "$ERR" "nothing stored was lost" "it says nothing was lost"
check "the full station still answers" field_is "$S2" daemon_running true
poll 30 "what the full station recorded is at the town" synced "$TW" "$S2"
mount -o remount,size=16m "$DISK2" || { fail "remount the station's tmpfs"; finish; }
rec "$S2" "空间恢复" && pass "the station records again with no restart"
rec_n "$S2" 5 after
poll 30 "the station converges after space returned" synced "$TW" "$S2"
expect_rc 0 w "$TW" verify --station xx/longhua/s2
check "the station's daemon never stopped" kill -0 "$S2PID"
finish
