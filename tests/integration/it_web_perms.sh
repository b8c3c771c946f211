#!/bin/bash
# SPDX-License-Identifier: MIT
# it_web_perms: the web console's user, as packaged (root only, else
# skipped with exit 77). A daemon user D (group D) runs wmsyncd; a web
# user W, member of group D only, runs wmctl and wmweb. W reads the log
# (LMDB read-only: it must write lock.mdb), talks to the control socket and
# records through wmweb, but cannot open any key file, list keys/, or
# write the data file. The modes are the ones wmsyncd and wmctl init set
# on purpose: node and data directories 0750, data.mdb 0640, lock.mdb
# 0660, control.sock 0660 (group D), keys/ 0700, every key file 0600.
# usage: it_web_perms.sh WMCTL WMSYNCD WMWEB
. "$(dirname "$0")/lib.sh"
WMWEB=$3
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
    echo "it_web_perms: SKIPPED: needs root, useradd and setpriv (it makes two system users)"
    exit 77
fi
D=wmit$$d
W=wmit$$w
# Removes the users on the way out, after lib.sh's cleanup has killed the
# processes that run as them.
userdel_on_exit() {
    cleanup
    userdel "$W" 2>/dev/null || echo "it_web_perms: could not remove user $W" >&2
    userdel "$D" 2>/dev/null || echo "it_web_perms: could not remove user $D" >&2
    groupdel "$D" 2>/dev/null
}
trap userdel_on_exit EXIT
useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$D" ||
    { echo "it_web_perms: SKIPPED: useradd failed"; exit 77; }
useradd --system --no-create-home --no-user-group --gid "$D" --shell /usr/sbin/nologin "$W" ||
    { echo "it_web_perms: SKIPPED: useradd failed"; exit 77; }
as_d() { setpriv --reuid="$D" --regid="$D" --init-groups "$@"; }
as_w() { setpriv --reuid="$W" --regid="$D" --init-groups "$@"; }
umask 022
chmod 755 "$T"

N=$T/node
expect_rc 0 "$WMCTL" init --role station --id xx/longhua/perm --name 权限站 --dir "$N"
chown -R "$D:$D" "$N"
check "wmctl init: the node directory is 0750" [ "$(stat -c %a "$N")" = 750 ]
check "wmctl init: keys/ is 0700" [ "$(stat -c %a "$N/keys")" = 700 ]
# (setpriv itself in the background, not a function: $! is then the
# daemon's own pid, which the exit trap kills)
setpriv --reuid="$D" --regid="$D" --init-groups "$WMSYNCD" -c "$N/wmsync.conf" \
    >>"$T/daemon.log" 2>&1 &
DPID=$!
DAEMON_PIDS+=("$DPID")
wait_ready "$N" || finish
expect_rc 0 as_d "$WMCTL" -c "$N/wmsync.conf" record activity --date 2024-03-05 \
    --category theme_lecture --title 主题宣讲 --participants 30
echo web-password | as_d "$WMCTL" -c "$N/wmsync.conf" user add op1 --role operator \
    --password-stdin >"$OUT" 2>"$ERR" || fail "user add: $(cat "$ERR")"

for f in "$N:750" "$N/data:750" "$N/data/data.mdb:640" "$N/data/lock.mdb:660" \
    "$N/control.sock:660" "$N/keys:700" "$N/web-users:640"; do
    check "mode of ${f%:*} is ${f##*:} (is $(stat -c %a "${f%:*}"))" \
        [ "$(stat -c %a "${f%:*}")" = "${f##*:}" ]
    check "group of ${f%:*} is the daemon's" [ "$(stat -c %G "${f%:*}")" = "$D" ]
done

# The web user reads the log and talks to the daemon ...
expect_rc 0 as_w "$WMCTL" -c "$N/wmsync.conf" log --json
expect_in "$OUT" '"title":"主题宣讲"' "the web user reads the log (LMDB read-only)"
expect_rc 0 as_w "$WMCTL" -c "$N/wmsync.conf" status --json
expect_in "$OUT" '"daemon_running":true' "the web user talks to the control socket"
# ... but opens no key file, nor lists them, nor writes the data.
KEYS=$(find "$N/keys" -type f | sort)
check "there are key files to try ($(echo "$KEYS" | wc -l))" [ "$(echo "$KEYS" | wc -l)" -ge 4 ]
for k in $KEYS; do
    check "the web user cannot open $(basename "$k")" \
        bash -c "! setpriv --reuid=$W --regid=$D --init-groups cat '$k' >/dev/null 2>&1"
done
check "the web user cannot list keys/" \
    bash -c "! setpriv --reuid=$W --regid=$D --init-groups ls '$N/keys' >/dev/null 2>&1"
check "the web user cannot write data.mdb" \
    bash -c "! setpriv --reuid=$W --regid=$D --init-groups sh -c ': >>\"$N/data/data.mdb\"' 2>/dev/null"
check "another user cannot read the log" \
    bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups '$WMCTL' -c '$N/wmsync.conf' log >/dev/null 2>&1"

# wmweb as the web user: log in, record through the daemon.
mkdir -p "$T/assets" && echo '<!doctype html>' >"$T/assets/index.html"
setpriv --reuid="$W" --regid="$D" --init-groups "$WMWEB" -c "$N/wmsync.conf" \
    --assets "$T/assets" --listen 127.0.0.1:0 >"$T/web.out" 2>"$T/web.log" &
DAEMON_PIDS+=("$!")
deadline=$(($(now_ms) + 10000))
URL=
while [ -z "$URL" ] && [ "$(now_ms)" -lt "$deadline" ]; do
    URL=$(sed -n 's/^wmweb: serving \(http[^ ]*\) .*/\1/p' "$T/web.out")
    [ -z "$URL" ] && sleep 0.05
done
check "wmweb starts as the web user" [ -n "$URL" ]
if [ -n "$URL" ]; then
    out=$(python3 - "$URL" <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
def req(method, path, body, headers):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request(method, path, body=json.dumps(body), headers=dict(headers, **{"Content-Type": "application/json"}))
    r = c.getresponse()
    return r, r.read()
r, b = req("POST", "/api/v1/login", {"user": "op1", "password": "web-password"}, {})
cookie = r.getheader("Set-Cookie").split(";")[0]
csrf = json.loads(b)["csrf"]
r, b = req("POST", "/api/v1/records", {"kind": "plan", "title": "考察学习", "due": "2024-05-31"},
           {"Cookie": cookie, "X-CSRF-Token": csrf})
print(r.status, b.decode())
PY
)
    check "wmweb, as the web user, records through the daemon ($out)" grep -q '^201 ' <<<"$out"
fi
expect_rc 0 "$WMCTL" -c "$N/wmsync.conf" log --json
expect_in "$OUT" '"account":"op1"' "the record is in the log with its account"
check "wmweb logged no permission error" bash -c "! grep -qi 'permission\|denied' '$T/web.log'"
finish
