# SPDX-License-Identifier: MIT
# CMake toolchain of the arm64 cross build (make package ARCH=arm64, make
# test-arm64): Debian's cross compiler (crossbuild-essential-arm64) against
# a sysroot that packaging/sysroot.sh unpacks from Debian's arm64 packages.
#   cmake -S . -B build-arm64/build -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake \
#         -DWM_SYSROOT=$PWD/build-arm64/sysroot
# Host tools (protoc-c, msgfmt, python3) come from the build machine; target
# programs run under qemu-user (qemu-aarch64-static -L SYSROOT, no binfmt),
# which is also how ctest runs the unit tests (CMAKE_CROSSCOMPILING_EMULATOR).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(WM_DEB_ARCH arm64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

# try_compile reads this file again in a fresh scope: the environment carries
# the sysroot there.
if(NOT WM_SYSROOT)
  set(WM_SYSROOT "$ENV{WM_SYSROOT}")
endif()
if(NOT WM_SYSROOT OR NOT EXISTS "${WM_SYSROOT}/usr/lib/aarch64-linux-gnu")
  message(FATAL_ERROR "arm64 cross build: -DWM_SYSROOT=DIR must name a sysroot made by "
                      "packaging/sysroot.sh arm64 (got '${WM_SYSROOT}')")
endif()
set(ENV{WM_SYSROOT} "${WM_SYSROOT}")
set(CMAKE_SYSROOT "${WM_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the sysroot's .pc files and prefixes their paths.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${WM_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${WM_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${WM_SYSROOT}/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L "${WM_SYSROOT}")
