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

canao_rt::ukernel::F32BsrNFn avx512_f32_bsr_n(int mr, int nr) {
#if defined(__AVX512F__)
  using namespace canao_rt::ukernel;
  if (mr == 12 && nr == 32)
    return &f32_bsr_1x32_12x32_avx512;
  if (mr == 8 && nr == 32)
    return &f32_bsr_1x32_8x32_avx512;
  if (mr == 6 && nr == 64)
    return &f32_bsr_1x64_6x64_avx512;
#endif
  (void)mr;
  (void)nr;
  return nullptr;
}

canao_rt::ukernel::F32BsrKFn avx512_f32_bsr_k(int r, int mr) {
#if defined(__AVX512F__)
  using namespace canao_rt::ukernel;
  if (r == 16 && mr == 8)
    return &f32_bsr_16x1_8x16_avx512;
#endif
  (void)r;
  (void)mr;
  return nullptr;
}

} // namespace canao_test
