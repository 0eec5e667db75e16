#!/usr/bin/env bash
# The runtime's Catch2 tests (microkernels, vmath, rows, packing, npy, the
# thread pool's users) cross-compiled for aarch64 and run under qemu on a
# Cortex-A76 and a Cortex-A53. The x86 ISA files compile to null pointers
# there; the portable and the NEON instances ([neon]: every f32_gemm /
# f32_bsr *_neon kernel, alone and in its driver) are what runs.
#
#   run_aarch64.sh SOURCE_DIR WORK_DIR
#
# A missing cross compiler or qemu is a failure (setup error), not a skip.
set -euo pipefail
src=$1 work=$2
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || {
    echo "FAIL setup: $tool not found (apt-get install g++-aarch64-linux-gnu qemu-user)"
    exit 1
  }
done
mkdir -p "$work/include"
# Only catch2/ from the host's include dir: the rest must be the target's.
ln -sfn /usr/include/catch2 "$work/include/catch2"
u=$src/tests/unit
aarch64-linux-gnu-g++ -std=c++17 -O2 -Wno-psabi -I"$src/runtime" \
  -I"$u" -isystem "$work/include" \
  "$u"/main.cpp "$u"/BsrTest.cpp "$u"/RuntimeTest.cpp "$u"/ThreadPoolTest.cpp \
  "$u"/UkernelTest.cpp "$u"/VmathTest.cpp "$u"/UkernelAvx2.cpp \
  "$u"/UkernelAvx512.cpp -lpthread -o "$work/canao-runtime-tests-aarch64"
status=0
# Under qemu (~30x slower) the thread-pool stress cases stay in the native
# run.
ran=0
run() {
  local cpu=$1 tags=$2
  if out=$(qemu-aarch64 -cpu "$cpu" -L /usr/aarch64-linux-gnu \
      "$work/canao-runtime-tests-aarch64" "$tags" 2>&1); then
    echo "PASS $cpu $tags: $(echo "$out" | tail -1)"
    echo "$out" | grep '^vmath max error' | sed "s/^/  $cpu: /"
  else
    echo "FAIL $cpu $tags:"; echo "$out" | tail -30; status=1
  fi
  local n
  n=$(echo "$out" | grep -oE '[0-9]+ test cases' | grep -oE '^[0-9]+' | tail -1)
  ran=$((ran + ${n:-0}))
}
# The generic kernels' driver sweeps (~3 min each under qemu) run natively:
# the driver is the same template code; the NEON drivers run here.
run cortex-a76 "[vmath],[rows],[pack],[npy],[runtime],[generic]~[gemm],[neon]"
run cortex-a53 "[vmath],[rows],[pack],[npy],[runtime],[neon]~[gemm]"
echo "unit_aarch64_qemu: $ran test cases ran under qemu (cortex-a76, cortex-a53)"
exit $status
