#!/bin/bash
# SPDX-License-Identifier: MIT
# The cross-build tests (make test-arm64, and the short form in make test):
#   bash tests/cross/run.sh ARCH quick|full [DIR]      DIR defaults to build-ARCH
# 1. packaging/cross.sh: toolchain, sysroot (cached in DIR), build, packages;
# 2. ctest in DIR/build, every program under qemu-user (the toolchain's
#    CMAKE_CROSSCOMPILING_EMULATOR, cmake/wm_emu.cmake, lib.sh's
#    WM_EXEC_WRAPPER): quick = the unit and i18n tests and one
#    station-to-town sync (it_sync_converge), full = every test but the
#    native package's (label package);
# 3. tests/cross/pkg_cross.sh: the packages' architecture and dependencies.
# Prints the time of each step. Exit status: 0 passed, 77 the cross
# toolchain or qemu-user is not installable here (said why), 1 failed.
set -u
[ $# -ge 2 ] || { echo "usage: $0 ARCH quick|full [DIR]" >&2; exit 2; }
ARCH=$1
MODE=$2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${3:-$SRC/build-$ARCH}
case $MODE in
quick) SELECT=(-L 'unit|i18n') ;;
full) SELECT=(-LE package) ;;
*) echo "usage: $0 ARCH quick|full [DIR]" >&2; exit 2 ;;
esac

mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd) || exit 1
t0=$(date +%s)
rc=0
sh "$SRC/packaging/cross.sh" "$ARCH" "$DIR" >"$DIR/cross.log" 2>&1 || rc=$?
if [ "$rc" -eq 77 ]; then
    tail -1 "$DIR/cross.log"
    echo "SKIPPED: the $ARCH tests: its cross toolchain or qemu-user is not installable here"
    exit 77
elif [ "$rc" -ne 0 ]; then
    tail -40 "$DIR/cross.log"
    echo "FAILED: the $ARCH cross build (log: $DIR/cross.log)"
    exit 1
fi
t1=$(date +%s)
echo "$ARCH: toolchain, sysroot, build and packages in $((t1 - t0)) s (log: $DIR/cross.log)"

fails=0
cd "$DIR/build" || exit 1
ctest --output-on-failure -j 2 "${SELECT[@]}" || fails=$((fails + 1))
if [ "$MODE" = quick ]; then
    ctest --output-on-failure -R '^it_sync_converge$' || fails=$((fails + 1))
fi
t2=$(date +%s)
echo "$ARCH: tests under qemu-user in $((t2 - t1)) s"
bash "$SRC/tests/cross/pkg_cross.sh" "$ARCH" "$DIR" || fails=$((fails + 1))
echo "$ARCH: $MODE run in $(($(date +%s) - t0)) s"
[ "$fails" -eq 0 ]
