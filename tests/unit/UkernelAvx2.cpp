// The AVX2 microkernel instances, compiled with -mavx2 -mfma. Pointers only;
// see UkernelIsa.h for why nothing else may live here.
#include "UkernelIsa.h"

namespace canao_test {

canao_rt::ukernel::F32GemmFn avx2_f32_gemm(int mr, int nr) {
#if defined(__AVX2__) && defined(__FMA__)
  using namespace canao_rt::ukernel;
  if (mr == 6 && nr == 16)
    return &f32_gemm_6x16_avx2;
  if (mr == 4 && nr == 24)
    return &f32_gemm_4x24_avx2;
#endif
  (void)mr;
  (void)nr;
  return nullptr;
}

} // namespace canao_test
