#!/bin/sh
# SPDX-License-Identifier: MIT
# Cross-builds wmsync and its Debian packages for another architecture
# (make package ARCH=arm64): the cross toolchain and qemu-user
# (packaging/deps.sh ARCH), the sysroot (packaging/sysroot.sh), CMake with
# cmake/toolchain-ARCH.cmake, then cpack.
#
#   sh packaging/cross.sh ARCH DIR      e.g. arm64 build-arm64
#
# DIR/sysroot, DIR/apt: see sysroot.sh (kept between runs: a second run
# downloads nothing); DIR/build: the build tree, whose ctest runs the tests
# under qemu-user; the packages land in DIR/build/*_ARCH.deb.
# Exit status: 0 built, 77 the cross toolchain is not installable here (said
# on stderr), other: failed.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 ARCH DIR" >&2; exit 2; }
ARCH=$1
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mkdir -p "$2" && cd "$2" && pwd)
JOBS=${JOBS:-$(nproc)}
TOOLCHAIN=$SRC/cmake/toolchain-$ARCH.cmake
[ -f "$TOOLCHAIN" ] || { echo "cross.sh: no toolchain file for $ARCH ($TOOLCHAIN)" >&2; exit 2; }

rc=0
sh "$SRC/packaging/deps.sh" "$ARCH" || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
sh "$SRC/packaging/sysroot.sh" "$ARCH" "$DIR"

cmake -S "$SRC" -B "$DIR/build" -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
    -DWM_SYSROOT="$DIR/sysroot" -DWM_WERROR=ON >"$DIR/configure.log" ||
    { cat "$DIR/configure.log"; exit 1; }

# Every pkg-config module the build asks for that the build machine has must
# be in the sysroot too: an optional one missing there would silently build
# a smaller program (and a required one fails above, less clearly).
mods=$(cat "$SRC/CMakeLists.txt" "$SRC"/*/CMakeLists.txt "$SRC"/*/*/CMakeLists.txt 2>/dev/null |
    tr '\n' ' ' | grep -o 'pkg_check_modules([^)]*)' |
    sed 's/pkg_check_modules( *[A-Za-z0-9_]*//; s/)$//; s/REQUIRED\|QUIET\|IMPORTED_TARGET\|GLOBAL\|NO_CMAKE_PATH\|NO_CMAKE_ENVIRONMENT_PATH//g' |
    tr ' ' '\n' | sed 's/[<>=].*//' | sort -u)
for m in $mods; do
    if pkg-config --exists "$m" &&
        ! PKG_CONFIG_SYSROOT_DIR="$DIR/sysroot" PKG_CONFIG_PATH= \
            PKG_CONFIG_LIBDIR="$DIR/sysroot/usr/lib/$(dpkg-architecture -a"$ARCH" -qDEB_HOST_MULTIARCH 2>/dev/null)/pkgconfig:$DIR/sysroot/usr/share/pkgconfig" \
            pkg-config --exists "$m"; then
        echo "cross.sh: pkg-config module $m is on this machine but not in the $ARCH sysroot:" \
            "add its -dev package to packaging/libs.list" >&2
        exit 1
    fi
done

cmake --build "$DIR/build" -j "$JOBS"
(cd "$DIR/build" && rm -f ./*.deb && cpack -G DEB)
