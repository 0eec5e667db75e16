// canao runtime: the GEMM driver around a microkernel.
//
//   C[M x N] = epilogue(bias + A[M x K] * W[K x N])
//
// W arrives packed at compile time in NR-wide panels ([ceil(N/NR)][K][NR]).
// For each kc block of K the driver packs that block of A into MR-row tiles
// (in a workspace the memory planner placed, one k block large: 384 KiB for
// BERT-base's 128 x 3072 input, not the 1.5 MiB of all of K), then splits W
// panels or row tiles statically across the pool (see gemm()). Per panel,
// every MR-row tile of A runs through the microkernel (the W slice stays in
// L1/L2 across the tiles), and the first tile prefetches the same slice of
// the thread's next panel. Once a panel's M x NR column is final and still in
// cache, the epilogue runs on it.
// Each output element is computed by one thread in one order, so the result
// does not depend on the thread count.
//
// W may instead be block-sparse in 1xNR blocks (BSR-N, GemmArgs::row_ptr):
// each panel keeps only its nonzero rows, and the f32_bsr_1xNR microkernel
// reads A at their k. Everything else (blocking, epilogues, the split) is
// the dense driver's; threads then split panels by rows kept, not by count.
#ifndef CANAO_UKERNELS_GEMM_H
#define CANAO_UKERNELS_GEMM_H

#include "canao/threadpool.h"
#include "canao/ukernels/f32_gemm.h"

#include <cstdint>
#include <type_traits>

namespace canao_rt {
namespace ukernel {

typedef void (*F32GemmFn)(int64_t m, int64_t kc, const float *a, int64_t lda,
                          const float *w, float *c, int64_t ldc,
                          const float *init, int64_t init_ld,
                          const float *prefetch, int pf_shift);
typedef void (*F32BsrNFn)(int64_t m, int64_t rows, const float *a, int64_t lda,
                          const int32_t *kidx, const float *w, float *c,
                          int64_t ldc, const float *init, int64_t init_ld,
                          const float *prefetch, int pf_shift);

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
  // Workspace of gemm_workspace_floats(M, K, kc, MR) floats (one k block of
  // packed A); null if direct_a.
  float *a_packed;
  // The next panel is prefetched by the first 2^pf_log2 tiles of a row
  // block (fewer if the block has fewer), one row per 2^pf_log2 k steps
  // each: the target table's prefetchTilesLog2.
  int pf_log2 = 3;
  // Split the work across threads by row tiles, not by W panels (see
  // gemm()): canao-tile's `split` (rows for a dense with a LayerNorm
  // epilogue, unless a tuning file measured otherwise).
  bool split_rows = false;
  // The microkernel reads A in place (row-major, lda) instead of a packed
  // copy: no packing pass and no workspace (the table's choice per tile).
  bool direct_a = false;
  // BSR-N weights (null: dense panels). Panel p's rows in k block b are
  // rows [row_ptr[p * nkb + b], row_ptr[p * nkb + b + 1]) of w (NR floats
  // each; nkb = ceil(K / kc)), at k0 + row_k[i] in A. See bsr_pack.h.
  const int32_t *row_ptr = nullptr;
  const int32_t *row_k = nullptr;
};

// The W rows panel p multiplies in the k block [k0, k0 + kb).
struct PanelSlice {
  const float *w;
  int64_t rows;
  const int32_t *kidx; // null: rows k0 .. k0 + kb - 1
};

template <int NR>
inline PanelSlice panel_slice(const GemmArgs &g, int64_t p, int64_t k0,
                              int64_t kb) {
  if (!g.row_ptr)
    return {g.w + p * g.K * NR + k0 * NR, kb, nullptr};
  const int64_t kc = g.kc < g.K ? g.kc : g.K, nkb = (g.K + kc - 1) / kc;
  const int32_t *ptr = g.row_ptr + p * nkb + k0 / kc;
  return {g.w + int64_t(ptr[0]) * NR, ptr[1] - ptr[0], g.row_k + ptr[0]};
}

inline void run_kernel(F32GemmFn kernel, int64_t m, const PanelSlice &s,
                       const float *a, int64_t lda, float *c, int64_t ldc,
                       const float *init, int64_t init_ld,
                       const float *prefetch, int pf_shift) {
  kernel(m, s.rows, a, lda, s.w, c, ldc, init, init_ld, prefetch, pf_shift);
}

inline void run_kernel(F32BsrNFn kernel, int64_t m, const PanelSlice &s,
                       const float *a, int64_t lda, float *c, int64_t ldc,
                       const float *init, int64_t init_ld,
                       const float *prefetch, int pf_shift) {
  kernel(m, s.rows, a, lda, s.kidx, s.w, c, ldc, init, init_ld, prefetch,
         pf_shift);
}

// The first panel of participant t's share (t in [0, n]): an equal share of
// the panels, or with BSR-N weights of the rows kept (the work).
inline int64_t panel_share(const GemmArgs &g, int64_t panels, int64_t t,
                           int64_t n) {
  if (t >= n)
    return panels;
  const int64_t kc = g.kc < g.K ? g.kc : g.K, nkb = (g.K + kc - 1) / kc;
  const int64_t total = g.row_ptr ? g.row_ptr[panels * nkb] : 0;
  if (total == 0)
    return panels * t / n;
  int64_t lo = 0, hi = panels; // smallest p with rows before p >= total t / n
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (int64_t(g.row_ptr[mid * nkb]) * n >= total * t)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

inline int64_t packed_a_floats(int64_t m, int64_t k, int mr) {
  return (m + mr - 1) / mr * mr * k;
}

// gemm()'s workspace: one k block of A, packed.
inline int64_t gemm_workspace_floats(int64_t m, int64_t k, int64_t kc, int mr) {
  return packed_a_floats(m, kc < k ? kc : k, mr);
}

struct NoEpilogue {
  void operator()(int64_t, int64_t, int64_t, int64_t) const {}
};

struct NoRowEpilogue {
  void operator()(int64_t, int64_t) const {}
};

// Rows [b0, b1) (a row block, MR-aligned) x panels [plo, phi) for the k
// block [k0, k0 + kb), that block of A already packed (or read in place,
// direct_a); after the last k block each panel's epilogue runs on its
// finished M x NR column while it is in cache.
template <int MR, int NR, class Kernel, class Epilogue>
void gemm_block(const GemmArgs &g, Kernel kernel, Epilogue &epilogue,
                int64_t k0, int64_t kb, int64_t b0, int64_t b1, int64_t plo,
                int64_t phi) {
  const int64_t M = g.M, N = g.N, K = g.K;
  const bool last = k0 + kb == K;
  const int64_t t0 = b0 / MR, t1 = (b1 + MR - 1) / MR;
  // Tile t's A for this k block: packed (gemm_pack_tiles), or in place.
  const int64_t lda = g.direct_a ? g.lda : 0;
  const int64_t kc = g.kc < K ? g.kc : K;
  auto a_tile = [&](int64_t t) {
    return g.direct_a ? g.a + t * MR * g.lda + k0 : g.a_packed + t * MR * kc;
  };
  // The next panel's prefetches are spread over the block's first 2^shift
  // tiles (at most 2^pf_log2): one row per 2^shift k steps.
  int shift = 0;
  while (shift < g.pf_log2 && (int64_t(2) << shift) <= t1 - t0)
    ++shift;
  for (int64_t p = plo; p < phi; ++p) {
    const int64_t n0 = p * NR, nb = N - n0 < NR ? N - n0 : NR;
    if (nb == NR) {
      const PanelSlice s = panel_slice<NR>(g, p, k0, kb);
      const float *next =
          p + 1 < phi ? panel_slice<NR>(g, p + 1, k0, kb).w : nullptr;
      const int64_t chunk = (((s.rows - 1) >> shift) + 1) * NR;
      const float *init = k0 ? nullptr : g.bias ? g.bias + n0 : nullptr;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t m0 = t * MR, mb = M - m0 < MR ? M - m0 : MR;
        float *c = g.c + m0 * g.ldc + n0;
        const bool pf = next && s.rows > 0 && t - t0 < (int64_t(1) << shift);
        run_kernel(kernel, mb, s, a_tile(t), lda, c, g.ldc, k0 ? c : init,
                   k0 ? g.ldc : 0, pf ? next + (t - t0) * chunk : nullptr,
                   shift);
      }
    } else {
      // The last, narrow panel: a full-width tile on the stack, started
      // from the bias or from C's partial sums (the floats the tile itself
      // stored), copied out.
      alignas(64) float tile[MR * NR];
      const PanelSlice s = panel_slice<NR>(g, p, k0, kb);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t m0 = t * MR, mb = M - m0 < MR ? M - m0 : MR;
        for (int64_t r = 0; r < mb; ++r)
          for (int64_t j = 0; j < NR; ++j)
            tile[r * NR + j] = j >= nb  ? 0.0f
                               : k0     ? g.c[(m0 + r) * g.ldc + n0 + j]
                               : g.bias ? g.bias[n0 + j]
                                        : 0.0f;
        run_kernel(kernel, mb, s, a_tile(t), lda, tile, NR, tile, NR, nullptr,
                   0);
        for (int64_t r = 0; r < mb; ++r)
          for (int64_t j = 0; j < nb; ++j)
            g.c[(m0 + r) * g.ldc + n0 + j] = tile[r * NR + j];
      }
    }
    if (last)
      epilogue(b0, b1, n0, nb);
  }
}

// Packs row tiles [lo, hi) of A's k block [k0, k0 + kb): tile t at
// a_packed + t * MR * kc whatever kb is, so a thread that splits rows can
// pack the short last block while another still reads its longer one.
template <int MR>
void gemm_pack_tiles(const GemmArgs &g, int64_t k0, int64_t kb, int64_t lo,
                     int64_t hi) {
  const int64_t kc = g.kc < g.K ? g.kc : g.K;
  for (int64_t t = lo; t < hi; ++t) {
    const int64_t m0 = t * MR;
    pack_a<MR>(g.M - m0 < MR ? g.M - m0 : MR, kb, g.a + m0 * g.lda + k0, g.lda,
               1.0f, g.a_packed + m0 * kc);
  }
}

// `epilogue(m0, m1, n0, nb)` finishes rows [m0, m1) x columns
// [n0, n0 + nb) once they are final; `row_epilogue(m0, m1)` then finishes
// whole rows [m0, m1) (LayerNorm), once every column of them is final.
//
// Two ways to split the work, chosen at compile time (GemmArgs::split_rows):
// - panels: each thread owns a range of W panels, for all rows. Each weight
//   is read by one core only, so weights that stream from DRAM are read
//   once per inference (BERT-base). Every thread reads all of packed A, and
//   a row epilogue needs a pass of its own after a barrier.
// - rows: each thread owns a range of MR-row tiles and runs all panels on
//   them: it packs its own A rows, and its row epilogue runs on rows still in
//   its cache, with no barrier between packing, GEMM and LayerNorm. Every
//   core reads all of W, and a W slice is reused over fewer row tiles; it
//   pays for a row epilogue (LayerNorm), not otherwise.
// The workspace holds one k block of packed A: split by rows, each thread
// repacks its own tiles per block; split by panels, a parallel pack of the
// block precedes its panels (one more barrier per k block, 3 for K = 3072).
// Either way each output element is computed by one thread in the same
// order, so the result does not depend on the split or the thread count.
template <int MR, int NR, class Kernel, class Epilogue,
          class RowEpilogue = NoRowEpilogue>
void gemm(ThreadPool &pool, const GemmArgs &g, Kernel kernel,
          Epilogue &&epilogue, RowEpilogue &&row_epilogue = {}) {
  const int64_t M = g.M, N = g.N, K = g.K;
  const int64_t kc = g.kc < K ? g.kc : K;
  const int64_t mc = g.mc < MR ? MR : g.mc / MR * MR;
  const int64_t tiles = (M + MR - 1) / MR, panels = (N + NR - 1) / NR;
  constexpr bool kRowEpilogue =
      !std::is_same<std::decay_t<RowEpilogue>, NoRowEpilogue>::value;
  if (g.split_rows) {
    pool.parallel_for(tiles, [&](int64_t lo, int64_t hi, int) {
      const int64_t r0 = lo * MR, r1 = hi * MR < M ? hi * MR : M;
      for (int64_t k0 = 0; k0 < K; k0 += kc) {
        const int64_t kb = K - k0 < kc ? K - k0 : kc;
        if (!g.direct_a)
          gemm_pack_tiles<MR>(g, k0, kb, lo, hi);
        for (int64_t b0 = r0; b0 < r1; b0 += mc)
          gemm_block<MR, NR>(g, kernel, epilogue, k0, kb, b0,
                             r1 - b0 < mc ? r1 : b0 + mc, 0, panels);
      }
      if (kRowEpilogue && r0 < r1)
        row_epilogue(r0, r1);
    });
    return;
  }
  // k blocks outermost, then row blocks of mc (GotoBLAS order): one packed
  // mc x kc block of A stays in L2 while every panel streams past it. The
  // static split gives a thread the same panels in every block, so its C
  // columns stay in its own cache.
  for (int64_t k0 = 0; k0 < K; k0 += kc) {
    const int64_t kb = K - k0 < kc ? K - k0 : kc;
    if (!g.direct_a)
      pool.parallel_for(tiles, [&](int64_t lo, int64_t hi, int) {
        gemm_pack_tiles<MR>(g, k0, kb, lo, hi);
      });
    for (int64_t b0 = 0; b0 < M; b0 += mc) {
      const int64_t b1 = M - b0 < mc ? M : b0 + mc;
      if (!g.row_ptr) {
        pool.parallel_for(panels, [&](int64_t lo, int64_t hi, int) {
          gemm_block<MR, NR>(g, kernel, epilogue, k0, kb, b0, b1, lo, hi);
        });
        continue;
      }
      const int64_t n = pool.size();
      pool.parallel_for(n, [&](int64_t lo, int64_t hi, int) {
        gemm_block<MR, NR>(g, kernel, epilogue, k0, kb, b0, b1,
                           panel_share(g, panels, lo, n),
                           panel_share(g, panels, hi, n));
      });
    }
  }
  if (kRowEpilogue)
    pool.parallel_for(tiles, [&](int64_t lo, int64_t hi, int) {
      row_epilogue(lo * MR, hi * MR < M ? hi * MR : M);
    });
}

// C[M x N] = A W on the calling thread, A packed by pack_a (tiles of
// [K][MR]; lda 0) or row-major in place (lda > 0) and W in NR-wide panels:
// every tile x panel through `kernel`, the narrow last panel through a tile
// on the stack. Attention's two per-head products use it.
template <int MR, int NR>
void gemm_packed(F32GemmFn kernel, int64_t M, int64_t N, int64_t K,
                 const float *a, int64_t lda, const float *w, float *c,
                 int64_t ldc) {
  for (int64_t m0 = 0; m0 < M; m0 += MR) {
    const int64_t mb = M - m0 < MR ? M - m0 : MR;
    const float *at = lda ? a + m0 * lda : a + m0 * K;
    for (int64_t n0 = 0; n0 < N; n0 += NR) {
      const int64_t nb = N - n0 < NR ? N - n0 : NR;
      const float *wp = w + n0 * K;
      if (nb == NR) {
        kernel(mb, K, at, lda, wp, c + m0 * ldc + n0, ldc, nullptr, 0, nullptr,
               0);
        continue;
      }
      alignas(64) float tile[MR * NR];
      kernel(mb, K, at, lda, wp, tile, NR, nullptr, 0, nullptr, 0);
      for (int64_t r = 0; r < mb; ++r)
        for (int64_t j = 0; j < nb; ++j)
          c[(m0 + r) * ldc + n0 + j] = tile[r * NR + j];
    }
  }
}

} // namespace ukernel
} // namespace canao_rt

#endif // CANAO_UKERNELS_GEMM_H
