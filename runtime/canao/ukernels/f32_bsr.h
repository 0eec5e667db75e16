// canao runtime: f32 block-sparse microkernels for blocks along K (BSR-K).
//
//   C[m x g] = init + A[m x K] * W[K x g],  m <= MR, g <= lanes
//
// W is stored per output column as its nonzero Rx1 blocks (R consecutive k
// of one output): output o's blocks are [bptr[o * bstride],
// bptr[o * bstride + 1]) of `bk` (the block's first k, absolute in A) and
// `bv` (R floats each, in k order); bk[b1] must be readable (the layout
// stores one entry past the end). A is read in place, row-major: a block
// is R contiguous floats of each row, so the kernel multiplies R/lanes
// vectors of A by the block's R weights, vector by vector, and keeps the
// partial sums of MR tokens in registers across all of the output's blocks.
// No index work per element, no packing of A, and a weight vector serves
// MR tokens. After each output, the MR partial-sum vectors are parked; after
// `lanes` outputs, one transpose-add (ISA lane_sums) turns them into one
// vector of C per token, stored as a contiguous row segment of C, so the
// dense path's epilogues run on C unchanged.
//
// The alternative for blocks along K, XNNPACK's SpMM (broadcast the weight,
// vector across tokens), needs A transposed and measured no faster here.
//
// Named instances: f32_bsr_<R>x1_<MR>x<lanes>_<isa>.
#ifndef CANAO_UKERNELS_F32_BSR_H
#define CANAO_UKERNELS_F32_BSR_H

#include "canao/ukernels/isa.h"

#include <cstdint>

namespace canao_rt {
namespace ukernel {

typedef void (*F32BsrKFn)(int64_t m, int64_t g, const float *a, int64_t lda,
                          const int32_t *bptr, int64_t bstride,
                          const int32_t *bk, const float *bv, float *c,
                          int64_t ldc, const float *init, int64_t init_ld);

// RA accumulators per token: enough independent FMA chains (MR * RA) to
// hide the FMA latency, within the register file with the R/lanes weight
// vectors.
template <class I, int R, int MR, int RA> struct F32BsrK {
  static constexpr int L = I::lanes, RV = R / L;
  static_assert(R % L == 0, "R must be a multiple of the lanes");
  static_assert(RV % RA == 0, "RA must divide R / lanes");
  typedef typename I::V V;

  template <int M>
  static void tile(int64_t g, const float *a, int64_t lda,
                   const int32_t *__restrict bptr, int64_t bstride,
                   const int32_t *__restrict bk, const float *__restrict bv,
                   float *c, int64_t ldc, const float *init, int64_t init_ld) {
    V part[M][L];
    const float *ar[M];
#pragma GCC unroll 16
    for (int r = 0; r < M; ++r)
      ar[r] = a + r * lda;
    for (int64_t o = 0; o < L; ++o) {
      V acc[M][RA];
#pragma GCC unroll 16
      for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < RA; ++v)
          acc[r][v] = I::zero();
      if (o < g) {
        const int32_t b0 = bptr[o * bstride], b1 = bptr[o * bstride + 1];
        const float *wv = bv + int64_t(b0) * R;
        // The next block's k is loaded one block ahead (bk has an entry
        // past the end): A's loads then do not wait on a load, which filled
        // the address queues and halved the rate on Zen 2.
        int64_t knext = bk[b0];
#pragma GCC unroll 2
        for (int32_t b = b0; b < b1; ++b, wv += R) {
          const int64_t k = knext;
          knext = bk[b + 1];
          V w[RV];
#pragma GCC unroll 8
          for (int v = 0; v < RV; ++v)
            w[v] = I::load(wv + v * L);
#pragma GCC unroll 16
          for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
            for (int v = 0; v < RV; ++v)
              acc[r][v % RA] =
                  I::fma(I::load(ar[r] + k + v * L), w[v], acc[r][v % RA]);
        }
      }
#pragma GCC unroll 16
      for (int r = 0; r < M; ++r) {
        V s = acc[r][0];
#pragma GCC unroll 8
        for (int v = 1; v < RA; ++v)
          s = s + acc[r][v];
        part[r][o] = s;
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < M; ++r) {
      V s = I::lane_sums(part[r]);
      if (g == L) {
        if (init)
          s = s + I::load(init + r * init_ld);
        I::store(c + r * ldc, s);
      } else { // the last, narrow group: no access past column g
        alignas(64) float t[L];
        I::store(t, s);
        for (int64_t j = 0; j < g; ++j)
          c[r * ldc + j] = init ? t[j] + init[r * init_ld + j] : t[j];
      }
    }
  }

  template <int M>
  static void dispatch(int64_t m, int64_t g, const float *a, int64_t lda,
                       const int32_t *bptr, int64_t bstride, const int32_t *bk,
                       const float *bv, float *c, int64_t ldc,
                       const float *init, int64_t init_ld) {
    if constexpr (M > 0) {
      if (m == M)
        tile<M>(g, a, lda, bptr, bstride, bk, bv, c, ldc, init, init_ld);
      else
        dispatch<M - 1>(m, g, a, lda, bptr, bstride, bk, bv, c, ldc, init,
                        init_ld);
    }
  }
};

#define CANAO_F32_BSR_K_INSTANCE(R, MR, RA, ISA, TRAITS)                       \
  __attribute__((noinline)) inline void f32_bsr_##R##x1_##MR##x##ISA(          \
      int64_t m, int64_t g, const float *a, int64_t lda, const int32_t *bptr,  \
      int64_t bstride, const int32_t *bk, const float *bv, float *c,           \
      int64_t ldc, const float *init, int64_t init_ld) {                       \
    F32BsrK<TRAITS, R, MR, RA>::dispatch<MR>(m, g, a, lda, bptr, bstride, bk,  \
                                             bv, c, ldc, init, init_ld);       \
  }

// MR x RA = 12 accumulators (12 FMA chains, 12 + R/lanes registers of 16).
// `4_generic` etc.: the lane count is part of the tile name (MRxlanes).
CANAO_F32_BSR_K_INSTANCE(4, 12, 1, 4_generic, isa::Generic)
CANAO_F32_BSR_K_INSTANCE(8, 6, 2, 4_generic, isa::Generic)
CANAO_F32_BSR_K_INSTANCE(16, 3, 4, 4_generic, isa::Generic)
#if defined(__AVX2__) && defined(__FMA__)
CANAO_F32_BSR_K_INSTANCE(8, 12, 1, 8_avx2, isa::Avx2)
CANAO_F32_BSR_K_INSTANCE(16, 6, 2, 8_avx2, isa::Avx2)
#endif
#if defined(__AVX512F__)
// 8 token rows, not 12: 12 rows of A (36 KB at K = 768) left too little of
// the 48 KB L1 for the weights streaming past; 8 rows ran 1.1-1.2x faster
// at 25% and 10% kept on Sapphire Rapids (canao-gemm-bench --sparse), 16
// rows 0.85x.
CANAO_F32_BSR_K_INSTANCE(16, 8, 1, 16_avx512, isa::Avx512)
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
// 32 registers: MR x RA = 16 accumulators and 8 token rows (M = 128 has no
// partial tile), plus R/4 weight vectors.
CANAO_F32_BSR_K_INSTANCE(4, 16, 1, 4_neon, isa::Neon)
CANAO_F32_BSR_K_INSTANCE(8, 8, 2, 4_neon, isa::Neon)
CANAO_F32_BSR_K_INSTANCE(16, 8, 2, 4_neon, isa::Neon)
#endif

#undef CANAO_F32_BSR_K_INSTANCE

} // namespace ukernel
} // namespace canao_rt

#endif // CANAO_UKERNELS_F32_BSR_H
