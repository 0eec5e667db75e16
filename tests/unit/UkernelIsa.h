// The AVX2 and AVX-512 microkernel instances for UkernelTest.cpp.
//
// f32_gemm.h only defines them when the file including it is compiled with
// those ISA flags, so they come from UkernelAvx2.cpp and UkernelAvx512.cpp
// (flags set in tests/CMakeLists.txt). Those files hand out function
// pointers and nothing else: no test case, no start-up code and no inline
// function or template instance shared with another file (the linker keeps
// one copy of such a function, which could be the one compiled with AVX-512
// instructions). UkernelTest.cpp, built for the baseline ISA, checks
// __builtin_cpu_supports before it calls through a pointer.
#ifndef CANAO_TESTS_UNIT_UKERNELISA_H
#define CANAO_TESTS_UNIT_UKERNELISA_H

#include "canao/ukernels/gemm.h"

namespace canao_test {

// f32_gemm_<mr>x<nr>_avx2, or nullptr when there is no such instance or
// UkernelAvx2.cpp was compiled without -mavx2 -mfma.
canao_rt::ukernel::F32GemmFn avx2_f32_gemm(int mr, int nr);

// f32_gemm_<mr>x<nr>_avx512, or nullptr when there is no such instance or
// UkernelAvx512.cpp was compiled without -mavx512f.
canao_rt::ukernel::F32GemmFn avx512_f32_gemm(int mr, int nr);

} // namespace canao_test

#endif // CANAO_TESTS_UNIT_UKERNELISA_H
