#!/bin/bash
# SPDX-License-Identifier: MIT
# pkg_deb: the Debian packages, built and then used the way an admin would.
#
#   usage: pkg_deb.sh BUILD_DIR SOURCE_DIR
#
# Any user:
#   1. cpack builds wmsync-daemon and wmsync-cli into a temporary directory;
#   2. their contents (binaries, units, reference config, man pages and
#      bash completion once they exist in packaging/, copyright, changelog),
#      maintainer scripts, conffiles and Depends (the runtime libraries,
#      found by dpkg-shlibdeps) are as packaging/README.md says;
#   3. the binaries are stripped and linked with RELRO and BIND_NOW;
#   4. lintian reports no error (E:); its tags are printed;
#   5. systemd-analyze verify accepts the units, silently, and
#      systemd-analyze security rates the sandbox;
#   6. wmsyncd sends READY=1 and STOPPING=1 to $NOTIFY_SOCKET (abstract).
# Root only (skipped with a message otherwise, or when wmsync is already
# installed or /var/lib/wmsync, /etc/wmsync or a wmsync user exist, since
# the purge at the end would delete them):
#   7. dpkg -i both: the wmsync user, /var/lib/wmsync (wmsync, 0750),
#      /etc/wmsync, wmsync.target enabled; dpkg -i again is harmless;
#   8. a town and a station made with the installed wmctl under
#      /var/lib/wmsync, run from the installed wmsyncd as the wmsync user
#      (not under systemd: it is not PID 1 here); the station enrols, records,
#      and the town shows its seq;
#   9. dpkg -r keeps config and data; dpkg -P removes them and the user.
# An exit trap kills the daemons it started and purges what it installed,
# so the test can run again after any failure.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
    exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
SRC=$(cd "$2" && pwd) || exit 2
T=$(mktemp -d /tmp/wmpkg.XXXXXX) || exit 2
chmod 0755 "$T" # the wmsync user reads nothing here, but keep it traversable
PASSED=0
FAILED=0
SKIPPED=0
PIDS=()
INSTALLED=0
MARKER=/var/lib/wmsync/.pkg_deb-test # gone with the purge

cleanup() {
    local p
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
    if [ "$INSTALLED" = 1 ]; then
        dpkg -P wmsync-daemon wmsync-cli >/dev/null 2>&1 ||
            echo "pkg_deb: cleanup: dpkg -P failed" >&2
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASSED=$((PASSED + 1)); [ "${WM_IT_VERBOSE:-0}" = 1 ] && echo "ok: $*"; return 0; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; return 1; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "skipped: $*"; }
check() {
    local msg=$1
    shift
    if "$@"; then pass "$msg"; else fail "$msg"; fi
}
finish() {
    echo "pkg_deb: $PASSED passed, $FAILED failed, $SKIPPED skipped"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# has FILE LINE: FILE has LINE (fixed string, whole line).
has() { grep -qxF -- "$2" "$1"; }

# ---- 1. build ---------------------------------------------------------------
if ! cpack -G DEB -B "$T/debs" --config "$BUILD/CPackConfig.cmake" >"$T/cpack.log" 2>&1; then
    fail "cpack: $(tail -5 "$T/cpack.log")"
    finish
fi
DAEMON_DEB=$(ls "$T"/debs/wmsync-daemon_*.deb 2>/dev/null)
CLI_DEB=$(ls "$T"/debs/wmsync-cli_*.deb 2>/dev/null)
check "cpack made wmsync-daemon_*.deb" [ -f "$DAEMON_DEB" ]
check "cpack made wmsync-cli_*.deb" [ -f "$CLI_DEB" ]
[ -f "$DAEMON_DEB" ] && [ -f "$CLI_DEB" ] || finish

# ---- 2. contents, scripts, fields -------------------------------------------
dpkg-deb -c "$DAEMON_DEB" | awk '{print $1, $2, $6}' >"$T/daemon.c"
dpkg-deb -c "$CLI_DEB" | awk '{print $1, $2, $6}' >"$T/cli.c"
want_file() { # want_file LISTING MODE PATH
    if grep -qxF -- "$2 root/root $3" "$1"; then
        pass "$(basename "$1" .c) ships $3 ($2)"
    else
        fail "$(basename "$1" .c) lacks $3 with mode $2, root/root: $(grep -F -- "$3" "$1")"
    fi
}
want_file "$T/daemon.c" -rwxr-xr-x ./usr/sbin/wmsyncd
want_file "$T/daemon.c" -rw-r--r-- ./lib/systemd/system/wmsyncd@.service
want_file "$T/daemon.c" -rw-r--r-- ./lib/systemd/system/wmsync.target
want_file "$T/daemon.c" -rw-r--r-- ./etc/wmsync/wmsync.conf.example
want_file "$T/cli.c" -rwxr-xr-x ./usr/bin/wmctl
for pkg in daemon cli; do
    want_file "$T/$pkg.c" -rw-r--r-- ./usr/share/doc/wmsync-$pkg/copyright
    want_file "$T/$pkg.c" -rw-r--r-- ./usr/share/doc/wmsync-$pkg/changelog.Debian.gz
    want_file "$T/$pkg.c" -rw-r--r-- ./usr/share/lintian/overrides/wmsync-$pkg
done
# Man pages and completion are written elsewhere: expected once they exist.
for m in wmsyncd.8:daemon wmsync.conf.5:daemon wmctl.1:cli; do
    name=${m%%:*} pkg=${m##*:}
    if [ -f "$SRC/packaging/man/$name" ]; then
        want_file "$T/$pkg.c" -rw-r--r-- "./usr/share/man/man${name##*.}/$name.gz"
    else
        skip "packaging/man/$name not written yet"
    fi
done
# Chinese: the man pages under zh_CN, one catalogue per package (issue 15).
for m in wmsyncd.8:daemon wmsync.conf.5:daemon wmctl.1:cli; do
    name=${m%%:*} pkg=${m##*:}
    want_file "$T/$pkg.c" -rw-r--r-- "./usr/share/man/zh_CN/man${name##*.}/$name.gz"
done
want_file "$T/cli.c" -rw-r--r-- ./usr/share/locale/zh_CN/LC_MESSAGES/wmsync.mo
want_file "$T/daemon.c" -rw-r--r-- ./usr/share/locale/zh_CN/LC_MESSAGES/wmsyncd.mo
if [ -f "$SRC/packaging/completion/wmctl" ]; then
    want_file "$T/cli.c" -rw-r--r-- ./usr/share/bash-completion/completions/wmctl
else
    skip "packaging/completion/wmctl not written yet"
fi
check "the cli package holds no daemon files" \
    sh -c "! grep -qE 'wmsyncd|systemd|/etc/' '$T/cli.c'"

dpkg-deb -I "$DAEMON_DEB" >"$T/daemon.info"
for s in postinst prerm postrm conffiles; do
    check "wmsync-daemon has $s" grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$s\b" "$T/daemon.info"
done
dpkg-deb --ctrl-tarfile "$DAEMON_DEB" | tar -xO ./conffiles >"$T/conffiles" 2>/dev/null
check "conffiles lists /etc/wmsync/wmsync.conf.example" has "$T/conffiles" /etc/wmsync/wmsync.conf.example

for pkg in daemon cli; do
    deb=$DAEMON_DEB
    [ "$pkg" = cli ] && deb=$CLI_DEB
    dep=$(dpkg-deb -f "$deb" Depends)
    for lib in libzmq5 libsodium23 liblmdb0 libprotobuf-c1 libjansson4 libinih1 libc6; do
        check "wmsync-$pkg Depends on $lib" grep -qE "(^|, )$lib( |,|$)" <<<"$dep"
    done
    for f in Maintainer Section Priority Description Version; do
        check "wmsync-$pkg has $f" test -n "$(dpkg-deb -f "$deb" "$f")"
    done
done
check "wmsync-daemon Depends on adduser" grep -qE "(^|, )adduser( |,|$)" \
    <<<"$(dpkg-deb -f "$DAEMON_DEB" Depends)"
# wmsync-web: the console, its hardened unit and man page; Chart.js from Debian.
WEB_DEB=$(ls "$T"/debs/wmsync-web_*.deb 2>/dev/null)
check "cpack made wmsync-web_*.deb" [ -f "$WEB_DEB" ]
if [ -f "$WEB_DEB" ]; then
    dpkg-deb -c "$WEB_DEB" | awk '{print $1, $2, $6}' >"$T/web.c"
    want_file "$T/web.c" -rwxr-xr-x ./usr/sbin/wmweb
    want_file "$T/web.c" -rw-r--r-- ./lib/systemd/system/wmweb@.service
    want_file "$T/web.c" -rw-r--r-- ./usr/share/man/man8/wmweb.8.gz
    check "wmsync-web Depends on libjs-chart.js" \
        grep -qE "(^|, )libjs-chart.js( |,|$)" <<<"$(dpkg-deb -f "$WEB_DEB" Depends)"
    check "wmsync-web Depends on wmsync-daemon" \
        grep -qE "(^|, )wmsync-daemon " <<<"$(dpkg-deb -f "$WEB_DEB" Depends)"
    if command -v lintian >/dev/null; then
        lintian "$WEB_DEB" >"$T/lintian-web" 2>&1
        check "lintian: wmsync-web has no errors" sh -c "! grep -q '^E: ' '$T/lintian-web'"
    fi
fi

# ---- 3. the binaries as shipped ---------------------------------------------
mkdir -p "$T/x"
dpkg-deb -x "$DAEMON_DEB" "$T/x" && dpkg-deb -x "$CLI_DEB" "$T/x"
for b in usr/sbin/wmsyncd usr/bin/wmctl; do
    check "$b is stripped" sh -c "! readelf -SW '$T/x/$b' | grep -qE '\.(debug_info|symtab) '"
    check "$b has RELRO" sh -c "readelf -lW '$T/x/$b' | grep -q GNU_RELRO"
    check "$b binds now" sh -c "readelf -dW '$T/x/$b' | grep -qE 'BIND_NOW|FLAGS_1.*NOW'"
    check "$b has a non-executable stack" sh -c "readelf -lW '$T/x/$b' | grep GNU_STACK | grep -qv RWE"
done
check "packaged wmsyncd runs (--help)" "$T/x/usr/sbin/wmsyncd" --help >/dev/null
# The reference config parses once role and id are set (its every other key
# is the default, commented out).
sed -e 's/^#role = /role = /' -e 's/^#id = /id = /' "$T/x/etc/wmsync/wmsync.conf.example" \
    >"$T/example.conf"
check "wmsync.conf.example parses with role and id set" \
    "$T/x/usr/sbin/wmsyncd" --check-config -c "$T/example.conf" >/dev/null

# ---- 4. lintian -------------------------------------------------------------
if command -v lintian >/dev/null; then
    lintian --pedantic --display-info "$DAEMON_DEB" "$CLI_DEB" >"$T/lintian" 2>&1
    grep -E '^[EWIP]: ' "$T/lintian" | sort | uniq -c | sed 's/^/  lintian: /'
    errors=$(grep -c '^E: ' "$T/lintian")
    check "lintian: no errors ($errors)" [ "$errors" -eq 0 ]
    check "lintian: ran ($(grep -cE '^[EWIP]: ' "$T/lintian") tags)" \
        sh -c "! grep -qiE 'internal error|cannot|failed' '$T/lintian'"
else
    fail "lintian is not installed (packaging/deps.sh installs it)"
fi

# ---- 5. systemd-analyze -----------------------------------------------------
# verify needs ExecStart= binaries that exist: point a copy at the packaged
# binary. It warns (and still exits 0) on settings it ignores, so any output
# is a failure.
mkdir -p "$T/units"
sed "s#/usr/sbin/wmsyncd#$T/x/usr/sbin/wmsyncd#g" "$T/x/lib/systemd/system/wmsyncd@.service" \
    >"$T/units/wmsyncd@town.service"
cp "$T/x/lib/systemd/system/wmsync.target" "$T/units/"
(cd "$T/units" && systemd-analyze verify --man=no ./wmsyncd@town.service ./wmsync.target) \
    >"$T/verify" 2>&1
rc=$?
check "systemd-analyze verify: exit 0 ($rc), no complaint: $(head -c 600 "$T/verify")" \
    sh -c "[ $rc = 0 ] && [ ! -s '$T/verify' ]"
exposure=$(systemd-analyze security --offline=true "$T/units/wmsyncd@town.service" 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "  systemd-analyze security: exposure ${exposure:-?} (0 safest, 10 exposed)"
check "systemd-analyze security: exposure ${exposure:-?} below 2.5" \
    awk -v e="${exposure:-99}" 'BEGIN { exit !(e < 2.5) }'
for k in Type=notify Restart=on-failure User=wmsync NoNewPrivileges=yes ProtectSystem=strict \
    ReadWritePaths=/var/lib/wmsync PrivateTmp=yes ProtectHome=yes \
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" SystemCallFilter=@system-service \
    SystemCallArchitectures=native MemoryDenyWriteExecute=yes \
    'ExecReload=/bin/kill -HUP $MAINPID' \
    'ExecStart=/usr/sbin/wmsyncd -c /var/lib/wmsync/%i/wmsync.conf'; do
    check "unit sets $k" has "$T/x/lib/systemd/system/wmsyncd@.service" "$k"
done

# ---- 6. sd_notify -----------------------------------------------------------
# A fake service manager: an abstract datagram socket, as systemd uses.
"$T/x/usr/bin/wmctl" init --role station --id xx/pkg/notify --name 通知测试 \
    --dir "$T/nn" >/dev/null || fail "wmctl init for the notify test"
python3 - "$T/x/usr/sbin/wmsyncd" "$T/nn/wmsync.conf" >"$T/notify" 2>&1 <<'EOF'
import os, signal, socket, subprocess, sys
name = "@wmsync-pkg-test-%d" % os.getpid()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:])
s.settimeout(10)
p = subprocess.Popen([sys.argv[1], "-c", sys.argv[2]], stderr=subprocess.DEVNULL,
                     env=dict(os.environ, NOTIFY_SOCKET=name))
try:
    print(s.recv(256).decode())
    p.send_signal(signal.SIGTERM)
    print(s.recv(256).decode())
    print("exit", p.wait(10))
except Exception as e:
    print("error", e)
finally:
    if p.poll() is None:
        p.kill()
EOF
check "wmsyncd notifies READY=1, STOPPING=1, exits 0: $(tr '\n' ' ' <"$T/notify")" \
    sh -c "[ \"\$(cat '$T/notify')\" = \"\$(printf 'READY=1\nSTOPPING=1\nexit 0')\" ]"

# ---- 7-9. install, run, remove, purge (root) ----------------------------------
root_part() {
    if [ "$(id -u)" != 0 ]; then
        skip "install, run and purge: not root"
        return
    fi
    local st p
    # One run at a time on a machine: a second one waits here. Daemons are
    # started without fd 9, so the lock dies with the run that holds it.
    mkdir -p /run/lock && exec 9>/run/lock/wmsync-pkg_deb.lock
    if ! flock -w 150 9; then
        skip "install, run and purge: another pkg_deb run holds /run/lock/wmsync-pkg_deb.lock"
        return
    fi
    # A run killed outright (ctest's timeout) leaves this marker behind: undo
    # that run, and only that run, before starting.
    if [ -e "$MARKER" ]; then
        echo "pkg_deb: a killed earlier run left wmsync installed: purging it"
        for p in $(pgrep -u wmsync -f '^/usr/sbin/wmsyncd -c /var/lib/wmsync/pkg(town|station)/'); do
            kill -9 "$p"
        done
        sleep 0.2
        dpkg -P wmsync-daemon wmsync-cli >/dev/null 2>&1
    fi
    for p in wmsync-daemon wmsync-cli; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
        if [ -n "$st" ] && [ "${st%not-installed}" = "$st" ]; then
            skip "install, run and purge: $p is already on this machine ($st)"
            return
        fi
    done
    if [ -e /var/lib/wmsync ] || [ -e /etc/wmsync ] || getent passwd wmsync >/dev/null ||
        getent group wmsync >/dev/null; then
        skip "install, run and purge: /var/lib/wmsync, /etc/wmsync or a wmsync user exists"
        return
    fi

    # ---- 7 ----
    INSTALLED=1
    if ! dpkg -i "$DAEMON_DEB" "$CLI_DEB" >"$T/dpkg.log" 2>&1; then
        # a missing library: let apt bring it in
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q -f >>"$T/dpkg.log" 2>&1
    fi
    check "both packages installed" \
        [ "$(dpkg-query -W -f='${Status}\n' wmsync-daemon wmsync-cli | sort -u)" = "install ok installed" ] ||
        { sed 's/^/    dpkg: /' "$T/dpkg.log" | tail -20 >&2; return; }
    touch "$MARKER" && chown wmsync:wmsync "$MARKER"
    local pw uid
    pw=$(getent passwd wmsync)
    uid=$(cut -d: -f3 <<<"$pw")
    check "wmsync user exists: $pw" test -n "$pw"
    check "wmsync is a system user (uid $uid)" [ "${uid:-9999}" -lt 1000 ]
    check "wmsync's home is /var/lib/wmsync" [ "$(cut -d: -f6 <<<"$pw")" = /var/lib/wmsync ]
    check "wmsync has no login shell" grep -qE 'nologin|false' <<<"$(cut -d: -f7 <<<"$pw")"
    check "wmsync group exists" getent group wmsync >/dev/null
    check "/var/lib/wmsync is wmsync:wmsync 750 ($(stat -c '%U:%G %a' /var/lib/wmsync))" \
        [ "$(stat -c '%U:%G %a' /var/lib/wmsync)" = "wmsync:wmsync 750" ]
    check "/etc/wmsync/wmsync.conf.example is root 644" \
        [ "$(stat -c '%U %a' /etc/wmsync/wmsync.conf.example)" = "root 644" ]
    check "wmsync.target enabled at boot" \
        [ -L /etc/systemd/system/multi-user.target.wants/wmsync.target ]
    check "/usr/sbin/wmsyncd and /usr/bin/wmctl installed" \
        test -x /usr/sbin/wmsyncd -a -x /usr/bin/wmctl
    if [ -f "$SRC/packaging/man/wmsyncd.8" ]; then
        check "man wmsyncd finds the page" man -w wmsyncd.8 >/dev/null
    fi
    check "man finds the Chinese wmctl(1) under zh_CN" \
        sh -c 'LANG=zh_CN.UTF-8 man -w wmctl | grep -q /zh_CN/'
    # The installed binaries find the installed catalogues (no build tree,
    # no WMSYNC_LOCALEDIR), where the zh_CN.UTF-8 locale exists.
    if locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
        check "installed wmctl speaks Chinese under zh_CN.UTF-8" sh -c \
            'env -u WMSYNC_LOCALEDIR -u LC_ALL -u LANGUAGE LANG=zh_CN.UTF-8 /usr/bin/wmctl help | grep -q 用法'
        check "installed wmsyncd speaks Chinese under zh_CN.UTF-8" sh -c \
            'env -u WMSYNC_LOCALEDIR -u LC_ALL -u LANGUAGE LANG=zh_CN.UTF-8 /usr/sbin/wmsyncd --help | grep -q 用法'
    else
        skip "no zh_CN.UTF-8 locale (packaging/deps.sh makes it)"
    fi
    # The unit as installed, resolved from the unit path, man pages included.
    local man=--man=no
    [ -f "$SRC/packaging/man/wmsyncd.8" ] && [ -f "$SRC/packaging/man/wmctl.1" ] &&
        [ -f "$SRC/packaging/man/wmsync.conf.5" ] && man=--man=yes
    systemd-analyze verify $man wmsyncd@town.service wmsync.target >"$T/verify2" 2>&1
    rc=$?
    check "systemd-analyze verify $man of the installed units: $(head -c 600 "$T/verify2")" \
        sh -c "[ $rc = 0 ] && [ ! -s '$T/verify2' ]"
    # again (what an upgrade runs): nothing changes
    check "dpkg -i again" dpkg -i "$DAEMON_DEB" "$CLI_DEB" >>"$T/dpkg.log" 2>&1
    check "uid unchanged after reinstall" [ "$(id -u wmsync)" = "$uid" ]
    check "/var/lib/wmsync still 750 after reinstall" [ "$(stat -c %a /var/lib/wmsync)" = 750 ]

    # ---- 8 ----
    as_wmsync() { setpriv --reuid=wmsync --regid=wmsync --init-groups -- "$@"; }
    local port i TW=/var/lib/wmsync/pkgtown ST=/var/lib/wmsync/pkgstation
    for i in $(seq 1 50); do
        port=$((20000 + RANDOM % 20000))
        ss -Hltn 2>/dev/null | awk '{print $4}' | grep -q ":$port\$" || break
    done
    check "wmctl init (town) as wmsync" as_wmsync /usr/bin/wmctl init --role town --id xx/pkgtown \
        --name 打包测试镇 --dir "$TW" --listen "tcp://127.0.0.1:$port" >/dev/null || return
    check "wmctl init (station) as wmsync" as_wmsync /usr/bin/wmctl init --role station \
        --id xx/pkgtown/a --name 打包测试站 --dir "$ST" --upstream "tcp://127.0.0.1:$port" \
        --upstream-key "$(cat "$TW/keys/curve.pub")" >/dev/null || return
    # systemctl enable works without a running systemd: the instance
    # attaches to wmsync.target (and purge must take the link away).
    if systemctl enable wmsyncd@pkgtown.service >"$T/enable" 2>&1; then
        check "systemctl enable wmsyncd@pkgtown links it into wmsync.target" \
            [ -L /etc/systemd/system/wmsync.target.wants/wmsyncd@pkgtown.service ]
    else
        skip "systemctl enable offline: $(head -c 200 "$T/enable")"
    fi
    ctl() { local d=$1; shift; as_wmsync /usr/bin/wmctl -c "$d/wmsync.conf" "$@"; }
    start() { # start DIR: the installed daemon as wmsync, pid in $LAST
        # setpriv itself, not the function: $! must be the daemon (setpriv execs)
        setpriv --reuid=wmsync --regid=wmsync --init-groups -- \
            /usr/sbin/wmsyncd -c "$1/wmsync.conf" >>"$T/$(basename "$1").log" 2>&1 9>&- &
        LAST=$!
        PIDS+=("$LAST")
    }
    ready() { # ready DIR PID
        local deadline=$(($(now_ms) + 10000))
        while [ "$(now_ms)" -lt "$deadline" ]; do
            ctl "$1" status --json 2>/dev/null | grep -q '"daemon_running":true' && return 0
            kill -0 "$2" 2>/dev/null || break
            sleep 0.05
        done
        fail "daemon for $1 not ready: $(tail -3 "$T/$(basename "$1").log")"
        return 1
    }
    start "$TW"
    local tpid=$LAST spid
    ready "$TW" "$tpid" && pass "installed town daemon serving as wmsync" || return
    check "town daemon runs as wmsync" [ "$(ps -o user= -p "$tpid")" = wmsync ]
    ctl "$ST" keys | ctl "$TW" enroll - >"$T/enroll" 2>&1
    check "station enrolled at the town: $(cat "$T/enroll")" grep -q enrolled "$T/enroll"
    start "$ST"
    spid=$LAST
    ready "$ST" "$spid" && pass "installed station daemon serving as wmsync" || return
    for i in 1 2 3; do
        ctl "$ST" record activity --date 2024-03-05 --category theme_lecture \
            --title "打包测试宣讲$i" --participants 10 >/dev/null ||
            fail "record $i at the station"
    done
    local deadline=$(($(now_ms) + 30000)) seq=
    while [ "$(now_ms)" -lt "$deadline" ]; do
        seq=$(ctl "$TW" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    rows = {r["id"]: r for r in json.load(sys.stdin).get("stations", [])}
    print(rows.get("xx/pkgtown/a", {}).get("seq", ""))
except ValueError:
    print("")')
        [ "$seq" = 3 ] && break
        sleep 0.1
    done
    check "the town shows the station at seq 3 (got '${seq}')" [ "$seq" = 3 ]
    check "every file under /var/lib/wmsync belongs to wmsync: $(find /var/lib/wmsync ! -user wmsync | head -3)" \
        test -z "$(find /var/lib/wmsync ! -user wmsync)"
    check "secret keys are 0600" \
        test "$(stat -c %a "$TW/keys/sign.key" "$TW/keys/curve.key" | sort -u)" = 600
    local p
    for p in "$spid" "$tpid"; do
        kill -TERM "$p"
        wait "$p"
        rc=$?
        check "daemon $p exits 0 on SIGTERM (got $rc)" [ "$rc" = 0 ]
    done
    PIDS=()

    # ---- 9 ----
    check "dpkg -r" dpkg -r wmsync-daemon wmsync-cli >>"$T/dpkg.log" 2>&1
    check "after remove: binaries gone" test ! -e /usr/sbin/wmsyncd -a ! -e /usr/bin/wmctl
    check "after remove: unit gone" test ! -e /lib/systemd/system/wmsyncd@.service
    check "after remove: node config kept" test -f "$TW/wmsync.conf" -a -f "$ST/wmsync.conf"
    check "after remove: keys and logs kept" test -f "$TW/keys/sign.key" -a -d "$TW/data"
    check "after remove: /etc/wmsync kept" test -f /etc/wmsync/wmsync.conf.example
    check "after remove: user kept" getent passwd wmsync >/dev/null
    check "after remove: wmsync-daemon in config-files state" \
        [ "$(dpkg-query -W -f='${Status}' wmsync-daemon)" = "deinstall ok config-files" ]
    check "dpkg -P" dpkg -P wmsync-daemon wmsync-cli >>"$T/dpkg.log" 2>&1
    INSTALLED=0
    check "after purge: /var/lib/wmsync gone" test ! -e /var/lib/wmsync
    check "after purge: /etc/wmsync gone" test ! -e /etc/wmsync
    check "after purge: user wmsync gone" sh -c '! getent passwd wmsync'
    check "after purge: group wmsync gone" sh -c '! getent group wmsync'
    check "after purge: no wmsync.target link" \
        test ! -e /etc/systemd/system/multi-user.target.wants/wmsync.target -a \
        ! -L /etc/systemd/system/multi-user.target.wants/wmsync.target
    check "after purge: no instance links" test ! -e /etc/systemd/system/wmsync.target.wants
    check "after purge: neither package is installed or half-removed" \
        sh -c '! dpkg-query -W -f="\${Status}\n" wmsync-daemon wmsync-cli 2>/dev/null |
            grep -qv "not-installed"'
}
root_part
finish
