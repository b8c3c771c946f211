#!/bin/bash
# SPDX-License-Identifier: MIT
# Checks the Debian packages of a cross build (packaging/cross.sh):
#   bash tests/cross/pkg_cross.sh ARCH DIR        e.g. arm64 build-arm64
# For every package in DIR/build (wmsync-daemon and wmsync-cli at least):
# Architecture is ARCH; every ELF file inside is built for ARCH's machine;
# Depends names the package of every library the binaries need; each dependency exists for ARCH in
# Debian's lists (read through the sysroot's private apt, DIR/apt/apt.conf)
# and apt resolves an install of all of them on an empty ARCH system
# (apt-get --simulate: nothing is installed, the machine is not touched).
# Ends with "N passed, N failed".
set -u
[ $# -eq 2 ] || { echo "usage: $0 ARCH DIR" >&2; exit 2; }
ARCH=$1
DIR=$(cd "$2" && pwd) || exit 2
export APT_CONFIG=$DIR/apt/apt.conf
case $ARCH in
arm64) MACHINE=AArch64 ;;
*) echo "pkg_cross.sh: no ELF machine known for $ARCH" >&2; exit 2 ;;
esac
PASSED=0
FAILED=0
T=$(mktemp -d) || exit 2
trap 'rm -rf "$T"' EXIT
pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }
check() { local m=$1; shift; if "$@"; then pass; else fail "$m"; fi; }

debs=()
# the packages built here (wmsync-web depends on wmsync-daemon): not in Debian's lists
built=$(for deb in "$DIR"/build/*_"$ARCH".deb; do [ -f "$deb" ] && dpkg-deb -f "$deb" Package; done | xargs)
for pkg in wmsync-daemon wmsync-cli; do
    ls "$DIR"/build/${pkg}_*_"$ARCH".deb >/dev/null 2>&1 || fail "no ${pkg}_*_$ARCH.deb in $DIR/build"
done
for deb in "$DIR"/build/*_"$ARCH".deb; do
    [ -f "$deb" ] || continue
    pkg=$(dpkg-deb -f "$deb" Package)
    debs+=("$deb")
    check "$pkg: Architecture is $ARCH" [ "$(dpkg-deb -f "$deb" Architecture)" = "$ARCH" ]
    mkdir -p "$T/$pkg" && dpkg-deb -x "$deb" "$T/$pkg"
    depends=$(dpkg-deb -f "$deb" Depends)
    nelf=0
    while IFS= read -r f; do
        LC_ALL=C readelf -h "$f" >/dev/null 2>&1 || continue
        nelf=$((nelf + 1))
        check "$pkg: ${f#"$T/$pkg"} is an $MACHINE binary" \
            grep -q "Machine:.*$MACHINE" <(LC_ALL=C readelf -h "$f")
        # each needed library's package (as the sysroot's shlibs name it) is in Depends
        for so in $(LC_ALL=C readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
            owner=$(grep -l "/$so\$" "$DIR"/owners/*.list 2>/dev/null | head -1)
            owner=$(basename "${owner:-none}" .list)
            check "$pkg: Depends ($depends) names $owner, which ships $so" \
                grep -qE "(^|, )$owner( |,|$)" <<<"$depends"
        done
    done < <(find "$T/$pkg" -type f)
    check "$pkg: has ELF binaries" [ "$nelf" -gt 0 ]
    # every dependency is a real ARCH (or all) package in Debian's lists
    for d in $(tr ',' '\n' <<<"$depends" | sed 's/(.*//; s/|.*//' | xargs); do
        case " $built " in *" $d "*) continue ;; esac
        a=$(apt-cache show --no-all-versions "$d" 2>/dev/null | sed -n 's/^Architecture: //p' | head -1)
        check "$pkg: dependency $d exists for $ARCH (got '${a:-none}')" \
            test "$a" = "$ARCH" -o "$a" = all
    done
done
if [ "${#debs[@]}" -ge 2 ]; then
    if apt-get install --simulate "${debs[@]}" >"$T/sim" 2>&1; then
        check "apt would install wmsync-daemon on $ARCH" grep -q '^Inst wmsync-daemon' "$T/sim"
    else
        fail "apt cannot resolve the $ARCH packages' dependencies: $(tail -5 "$T/sim")"
    fi
fi
echo "pkg_cross.sh: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
