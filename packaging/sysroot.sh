#!/bin/sh
# SPDX-License-Identifier: MIT
# Makes the sysroot of a cross build: the target architecture's libraries of
# packaging/libs.list and everything they depend on, downloaded from the
# machine's own Debian mirror and unpacked (dpkg -x), never installed.
#
#   sh packaging/sysroot.sh ARCH DIR      e.g. arm64 build-arm64
#
# DIR/sysroot   the unpacked packages, merged-/usr (lib -> usr/lib) and every
#               absolute symlink made relative, so that both the cross linker
#               (--sysroot) and qemu-user (-L) find everything inside it
# DIR/shlibs    the shlibs control files of every unpacked package, for
#               packaging/cross-shlibdeps.sh (the packages' Depends)
# DIR/owners/   PKG.list: the files each unpacked package ships (dpkg -L)
# DIR/apt/      a private apt: its own sources (the machine's, for ARCH), its
#               own lists, cache and an empty dpkg status. The machine's apt
#               and dpkg state are never touched: no dpkg --add-architecture,
#               nothing installed. DIR/apt/apt.conf serves other scripts too
#               (APT_CONFIG=DIR/apt/apt.conf apt-cache ...).
#
# Cached: when DIR/sysroot.stamp names the same package list, nothing is done.
# Exit status: 0 done (or cached), 1 failed (said why on stderr).
set -eu

[ $# -eq 2 ] || { echo "usage: $0 ARCH DIR" >&2; exit 2; }
ARCH=$1
DIR=$(mkdir -p "$2" && cd "$2" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
LIBS=$(sed 's/#.*//' "$SRC/packaging/libs.list" | xargs)
A=$DIR/apt
SYSROOT=$DIR/sysroot
STAMP="layout 2, $ARCH: $LIBS" # layout: bump when the tree made below changes

if [ -d "$SYSROOT" ] && [ "$(cat "$DIR/sysroot.stamp" 2>/dev/null)" = "$STAMP" ]; then
    echo "sysroot.sh: $SYSROOT is up to date"
    exit 0
fi

# The private apt. Sources: the machine's own (its mirror, its keys), read for
# ARCH. Third-party sources limited to other architectures simply yield
# nothing for ARCH.
mkdir -p "$A/sources.list.d" "$A/state/lists/partial" "$A/cache/archives/partial" "$A/prefs.d"
: >"$A/state/status"
rm -f "$A/sources.list.d/"*
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$A/sources.list.d/host.list"
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cp "$f" "$A/sources.list.d/"
done
cat >"$A/apt.conf" <<EOF
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
Dir::State "$A/state";
Dir::State::status "$A/state/status";
Dir::Cache "$A/cache";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$A/sources.list.d";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$A/prefs.d";
APT::Install-Recommends "false";
APT::Get::Assume-Yes "true";
EOF
export APT_CONFIG="$A/apt.conf"

echo "sysroot.sh: $ARCH package lists" >&2
apt-get update -q >"$A/update.log" 2>&1 || { cat "$A/update.log" >&2; exit 1; }
# With an empty dpkg status, --download-only fetches the whole dependency
# closure of LIBS, each package once, as apt resolves it for a real install.
echo "sysroot.sh: downloading $LIBS and their dependencies for $ARCH" >&2
# shellcheck disable=SC2086
apt-get install -q --download-only $LIBS >"$A/download.log" 2>&1 ||
    { tail -30 "$A/download.log" >&2; exit 1; }

rm -rf "$SYSROOT" "$DIR/shlibs" "$DIR/owners"
mkdir -p "$SYSROOT" "$DIR/owners"
: >"$DIR/shlibs"
for deb in "$A"/cache/archives/*.deb; do
    dpkg-deb -x "$deb" "$SYSROOT"
    dpkg-deb -c "$deb" | awk '{ sub(/^\./, "", $6); print $6 }' \
        >"$DIR/owners/$(dpkg-deb -f "$deb" Package).list"
    # a package without a shlibs file ships no public shared library
    dpkg-deb -I "$deb" shlibs >>"$DIR/shlibs" 2>/dev/null || true
done

# merged /usr: Debian 12 packages ship part of their libraries in /lib
if [ -d "$SYSROOT/lib" ] && [ ! -L "$SYSROOT/lib" ]; then
    mkdir -p "$SYSROOT/usr/lib"
    cp -a "$SYSROOT/lib/." "$SYSROOT/usr/lib/"
    rm -rf "$SYSROOT/lib"
fi
ln -sfn usr/lib "$SYSROOT/lib"
# an absolute link (/usr/lib/x/libfoo.so -> /lib/x/libfoo.so.1) would leave the
# sysroot: point it at the same path inside
find "$SYSROOT" -type l -lname '/*' | while read -r l; do
    ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$SYSROOT$(readlink "$l")")" "$l"
done

# A test that preloads a library by the build machine's path
# (LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/...: it_clock) into a
# program under qemu -L gets the target's library of the same name: the
# build machine's multiarch directory names the target's in the sysroot.
HOST_MA=$(dpkg-architecture -qDEB_BUILD_MULTIARCH)
TARGET_MA=$(dpkg-architecture -a"$ARCH" -qDEB_HOST_MULTIARCH 2>/dev/null)
[ "$HOST_MA" = "$TARGET_MA" ] || ln -sfn "$TARGET_MA" "$SYSROOT/usr/lib/$HOST_MA"

echo "$STAMP" >"$DIR/sysroot.stamp"
echo "sysroot.sh: $SYSROOT: $(ls "$A"/cache/archives/*.deb | wc -l) packages, $(du -sh "$SYSROOT" | cut -f1)"
