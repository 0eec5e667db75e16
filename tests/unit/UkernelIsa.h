// The AVX2 and AVX-512 microkernel instances for UkernelTest.cpp and
// BsrTest.cpp.
//
// f32_gemm.h and f32_bsr.h only define them when the file including them is
// compiled with those ISA flags, so they come from UkernelAvx2.cpp and
// UkernelAvx512.cpp (flags set in tests/CMakeLists.txt). Those files hand
// out function pointers and nothing else: no test case, no start-up code and
// no inline function or template instance shared with another file (the
// linker keeps one copy of such a function, which could be the one compiled
// with AVX-512 instructions; so each file names only its own ISA's
// instances, UkernelAvx512.cpp no AVX2 one). UkernelTest.cpp and
// BsrTest.cpp, built for the baseline ISA, check __builtin_cpu_supports
// before they call through a pointer.
#ifndef CANAO_TESTS_UNIT_UKERNELISA_H
#define CANAO_TESTS_UNIT_UKERNELISA_H

#include "canao/ukernels/f32_bsr.h"
#include "canao/ukernels/gemm.h"

namespace canao_test {

// f32_gemm_<mr>x<nr>_avx2, or nullptr when there is no such instance or
// UkernelAvx2.cpp was compiled without -mavx2 -mfma.
canao_rt::ukernel::F32GemmFn avx2_f32_gemm(int mr, int nr);

// f32_gemm_<mr>x<nr>_avx512, or nullptr when there is no such instance or
// UkernelAvx512.cpp was compiled without -mavx512f.
canao_rt::ukernel::F32GemmFn avx512_f32_gemm(int mr, int nr);

// The block-sparse instances, nullptr likewise: BSR-N
// f32_bsr_1x<nr>_<mr>x<nr>_<isa> (one per dense tile) and BSR-K
// f32_bsr_<r>x1_<mr>x<lanes>_<isa>.
canao_rt::ukernel::F32BsrNFn avx2_f32_bsr_n(int mr, int nr);
canao_rt::ukernel::F32BsrKFn avx2_f32_bsr_k(int r, int mr);
canao_rt::ukernel::F32BsrNFn avx512_f32_bsr_n(int mr, int nr);
canao_rt::ukernel::F32BsrKFn avx512_f32_bsr_k(int r, int mr);

} // namespace canao_test

#endif // CANAO_TESTS_UNIT_UKERNELISA_H
