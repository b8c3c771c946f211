# SPDX-License-Identifier: MIT
# Read by cpack before each package of a cross build (cmake/wm_cross_deb.cmake):
# CPackDeb runs the stand-in packaging/cross-shlibdeps.sh where it would run
# dpkg-shlibdeps, with the sysroot's shlibs file in its environment.
set(SHLIBDEPS_EXECUTABLE "${CPACK_WM_CROSS_SHLIBDEPS}")
set(ENV{WM_CROSS_SHLIBS} "${CPACK_WM_CROSS_SHLIBS}")
