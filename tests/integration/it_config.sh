#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# it_config: `wmsyncd --check-config` accepts the file `wmctl init` writes
# (exit 0, "FILE: ok") and rejects each kind of bad file with exit 2,
# naming the file, the line and the key at fault. Each bad file is the good
# one with one line changed or added; the expected line number is computed
# from the file as written, never hard-coded.
. "$(dirname "$0")/lib.sh"

N=$T/node
init_node "$N" || finish
GOOD=$N/wmsync.conf
BAD=$T/bad.conf

# --- the file wmctl init writes is valid ------------------------------------------
expect_rc 0 "$WMSYNCD" -c "$GOOD" --check-config
expect_in "$OUT" "$GOOD: ok" "init's file: prints FILE: ok"
for role in town county; do
    "$WMCTL" init --role "$role" --id "xx-county/$role" --name "$role" --dir "$T/$role" \
        --listen tcp://127.0.0.1:1 >/dev/null || fail "init --role $role"
    expect_rc 0 "$WMSYNCD" -c "$T/$role/wmsync.conf" --check-config
done

# line_of FILE REGEX: the number of the first line matching REGEX.
line_of() { grep -nE -- "$2" "$1" | head -1 | cut -d: -f1; }

# set_line KEY NEWTEXT: BAD := GOOD with the "KEY = ..." line replaced by
# NEWTEXT; LINE := its line number.
set_line() {
    LINE=$(line_of "$GOOD" "^$1 *=")
    [ -n "$LINE" ] || { fail "no \"$1\" line in $GOOD"; return 1; }
    awk -v n="$LINE" -v t="$2" 'NR == n { print t; next } { print }' "$GOOD" >"$BAD"
}

# append TEXT...: BAD := GOOD plus the given lines; LINE := the number of
# the last one.
append() {
    { cat "$GOOD"; printf '%s\n' "$@"; } >"$BAD"
    LINE=$(wc -l <"$BAD")
}

# rejects WHAT NEEDLE...: check-config on BAD exits 2 and its message
# names BAD:LINE and every NEEDLE.
rejects() {
    local what=$1 needle
    shift
    expect_rc 2 "$WMSYNCD" -c "$BAD" --check-config || return 1
    expect_in "$ERR" "$BAD:$LINE:" "$what: names line $LINE"
    for needle in "$@"; do
        expect_in "$ERR" "$needle" "$what: names \"$needle\""
    done
    check "$what: nothing on stdout" [ ! -s "$OUT" ]
}

# --- unknown keys and sections ----------------------------------------------------
# a misspelt key inside a known section, in the middle of the file
set_line map_size_mb "map_sise_mb = 2048" && rejects "misspelt key" '"map_sise_mb"' "[storage]"
# a key the file does not know, added at the end of [web] (the last section)
append "colour = red" && rejects "unknown key at the end" '"colour"' "[web]"
# an unknown section holding a key: the key's line is named
append "" "[bogus]" "foo = 1" && rejects "unknown section" "[bogus]"

# --- [node] -----------------------------------------------------------------------
set_line role "role = village" && rejects "bad role" role '"village"'
set_line id "id = XX-County/Longhua" && rejects "bad id (uppercase)" id '"XX-County/Longhua"'
set_line id "id = xx-county//xinhe" && rejects "bad id (empty segment)" id '"xx-county//xinhe"'

# --- [storage] --------------------------------------------------------------------
set_line map_size_mb "map_size_mb = lots" && rejects "map_size_mb not a number" map_size_mb '"lots"'
set_line map_size_mb "map_size_mb = 0" && rejects "map_size_mb 0" map_size_mb '"0"'
set_line map_size_mb "map_size_mb = 12MB" && rejects "map_size_mb with a unit" map_size_mb '"12MB"'
set_line map_max_mb "map_max_mb = -1" && rejects "map_max_mb negative" map_max_mb '"-1"'
set_line day_mb "day_mb = lots" && rejects "[quota] day_mb not a number" day_mb '"lots"'
set_line total_mb "total_mb = 1.5" && rejects "[quota] total_mb not whole" total_mb '"1.5"'

# --- [web] (its keys are commented out in a new file: appended to it) --------------
append "session_minutes = 0" && rejects "[web] session_minutes 0" session_minutes '"0"'
append "session_minutes = soon" && rejects "[web] session_minutes not a number" session_minutes
append "listen = 127.0.0.1:7461" "tls_cert = web.crt" "tls_key = web.key" "users = accounts" \
    "assets = /usr/share/wmsync/web" "session_minutes = 60"
expect_rc 0 "$WMSYNCD" -c "$BAD" --check-config

# --- [sync] -----------------------------------------------------------------------
set_line upstream_key "upstream_key = abc123" && rejects "upstream_key too short" upstream_key
set_line upstream_key "upstream_key = $(printf 'g%.0s' $(seq 64))" &&
    rejects "upstream_key not hex" upstream_key
set_line upstream_key "upstream_key = $(printf 'a%.0s' $(seq 66))" &&
    rejects "upstream_key 66 digits" upstream_key
# upstream without upstream_key: a whole-file rule, no line to name
set_line upstream "upstream = tcp://127.0.0.1:7450"
expect_rc 2 "$WMSYNCD" -c "$BAD" --check-config
expect_in "$ERR" "$BAD:" "upstream without upstream_key: names the file"
expect_in "$ERR" "upstream_key" "upstream without upstream_key: names upstream_key"
# ... and with a valid key it is accepted
KEY=$(cat "$N/keys/curve.pub")
awk -v k="$KEY" '/^upstream_key *=/ { print "upstream_key = " k; next } { print }' "$BAD" \
    >"$T/ok.conf"
expect_rc 0 "$WMSYNCD" -c "$T/ok.conf" --check-config

# --- [log] ------------------------------------------------------------------------
set_line level "level = verbose" && rejects "level not in the list" level '"verbose"' debug
set_line level "level = INFO" && rejects "level in capitals" level '"INFO"'
append "[log]" "peer_lines = 0" && rejects "peer_lines 0" peer_lines '"0"'
append "[log]" "peer_window = 1m" && rejects "peer_window 1m" peer_window '"1m"'
append "[log]" "peer_lines = 5" "peer_window = 2"
expect_rc 0 "$WMSYNCD" -c "$BAD" --check-config

# --- [report] ---------------------------------------------------------------------
set_line cadence_days "cadence_days = 0" && rejects "cadence_days 0" cadence_days '"0"'
set_line cadence_days "cadence_days = 400" && rejects "cadence_days 400" cadence_days '"400"'
set_line silent_days "silent_days = -1" && rejects "silent_days -1" silent_days '"-1"'
set_line publish_at_close "publish_at_close = maybe" &&
    rejects "publish_at_close maybe" publish_at_close '"maybe"'
# the edges that are allowed
set_line cadence_days "cadence_days = 366"
expect_rc 0 "$WMSYNCD" -c "$BAD" --check-config
set_line publish_at_close "publish_at_close = yes"
expect_rc 0 "$WMSYNCD" -c "$BAD" --check-config

# --- not key = value ----------------------------------------------------------------
set_line socket "socket control.sock" && rejects "a line that is not key = value" \
    'not a "key = value" line'
append "just some words" && rejects "stray words at the end" 'not a "key = value" line'

# --- the first error is the one named -----------------------------------------------
set_line role "role = village"
FIRST=$LINE
awk '/^level *=/ { print "level = loud"; next } { print }' "$BAD" >"$T/two.conf"
mv "$T/two.conf" "$BAD"
LINE=$FIRST
rejects "two errors: the first is named" role

# --- the daemon itself refuses a bad file with the same message, exit 2 -------------
set_line level "level = verbose"
expect_rc 2 "$WMSYNCD" -c "$BAD"
expect_in "$ERR" "$BAD:$LINE:" "daemon start with a bad file: names line $LINE"
check "daemon start with a bad file: no control socket" [ ! -e "$T/control.sock" ]
# a missing file
expect_rc 2 "$WMSYNCD" -c "$T/nonexistent.conf" --check-config
expect_in "$ERR" "nonexistent.conf" "missing file: named"

finish
