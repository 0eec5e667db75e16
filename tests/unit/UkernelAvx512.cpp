// The AVX-512 microkernel instances, compiled with -mavx512f -mavx512vl
// -mavx512bw -mavx512dq -mavx2 -mfma. Pointers only; see UkernelIsa.h for
// why nothing else may live here.
#include "UkernelIsa.h"

namespace canao_test {

canao_rt::ukernel::F32GemmFn avx512_f32_gemm(int mr, int nr) {
#if defined(__AVX512F__)
  using namespace canao_rt::ukernel;
  if (mr == 12 && nr == 32)
    return &f32_gemm_12x32_avx512;
  if (mr == 8 && nr == 32)
    return &f32_gemm_8x32_avx512;
  if (mr == 6 && nr == 64)
    return &f32_gemm_6x64_avx512;
#endif
  (void)mr;
  (void)nr;
  return nullptr;
}

} // namespace canao_test
