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

canao_rt::ukernel::F32BsrNFn avx2_f32_bsr_n(int mr, int nr) {
#if defined(__AVX2__) && defined(__FMA__)
  using namespace canao_rt::ukernel;
  if (mr == 6 && nr == 16)
    return &f32_bsr_1x16_6x16_avx2;
  if (mr == 4 && nr == 24)
    return &f32_bsr_1x24_4x24_avx2;
#endif
  (void)mr;
  (void)nr;
  return nullptr;
}

canao_rt::ukernel::F32BsrKFn avx2_f32_bsr_k(int r, int mr) {
#if defined(__AVX2__) && defined(__FMA__)
  using namespace canao_rt::ukernel;
  if (r == 8 && mr == 12)
    return &f32_bsr_8x1_12x8_avx2;
  if (r == 16 && mr == 6)
    return &f32_bsr_16x1_6x8_avx2;
#endif
  (void)r;
  (void)mr;
  return nullptr;
}

} // namespace canao_test
