#!/bin/sh
# SPDX-License-Identifier: MIT
# dpkg-shlibdeps for a cross build (CPack calls it: cmake/wm_cpack_cross.cmake).
# The real dpkg-shlibdeps asks the machine's dpkg database which package
# ships each library a binary needs; a cross build's libraries are not
# installed but unpacked into a sysroot (packaging/sysroot.sh), so this
# reads the shlibs files of the sysroot's packages instead, collected by
# sysroot.sh into the file named by $WM_CROSS_SHLIBS.
#
#   WM_CROSS_SHLIBS=build-arm64/shlibs cross-shlibdeps.sh [-lDIR]... -O FILE...
#
# Prints "shlibs:Depends=libc6 (>= 2.36), libzmq5 (>= 4.3.4), ..." as
# dpkg-shlibdeps -O does: one entry per package, with the version its shlibs
# file requires (the highest when several libraries of one package are
# needed). The shlibs version is the package's own floor for any binary
# linked against it, where dpkg-shlibdeps would use the symbols files for a
# lower one: stricter, never wrong. Exit status: 0, 1 when a needed library
# is in no shlibs file (named on stderr), 2 on usage errors.
set -eu

case ${1:-} in
--version)
    echo "Debian dpkg-shlibdeps version 1.21.0 (wmsync cross-build stand-in)."
    exit 0
    ;;
--help)
    echo "usage: WM_CROSS_SHLIBS=FILE $0 [-lDIR]... -O FILE..."
    exit 0
    ;;
esac
SHLIBS=${WM_CROSS_SHLIBS:-}
[ -r "$SHLIBS" ] || { echo "$0: WM_CROSS_SHLIBS must name the sysroot's shlibs file" >&2; exit 2; }

files=
for a in "$@"; do
    case $a in
    -O | -l* | --ignore-missing-info) ;;
    -*) echo "$0: unsupported option $a" >&2; exit 2 ;;
    *) files="$files $a" ;;
    esac
done
[ -n "$files" ] || { echo "$0: no binary given" >&2; exit 2; }

# NEEDED sonames of every binary (readelf reads any ELF machine)
# shellcheck disable=SC2086
needed=$(for f in $files; do LC_ALL=C readelf -d "$f"; done |
    sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort -u)

# soname -> "name version" as shlibs files key them: libfoo.so.5 -> libfoo 5,
# libfoo-1.2.so -> libfoo 1.2
deps=
missing=0
for so in $needed; do
    case $so in
    *.so.*) key="${so%%.so.*} ${so#*.so.}" ;;
    *-[0-9]*.so) base=${so%.so} && key="${base%-*} ${base##*-}" ;;
    *) key="$so" ;;
    esac
    # a line "name version dependency..." (udeb: lines are for the installer)
    dep=$(awk -v n="${key% *}" -v v="${key#* }" '$1 == n && $2 == v {
            $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$SHLIBS")
    if [ -z "$dep" ]; then
        echo "$0: no shlibs entry for $so (add its -dev package to packaging/libs.list)" >&2
        missing=1
        continue
    fi
    deps="$deps$dep
"
done
[ "$missing" -eq 0 ] || exit 1

# one entry per package: keep the highest version asked for
out=
for pkg in $(printf '%s' "$deps" | awk '{print $1}' | sort -u); do
    best=
    bestv=
    while IFS= read -r d; do
        v=$(echo "$d" | sed -n 's/^[^ ]* *(>= *\([^)]*\)).*/\1/p')
        if [ -z "$best" ] || { [ -n "$v" ] && { [ -z "$bestv" ] || dpkg --compare-versions "$v" gt "$bestv"; }; }; then
            best=$d
            bestv=$v
        fi
    done <<DEPS
$(printf '%s' "$deps" | awk -v p="$pkg" '$1 == p')
DEPS
    out="${out:+$out, }$best"
done
echo "shlibs:Depends=$out"
