# SPDX-License-Identifier: MIT
# Tests of a cross build run the programs under the toolchain's emulator
# (cmake/toolchain-arm64.cmake: qemu-user). ctest does that by itself for a
# test whose COMMAND is a target; a script that gets a program's path as an
# argument gets, through wm_emu_args, the path of a small generated script
# that execs the program under the emulator instead (in the same process:
# signals and pids stay the program's; it finds files beside the real
# binary, since qemu-user answers /proc/self/exe with the program's path).
# Nothing changes in a native build.

# wm_emu_args(OUT TAG ARG...): OUT = the ARGs, each "$<TARGET_FILE:t>"
# replaced by BINARY_DIR/emu/TAG/t in a cross build. TAG keeps the scripts
# of different tests apart (file(GENERATE) writes each output once).
function(wm_emu_args out tag)
  set(args)
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " emu)
  foreach(a IN LISTS ARGN)
    if(CMAKE_CROSSCOMPILING_EMULATOR AND a MATCHES "^\\$<TARGET_FILE:(.*)>$")
      set(script ${CMAKE_CURRENT_BINARY_DIR}/emu/${tag}/${CMAKE_MATCH_1})
      # FILE_PERMISSIONS needs CMake 3.19 (Debian 12 has 3.25): cross builds only
      file(GENERATE OUTPUT ${script} CONTENT "#!/bin/sh\nexec ${emu} ${a} \"$@\"\n"
           FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)
      set(a ${script})
    endif()
    list(APPEND args ${a})
  endforeach()
  set(${out} ${args} PARENT_SCOPE)
endfunction()
