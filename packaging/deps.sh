#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages wmsync builds and tests with. Idempotent:
# installs only what is missing, and runs apt-get update only when it must.
#   sh packaging/deps.sh          the build machine's tools and libraries
#   sh packaging/deps.sh arm64    also the cross toolchain and qemu-user for
#                                 make package ARCH=arm64 / make test-arm64;
#                                 exits 77 (after saying so) when they are not
#                                 installable here
# The libraries are listed in packaging/libs.list, shared with the cross
# builds' sysroot (packaging/sysroot.sh); PKGS below holds the tools.
set -eu

# The dpkg-dev line serves make package and tests/package: dpkg-shlibdeps
# (dpkg-dev), lintian, systemd-analyze (systemd), adduser, python3;
# python3-jsonschema checks every rollup of the tests against
# docs/rollup.schema.json (and it_web every answer of wmweb's API against
# docs/openapi.json). postgresql (server 15, with postgresql-client's
# psql): wmctl export's tests and benchmark start a throw-away server
# (tests/integration/pg_lib.sh); its library libpq-dev is in libs.list.
# faketime: it_clock runs stations with wrong clocks (libfaketime, per
# process; it_link_clock too). libjs-chart.js: Chart.js, which wmweb serves to the web
# console's pages as /vendor/chart.js (never from the internet).
# The web console's browser test (it_web_browser): headless chromium driven by
# chromium-driver and python3-selenium, python3-openpyxl to read the xlsx it
# downloads, fonts-wqy-microhei so the screenshots show Chinese, not boxes.
# iproute2 (ip, tc), nftables and util-linux (unshare): the link tests
# (tests/linkemu) join network namespaces by a veth, cap its rate with tc
# tbf, drop with nftables (blackholes, a NAT's forgotten flows), and give
# a station daemon its own /etc/hosts; python3 runs their proxy
# (wmproxy.py). libvips-dev (from libs.list, like every library): wmctl
# normalises activity photos through it, and it_photos makes its test
# images with it (JPEG with EXIF, PNG, WebP, HEIF).
PKGS="build-essential cmake pkg-config
protobuf-c-compiler lmdb-utils
clang libclang-rt-14-dev
dpkg-dev lintian systemd adduser python3 python3-jsonschema
gettext locales
postgresql postgresql-client
faketime libjs-chart.js
chromium chromium-driver python3-selenium python3-openpyxl fonts-wqy-microhei
iproute2 nftables util-linux
curl"
# curl: it_web uploads photos to wmweb as a browser's fetch does (a raw
# POST of the file's bytes) and reads them back.
# gettext: msgfmt builds the .mo catalogues at every build, xgettext and
# msgattrib check them (test i18n_po); locales: the zh_CN.UTF-8 locale the
# Chinese messages need (gettext falls back to English without it), made
# by ensure_locale below.
PKGS="$PKGS $(sed 's/#.*//' "$(dirname "$0")/libs.list")"

# Cross builds: Debian's cross compiler and qemu-user (qemu-aarch64-static
# runs the arm64 tests, no binfmt needed). The target's libraries are not
# installed: packaging/sysroot.sh unpacks them into the build tree.
CROSS=
case ${1:-} in
"") ;;
arm64) CROSS="crossbuild-essential-arm64 qemu-user-static" ;;
*)
    echo "deps.sh: unknown architecture '$1' (known: arm64)" >&2
    exit 2
    ;;
esac

missing=""
for p in $PKGS $CROSS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
if [ -n "$missing" ]; then
    echo "deps.sh: installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    for p in $CROSS; do
        if ! apt-cache show --no-all-versions "$p" >/dev/null 2>&1; then
            echo "deps.sh: $p is not installable here: no $1 cross build" >&2
            exit 77
        fi
    done
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# zh_CN.UTF-8 for the Chinese messages and their tests: uncomment it in
# /etc/locale.gen (kept across locale-gen runs) and generate, only if
# `locale -a` does not list it yet.
ensure_locale() {
    if locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8'; then
        return 0
    fi
    echo "deps.sh: generating the zh_CN.UTF-8 locale" >&2
    if [ -f /etc/locale.gen ] && grep -q '^# *zh_CN.UTF-8 UTF-8' /etc/locale.gen; then
        $SUDO sed -i 's/^# *\(zh_CN.UTF-8 UTF-8\)/\1/' /etc/locale.gen
    elif ! grep -q '^zh_CN.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null; then
        echo 'zh_CN.UTF-8 UTF-8' | $SUDO tee -a /etc/locale.gen >/dev/null
    fi
    $SUDO locale-gen
}
ensure_locale
