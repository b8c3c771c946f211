#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages wmsync builds and tests with. Idempotent:
# installs only what is missing, and runs apt-get update only when it must.
set -eu

# The last line serves make package and tests/package: dpkg-shlibdeps
# (dpkg-dev), lintian, systemd-analyze (systemd), adduser, python3;
# python3-jsonschema checks every rollup of the tests against
# docs/rollup.schema.json.
PKGS="build-essential cmake pkg-config
libzmq3-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev lmdb-utils
libsodium-dev libcmocka-dev libjansson-dev libinih-dev libxlsxwriter-dev
clang libclang-rt-14-dev
dpkg-dev lintian systemd adduser python3 python3-jsonschema"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
