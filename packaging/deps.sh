#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages wmsync builds and tests with. Idempotent:
# installs only what is missing, and runs apt-get update only when it must.
set -eu

# The dpkg-dev line serves make package and tests/package: dpkg-shlibdeps
# (dpkg-dev), lintian, systemd-analyze (systemd), adduser, python3;
# python3-jsonschema checks every rollup of the tests against
# docs/rollup.schema.json. libpq-dev: wmctl export (cli/pg_export.c);
# postgresql (server 15, with postgresql-client's psql): the export's tests
# and benchmark start a throw-away server (tests/integration/pg_lib.sh).
# libzstd-dev: the compressed batches of feature
# "zstd" (proto/wm_wire.c); faketime: it_clock runs stations with wrong
# clocks (libfaketime, per process).
PKGS="build-essential cmake pkg-config
libzstd-dev libzmq3-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev lmdb-utils
libsodium-dev libcmocka-dev libjansson-dev libinih-dev libxlsxwriter-dev
clang libclang-rt-14-dev
dpkg-dev lintian systemd adduser python3 python3-jsonschema
gettext locales
libpq-dev postgresql postgresql-client
faketime"
# gettext: msgfmt builds the .mo catalogues at every build, xgettext and
# msgattrib check them (test i18n_po); locales: the zh_CN.UTF-8 locale the
# Chinese messages need (gettext falls back to English without it), made
# by ensure_locale below.

missing=""
for p in $PKGS; do
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
