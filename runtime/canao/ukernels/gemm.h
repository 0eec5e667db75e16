// canao runtime: the GEMM driver around a microkernel.
//
//   C[M x N] = epilogue(bias + A[M x K] * W[K x N])
//
// W arrives packed at compile time in NR-wide panels ([ceil(N/NR)][K][NR]).
// The driver packs A once into MR-row tiles (in a workspace the memory
// planner placed), then splits the panels statically across the pool.
// For each kc block of K, per panel, every MR-row tile of A runs through
// the microkernel (the W slice stays in L1/L2 across the tiles), and the
// first tile prefetches the same slice of the thread's next panel. Once a
// panel's M x NR column is final and still in cache, the epilogue runs on
// it. Each output element is computed by one thread in one order, so the
// result does not depend on the thread count.
#ifndef CANAO_UKERNELS_GEMM_H
#define CANAO_UKERNELS_GEMM_H

#include "canao/threadpool.h"
#include "canao/ukernels/f32_gemm.h"

#include <cstdint>

namespace canao_rt {
namespace ukernel {

typedef void (*F32GemmFn)(int64_t m, int64_t kc, const float *a, const float *w,
                          float *c, int64_t ldc, const float *init,
                          int64_t init_ld, const float *prefetch, int pf_shift);

struct GemmArgs {
  int64_t M, N, K;
  int64_t kc;     // k block; >= K means one block
  int64_t mc;     // row block, rounded down to MR; >= M means one block
  const float *a; // row-major M x K, leading dimension lda
  int64_t lda;
  const float *w;    // panels
  const float *bias; // N floats or null
  float *c;          // row-major M x N, leading dimension ldc
  int64_t ldc;
  float *a_packed; // workspace: ceil(M/MR) * MR * K floats
  // The next panel is prefetched by the first 2^pf_log2 tiles of a row
  // block (fewer if the block has fewer), one row per 2^pf_log2 k steps
  // each: the target table's prefetchTilesLog2.
  int pf_log2 = 3;
};

inline int64_t packed_a_floats(int64_t m, int64_t k, int mr) {
  return (m + mr - 1) / mr * mr * k;
}

// `epilogue(m0, m1, n0, nb)` finishes rows [m0, m1) x columns
// [n0, n0 + nb) once they are final.
template <int MR, int NR, class Epilogue>
void gemm(ThreadPool &pool, const GemmArgs &g, F32GemmFn kernel,
          Epilogue &&epilogue) {
  const int64_t M = g.M, N = g.N, K = g.K;
  const int64_t kc = g.kc < K ? g.kc : K;
  const int64_t mc = g.mc < MR ? MR : g.mc / MR * MR;
  const int64_t tiles = (M + MR - 1) / MR, panels = (N + NR - 1) / NR;
  const int64_t Mp = tiles * MR;
  // A block k0 (kb wide) is packed at a_packed + k0 * Mp: its tiles are
  // contiguous, so one block of A (not all of it) is the L2 working set.
  pool.parallel_for(tiles, [&](int64_t lo, int64_t hi, int) {
    for (int64_t t = lo; t < hi; ++t)
      for (int64_t k0 = 0; k0 < K; k0 += kc) {
        const int64_t kb = K - k0 < kc ? K - k0 : kc, m0 = t * MR;
        pack_a<MR>(M - m0 < MR ? M - m0 : MR, kb, g.a + m0 * g.lda + k0, g.lda,
                   1.0f, g.a_packed + k0 * Mp + m0 * kb);
      }
  });
  // k blocks outermost, then row blocks of mc (GotoBLAS order): one packed
  // mc x kc block of A stays in L2 while every panel streams past it. The
  // static split gives a thread the same panels in every block, so its C
  // columns stay in its own cache.
  for (int64_t k0 = 0; k0 < K; k0 += kc) {
    const int64_t kb = K - k0 < kc ? K - k0 : kc;
    const bool last = k0 + kb == K;
    const float *ab = g.a_packed + k0 * Mp;
    for (int64_t b0 = 0; b0 < M; b0 += mc) {
      const int64_t b1 = M - b0 < mc ? M : b0 + mc;
      const int64_t t0 = b0 / MR, t1 = (b1 + MR - 1) / MR;
      // The next panel's prefetches are spread over the block's first
      // 2^shift tiles (at most 2^pf_log2): one row per 2^shift k steps.
      int shift = 0;
      while (shift < g.pf_log2 && (int64_t(2) << shift) <= t1 - t0)
        ++shift;
      pool.parallel_for(panels, [&](int64_t lo, int64_t hi, int) {
        for (int64_t p = lo; p < hi; ++p) {
          const float *wp = g.w + p * K * NR;
          const int64_t n0 = p * NR, nb = N - n0 < NR ? N - n0 : NR;
          if (nb == NR) {
            const float *next = p + 1 < hi ? wp + K * NR + k0 * NR : nullptr;
            const int64_t chunk = (((kb - 1) >> shift) + 1) * NR;
            const float *init = k0 ? nullptr : g.bias ? g.bias + n0 : nullptr;
            for (int64_t t = t0; t < t1; ++t) {
              const int64_t m0 = t * MR, mb = M - m0 < MR ? M - m0 : MR;
              float *c = g.c + m0 * g.ldc + n0;
              const bool pf = next && t - t0 < (int64_t(1) << shift);
              kernel(mb, kb, ab + m0 * kb, wp + k0 * NR, c, g.ldc,
                     k0 ? c : init, k0 ? g.ldc : 0,
                     pf ? next + (t - t0) * chunk : nullptr, shift);
            }
          } else if (last) {
            // The last, narrow panel, all k blocks at once: a full-width
            // tile on the stack, copied out.
            alignas(64) float tile[MR * NR];
            alignas(64) float bias[NR] = {};
            for (int64_t j = 0; g.bias && j < nb; ++j)
              bias[j] = g.bias[n0 + j];
            for (int64_t t = t0; t < t1; ++t) {
              const int64_t m0 = t * MR, mb = M - m0 < MR ? M - m0 : MR;
              for (int64_t j0 = 0; j0 < K; j0 += kc) {
                const int64_t jb = K - j0 < kc ? K - j0 : kc;
                kernel(mb, jb, g.a_packed + j0 * Mp + m0 * jb, wp + j0 * NR,
                       tile, NR, j0 ? tile : bias, j0 ? NR : 0, nullptr, 0);
              }
              for (int64_t r = 0; r < mb; ++r)
                for (int64_t j = 0; j < nb; ++j)
                  g.c[(m0 + r) * g.ldc + n0 + j] = tile[r * NR + j];
            }
          }
          if (last)
            epilogue(b0, b1, n0, nb);
        }
      });
    }
  }
}

// C[M x N] = A W on the calling thread, A packed by pack_a (tiles of
// [K][MR]) and W in NR-wide panels: every tile x panel through `kernel`,
// the narrow last panel through a tile on the stack. Attention's two
// per-head products use it.
template <int MR, int NR>
void gemm_packed(F32GemmFn kernel, int64_t M, int64_t N, int64_t K,
                 const float *a, const float *w, float *c, int64_t ldc) {
  for (int64_t m0 = 0; m0 < M; m0 += MR) {
    const int64_t mb = M - m0 < MR ? M - m0 : MR;
    for (int64_t n0 = 0; n0 < N; n0 += NR) {
      const int64_t nb = N - n0 < NR ? N - n0 : NR;
      const float *wp = w + n0 * K;
      if (nb == NR) {
        kernel(mb, K, a + m0 * K, wp, c + m0 * ldc + n0, ldc, nullptr, 0,
               nullptr, 0);
        continue;
      }
      alignas(64) float tile[MR * NR];
      kernel(mb, K, a + m0 * K, wp, tile, NR, nullptr, 0, nullptr, 0);
      for (int64_t r = 0; r < mb; ++r)
        for (int64_t j = 0; j < nb; ++j)
          c[(m0 + r) * ldc + n0 + j] = tile[r * NR + j];
    }
  }
}

struct NoEpilogue {
  void operator()(int64_t, int64_t, int64_t, int64_t) const {}
};

} // namespace ukernel
} // namespace canao_rt

#endif // CANAO_UKERNELS_GEMM_H
