# SPDX-License-Identifier: MIT
# Debian packages of a cross build (make package ARCH=arm64), included by the
# top-level CMakeLists.txt before CPack. Nothing changes for a native build.
# The toolchain file (cmake/toolchain-ARCH.cmake) sets WM_DEB_ARCH and
# WM_SYSROOT; the packages get that Architecture, and their Depends come from
# packaging/cross-shlibdeps.sh reading the sysroot's shlibs files (written by
# packaging/sysroot.sh beside the sysroot), since dpkg-shlibdeps only knows
# the packages installed on the build machine.
if(CMAKE_CROSSCOMPILING AND WM_DEB_ARCH)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${WM_DEB_ARCH})
  get_filename_component(WM_SYSROOT_PARENT "${WM_SYSROOT}" DIRECTORY)
  set(CPACK_WM_CROSS_SHLIBS "${WM_SYSROOT_PARENT}/shlibs")
  set(CPACK_WM_CROSS_SHLIBDEPS "${PROJECT_SOURCE_DIR}/packaging/cross-shlibdeps.sh")
  set(CPACK_PROJECT_CONFIG_FILE "${CMAKE_CURRENT_LIST_DIR}/wm_cpack_cross.cmake")
endif()
