# Cross-compiling for 64-bit Arm Linux with Debian's GNU toolchain
# (apt-get install g++-aarch64-linux-gnu qemu-user). Use it for canao's
# generated OUTDIR (or a project that links it):
#
#   cmake -S OUTDIR -B build-arm \
#         -DCMAKE_TOOLCHAIN_FILE=/path/to/canao/cmake/toolchains/aarch64-linux-gnu.cmake
#
# Binaries run on this host under user-mode qemu (binfmt may be off, so the
# emulator is set explicitly; ctest and try_run use it):
#
#   qemu-aarch64 -L /usr/aarch64-linux-gnu build-arm/NAME_run ...
#
# For Android, use the NDK's toolchain file instead (docs/runtime.md).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CANAO_AARCH64_PREFIX aarch64-linux-gnu- CACHE STRING
    "Prefix of the cross compiler's tools")
# -DCANAO_AARCH64_CLANG=ON: clang (what the Android NDK ships) targeting
# aarch64-linux-gnu, with the GNU cross toolchain's headers and libraries.
option(CANAO_AARCH64_CLANG "Cross-compile with clang instead of GCC" OFF)
if(CANAO_AARCH64_CLANG)
  set(CMAKE_C_COMPILER clang)
  set(CMAKE_CXX_COMPILER clang++)
  set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
  set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)
else()
  set(CMAKE_C_COMPILER ${CANAO_AARCH64_PREFIX}gcc)
  set(CMAKE_CXX_COMPILER ${CANAO_AARCH64_PREFIX}g++)
endif()

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CANAO_QEMU_CPU cortex-a76 CACHE STRING
    "CPU qemu-aarch64 emulates (cortex-a76, cortex-a53, ...)")
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-aarch64;-cpu;${CANAO_QEMU_CPU};-L;/usr/aarch64-linux-gnu)
