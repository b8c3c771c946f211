#!/bin/bash
# SPDX-License-Identifier: MIT
# it_ports: free_port (lib.sh) hands each port to one test at a time, for
# the test's whole life. Tests run side by side and bind their ports late
# (and again after each restart); a port chosen twice was "address already
# in use" in it_autopublish, it_county, it_web, it_epochs, it_compromise.
#
# Six test shells reserve 80 ports each at once: no port is handed out
# twice. In a range of one port: a listening socket keeps it from being
# chosen; reserved, it is not chosen again while its test lives; a
# reservation whose test is gone (kill -9) is taken over; a test's
# reservations go when it exits. A private WM_PORT_DIR keeps other tests'
# reservations out of the counts.
#   it_ports.sh WMCTL WMSYNCD
. "$(dirname "$0")/lib.sh"
LIB=$SRC_DIR/tests/integration/lib.sh
export WM_PORT_DIR=$T/ports

# shell N COUNT: a test shell that reserves COUNT ports into $T/got.N, then
# holds them until $T/stop exists (at most 60 s).
shell() {
    bash -c '. "$1" "$2" "$3"
        for i in $(seq 1 "$5"); do free_port >>"$T0/got.$4" || echo fail >>"$T0/got.$4"; done
        echo done >"$T0/done.$4"
        for i in $(seq 1 600); do [ -e "$T0/stop" ] && break; sleep 0.1; done' \
        shell "$LIB" "$WMCTL" "$WMSYNCD" "$1" "$2" &
}
export T0=$T
pids=()
for n in 1 2 3 4 5 6; do shell "$n" 80; pids+=($!); done
all_done() {
    local n
    for n in 1 2 3 4 5 6; do [ -e "$T/done.$n" ] || { echo "shell $n still reserving" >"$T/why"; return 1; }; done
}
# poll from it_sync_lib.sh is not sourced here: a plain deadline.
deadline=$(($(now_ms) + 60000 * SLOW))
while ! all_done && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
check "six shells reserved 80 ports each" all_done
total=$(cat "$T"/got.* | grep -c '^[0-9]*$')
dups=$(cat "$T"/got.* | sort | uniq -d | tr '\n' ' ')
check "480 ports reserved at once ($total), none twice (twice: ${dups:-none})" \
    [ "$total:$dups" = 480: ]
held=$(ls "$WM_PORT_DIR" | grep -c '^[0-9]*$')
check "each is a reservation file while its shell lives ($held)" [ "$held" = 480 ]
touch "$T/stop"
for p in "${pids[@]}"; do wait "$p"; done
left=$(ls "$WM_PORT_DIR" | grep -c '^[0-9]*$')
check "the shells' reservations went with them ($left left)" [ "$left" = 0 ]

# One port: this test's own (reserved in the shared directory), a range
# of that port alone in the private one.
SHARED=/tmp/wmit-ports
P=$(WM_PORT_DIR=$SHARED free_port) || { fail "no free port"; finish; }
one() { WM_PORT_LO=$P WM_PORT_HI=$((P + 1)) free_port; }
python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
print("up", flush=True)
time.sleep(60)' "$P" >"$T/listener" 2>&1 &
LPID=$!
DAEMON_PIDS+=("$LPID")
deadline=$(($(now_ms) + 10000 * SLOW))
while ! grep -q up "$T/listener" && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
check "a listener holds port $P" grep -q up "$T/listener"
check "a port with a listening socket is not chosen" eval '! one >/dev/null'
kill9 "$LPID"
got=$(one)
check "once it is closed it is chosen ($got)" [ "$got" = "$P" ]
check "reserved, it is not chosen again while its test lives" eval '! one >/dev/null'
bash -c 'exit 0' &
dead=$!
wait "$dead"
echo "$dead" >"$WM_PORT_DIR/$P"
got=$(one)
check "the reservation of a test that is gone is taken over ($got)" [ "$got" = "$P" ]
check "and is this test's now" [ "$(cat "$WM_PORT_DIR/$P")" = "$$" ]
release_ports
check "release_ports removes this test's reservations" [ ! -e "$WM_PORT_DIR/$P" ]
WM_PORT_DIR=$SHARED release_ports
finish
