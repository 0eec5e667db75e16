// canao runtime: the driver around the BSR-K microkernels (blocks along K).
//
//   C[M x N] = epilogue(bias + A[M x K] * W[K x N]),  W in BSR-K
//
// Outputs go in groups of `lanes` (one C vector per token). Threads split
// the groups so that each gets an equal share of the nonzero blocks (the
// work), not of the outputs. Per thread, for each k block (A's MR x kc tile
// of one token tile stays in L1 while its outputs' blocks stream past), a
// chunk of groups (its blocks in L2) runs over every token tile; after the
// last k block, each finished M x lanes column gets the epilogue while it is
// in cache, and a row epilogue (LayerNorm) runs after a barrier. Each output
// element is computed by one thread in one order: the result does not
// depend on the thread count. The 1xNR layout (BSR-N) runs on the dense
// driver instead (gemm.h).
#ifndef CANAO_UKERNELS_BSR_H
#define CANAO_UKERNELS_BSR_H

#include "canao/threadpool.h"
#include "canao/ukernels/bsr_pack.h"
#include "canao/ukernels/f32_bsr.h"
#include "canao/ukernels/gemm.h"

#include <cstdint>
#include <type_traits>

namespace canao_rt {
namespace ukernel {

struct BsrKArgs {
  int64_t M, N, K;
  int64_t kc;     // k block, a multiple of the block's R; >= K means one block
  const float *a; // row-major M x K, leading dimension lda
  int64_t lda;
  const float *values; // see bsr_pack.h
  const int32_t *bptr;
  const int32_t *bk;
  const float *bias; // N floats or null
  float *c;          // row-major M x N, leading dimension ldc
  int64_t ldc;
  // Groups per chunk: their blocks stay in L2 while every token tile of A
  // passes (canao-sparse's choice from the target's L2).
  int64_t chunk = 32;
};

// The first group of participant t of n (t in [0, n]), by blocks kept.
inline int64_t bsr_k_share(const BsrKArgs &g, int64_t groups, int lanes,
                           int64_t t, int64_t n) {
  if (t >= n)
    return groups;
  const int64_t nkb = bsr::k_blocks(g.K, g.kc);
  const int64_t total = g.bptr[g.N * nkb];
  if (total == 0)
    return groups * t / n;
  int64_t lo = 0, hi = groups;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (int64_t(g.bptr[mid * lanes * nkb]) * n >= total * t)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

template <int MR, int LANES, class Epilogue, class RowEpilogue = NoRowEpilogue>
void bsr_k_gemm(ThreadPool &pool, const BsrKArgs &g, F32BsrKFn kernel,
                Epilogue &&epilogue, RowEpilogue &&row_epilogue = {}) {
  const int64_t M = g.M, N = g.N, K = g.K;
  const int64_t nkb = bsr::k_blocks(K, g.kc);
  const int64_t groups = (N + LANES - 1) / LANES;
  const int64_t chunk = g.chunk < 1 ? 1 : g.chunk;
  const int64_t n = pool.size();
  pool.parallel_for(n, [&](int64_t lo, int64_t hi, int) {
    const int64_t g0 = bsr_k_share(g, groups, LANES, lo, n),
                  g1 = bsr_k_share(g, groups, LANES, hi, n);
    for (int64_t c0 = g0; c0 < g1; c0 += chunk) {
      const int64_t c1 = g1 - c0 < chunk ? g1 : c0 + chunk;
      for (int64_t b = 0; b < nkb; ++b)
        for (int64_t m0 = 0; m0 < M; m0 += MR) {
          const int64_t mb = M - m0 < MR ? M - m0 : MR;
          for (int64_t q = c0; q < c1; ++q) {
            const int64_t n0 = q * LANES, nb = N - n0 < LANES ? N - n0 : LANES;
            float *c = g.c + m0 * g.ldc + n0;
            const float *init = b ? c : g.bias ? g.bias + n0 : nullptr;
            kernel(mb, nb, g.a + m0 * g.lda, g.lda, g.bptr + n0 * nkb + b, nkb,
                   g.bk, g.values, c, g.ldc, init, b ? g.ldc : 0);
          }
        }
      for (int64_t q = c0; q < c1; ++q) {
        const int64_t n0 = q * LANES, nb = N - n0 < LANES ? N - n0 : LANES;
        epilogue(int64_t(0), M, n0, nb);
      }
    }
  });
  constexpr bool kRowEpilogue =
      !std::is_same<std::decay_t<RowEpilogue>, NoRowEpilogue>::value;
  if (kRowEpilogue)
    pool.parallel_for((M + MR - 1) / MR, [&](int64_t lo, int64_t hi, int) {
      row_epilogue(lo * MR, hi * MR < M ? hi * MR : M);
    });
}

} // namespace ukernel
} // namespace canao_rt

#endif // CANAO_UKERNELS_BSR_H
