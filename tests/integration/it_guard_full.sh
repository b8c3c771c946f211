# SPDX-License-Identifier: MIT
# it_guard_full: the fork-guard file never lags an acknowledged append, also
# on a full disk. A station lives on a small tmpfs; once a filler file takes
# the last byte, LMDB still commits (it reuses its own free pages) while no
# new file can be written. Every record acknowledged from then on must be
# known to the guard file (KEY.state) by the time the ack arrives, and one
# that cannot be must not be acknowledged. Needs root (mount); exit 77
# (skipped) otherwise.
. "$(dirname "$0")/lib.sh"

M=$T/small
mkdir -p "$M"
if ! mount -t tmpfs -o size=3m tmpfs "$M" 2>/dev/null; then
    echo "it_guard_full: cannot mount a tmpfs (not root?): skipped"
    exit 77
fi
unmount_then_cleanup() {
    local p
    for p in "${DAEMON_PIDS[@]:-}"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    DAEMON_PIDS=()
    umount "$M" 2>/dev/null
    cleanup
}
trap unmount_then_cleanup EXIT

N=$M/node
init_node "$N" || finish
start_daemon "$N"
wait_ready "$N" || finish
rec() {
    w "$N" record activity --date 2024-01-02 --category theme_lecture --title "$1" \
        --participants 4
}
bad=0
for i in $(seq 1 30); do rec "before $i" >/dev/null || bad=1; done
check "30 records before the disk fills" [ "$bad" = 0 ]

guard_seq() { sed -n 's/^seq=//p' "$N/keys/sign.key.state"; }
dd if=/dev/zero of="$M/filler" bs=4k 2>/dev/null
check "the disk is full" [ "$(df -k --output=avail "$M" | tail -1 | tr -d ' ')" = 0 ]

acked=0
for i in $(seq 1 10); do
    if out=$(rec "full $i" 2>&1); then
        seq=$(echo "$out" | sed -n 's/.*as seq \([0-9]*\).*/\1/p')
        acked=$((acked + 1))
        g=$(guard_seq)
        check "acked seq $seq is known to the guard file (it says $g)" [ "$g" -ge "$seq" ]
    fi
done
check "records were acknowledged on the full disk ($acked of 10)" [ "$acked" -gt 0 ]

rm -f "$M/filler"
expect_rc 0 rec "after"
expect_rc 0 w "$N" verify
finish
