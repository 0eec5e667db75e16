// canao runtime: f32 GEMM microkernels.
//
//   C[m x NR] = init + A[m x kc] * W[kc x NR],  m <= MR
//
// A is packed by pack_a() into [kc][MR] tiles (row r of the tile at
// a[k * MR + r], `lda` 0), so the kernel reads one linear stream of
// broadcasts; or, with lda > 0, read in place from row-major A (row r at
// a + r * lda): MR streams, no packing pass. Which one is the target
// table's choice per tile (packing MR = 6 rows does not vectorize; reading
// A in place measured 12% faster for 6x16 on BERT-tiny's GEMMs and the
// same for 4x24).
// W is one NR-wide panel ([kc][NR]); canaoc packs weights into this layout
// at compile time, attention packs K^T and V into it at run time.
// The MR x NR accumulator tile lives in registers for the whole k loop: the
// loops over it have constant bounds and are fully unrolled.
//
// `init` selects the starting accumulators: nullptr (zeros), a bias row
// (init_ld == 0), or the previous partial sums in C (init == c,
// init_ld == ldc) when the k dimension is split into kc blocks.
// `prefetch`, when not null, is a part of the panel the caller computes
// next: the kernel touches its row k >> pf_shift at step k, so the caller
// can spread one panel's prefetches over 2^pf_shift tiles and the next
// panel streams in from L3/DRAM at a rate memory sustains, hidden behind
// the FMAs of this one.
//
// With `kidx` (block-sparse weights in 1xNR blocks, BSR-N), W holds only
// the panel's nonzero rows and step k reads A's column kidx[k]: the dense
// tile with the zero k rows dropped, at the dense kernel's cost per row kept.
// kidx[kc] must be readable (the layouts store one entry past the end).
//
// Named instances follow XNNPACK: f32_gemm_<MR>x<NR>_<isa>, and
// f32_bsr_1x<NR>_<MR>x<NR>_<isa> for the indexed form.
#ifndef CANAO_UKERNELS_F32_GEMM_H
#define CANAO_UKERNELS_F32_GEMM_H

#include "canao/ukernels/isa.h"

#include <cstdint>
#include <utility>

namespace canao_rt {
namespace ukernel {

// Packs rows [0, m) x cols [0, k) of row-major A (leading dimension lda),
// times `scale`, into ceil(m / MR) tiles of [k][MR]; missing rows are 0.
// A full tile is written one k step (MR contiguous floats) at a time, which
// compilers vectorize as an interleaving store (2x faster than a row at a
// time for MR = 4 with AVX2).
template <int MR>
inline void pack_a(int64_t m, int64_t k, const float *a, int64_t lda,
                   float scale, float *out) {
  for (int64_t m0 = 0; m0 < m; m0 += MR, out += k * MR) {
    const int64_t mb = m - m0 < MR ? m - m0 : MR;
    if (mb == MR) {
      const float *rows[MR];
      for (int r = 0; r < MR; ++r)
        rows[r] = a + (m0 + r) * lda;
      for (int64_t kk = 0; kk < k; ++kk)
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
          out[kk * MR + r] = rows[r][kk] * scale;
      continue;
    }
    for (int64_t r = 0; r < MR; ++r) {
      const float *row = a + (m0 + r) * lda;
      if (r < mb)
        for (int64_t kk = 0; kk < k; ++kk)
          out[kk * MR + r] = row[kk] * scale;
      else
        for (int64_t kk = 0; kk < k; ++kk)
          out[kk * MR + r] = 0.0f;
    }
  }
}

// Packs rows [0, k) x cols [0, n) of row-major B (leading dimension ldb)
// into ceil(n / NR) panels of [k][NR]; missing columns are 0.
template <int NR>
inline void pack_b(int64_t k, int64_t n, const float *b, int64_t ldb,
                   float *out) {
  for (int64_t n0 = 0; n0 < n; n0 += NR, out += k * NR) {
    const int64_t nb = n - n0 < NR ? n - n0 : NR;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float *row = b + kk * ldb + n0;
      float *o = out + kk * NR;
      for (int64_t c = 0; c < nb; ++c)
        o[c] = row[c];
      for (int64_t c = nb; c < NR; ++c)
        o[c] = 0.0f;
    }
  }
}

// Packs the transpose: rows [0, n) x cols [0, k) of row-major B^T
// (leading dimension ldb), times `scale`, as the panels of the k x n
// matrix B. A panel [k][NR] of B is exactly pack_a's [k][MR] tile of B^T's
// rows, so this is pack_a with NR for MR.
template <int NR>
inline void pack_bt(int64_t k, int64_t n, const float *bt, int64_t ldb,
                    float *out, float scale = 1.0f) {
  pack_a<NR>(n, k, bt, ldb, scale, out);
}

template <class I, int MR, int NR> struct F32Gemm {
  static constexpr int L = I::lanes, NV = NR / L;
  static_assert(NR % L == 0, "NR must be a multiple of the lanes");
  typedef typename I::V V;

  // On an ISA with a multiply-add by vector lane (NEON's FMLA by element,
  // I::lane_fma), one vector load of A feeds `lanes` FMAs per weight vector:
  // - packed A (MR a multiple of the lanes): the vector at a[k * MR + g * L]
  //   holds rows g * L .. g * L + L - 1 of step k (8x8: 2 A and 2 W loads
  //   per 16 FMLA);
  // - A in place: the vector at row r, k .. k + L - 1 holds L steps of one
  //   row (XNNPACK's ld128 6x8: 6 A and 8 W loads per 48 FMLA).
  // The products and their order are the broadcast form's, bit for bit.
  static constexpr bool kLanePacked = I::lane_fma && MR % L == 0;
  static constexpr bool kLaneDirect = I::lane_fma;

  // acc[r][v] += b[v] * lane (Lane0 + r) % L of av[(Lane0 + r) / L], for
  // each row r in Rs.
  template <int Lane0, int M, int... Rs>
  __attribute__((always_inline)) static inline void
  fma_lanes(std::integer_sequence<int, Rs...>, V (&acc)[M][NV], const V *b,
            const V *av) {
    (fma_row<(Lane0 + Rs) % L>(acc[Rs], b, av[(Lane0 + Rs) / L]), ...);
  }
  template <int Lane>
  __attribute__((always_inline)) static inline void fma_row(V (&acc)[NV],
                                                            const V *b, V a) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
      acc[v] = I::template fma_lane<Lane>(b[v], a, acc[v]);
  }

  template <int M, bool Prefetch, bool Packed, bool Indexed>
  static void tile(int64_t kc, const float *__restrict a, int64_t lda,
                   const int32_t *__restrict kidx, const float *__restrict w,
                   float *c, int64_t ldc, const float *init, int64_t init_ld,
                   const float *prefetch, int pf_shift) {
    // Packed: a[k * MR + r]; in place: a[r * lda + k].
    const int64_t ks = Packed ? MR : 1, rs = Packed ? 1 : lda;
    V acc[M][NV];
    if (init) {
#pragma GCC unroll 16
      for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
          acc[r][v] = I::load(init + r * init_ld + v * I::lanes);
    } else {
#pragma GCC unroll 16
      for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
          acc[r][v] = I::zero();
    }
    // Unrolled so the pointer updates (which compete with FMAs for ports)
    // are amortized over more FMAs.
    // The index of the next step is loaded one step ahead (kidx has one
    // entry past the end): A's addresses do not wait on a load each step,
    // which stalled the address queues (2x slower on Zen 2).
    int64_t knext = Indexed ? int64_t(kidx[0]) : 0;
    // W's row k, and the prefetch of the next panel's row k >> pf_shift.
    auto load_w = [&](int64_t k, V * b) __attribute__((always_inline)) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        b[v] = I::load(w + k * NR + v * L);
      if (Prefetch) {
#pragma GCC unroll 8
        for (int l = 0; l < (NR * 4 + 63) / 64; ++l)
          I::prefetch(prefetch + (k >> pf_shift) * NR + l * 16);
      }
    };
    int64_t k = 0;
    if constexpr (kLaneDirect && !Packed && !Indexed) {
      // L steps at a time: one vector of each row, then W row by W row.
      for (; k + L <= kc; k += L) {
        V av[M];
#pragma GCC unroll 16
        for (int r = 0; r < M; ++r)
          av[r] = I::load(a + r * lda + k);
        step_lanes<M>(std::make_integer_sequence<int, L>(), k, load_w, acc, av);
      }
    }
#pragma GCC unroll 4
    for (; k < kc; ++k) {
      V b[NV];
      load_w(k, b);
      const int64_t ka = Indexed ? knext : k;
      if (Indexed)
        knext = kidx[k + 1];
      if constexpr (kLanePacked && Packed) {
        V av[(M + L - 1) / L];
#pragma GCC unroll 8
        for (int g = 0; g < (M + L - 1) / L; ++g)
          av[g] = I::load(a + ka * MR + g * L);
        fma_lanes<0>(std::make_integer_sequence<int, M>(), acc, b, av);
        continue;
      }
#pragma GCC unroll 16
      for (int r = 0; r < M; ++r) {
        const V x = I::set1(a[ka * ks + r * rs]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
          acc[r][v] = I::fma(x, b[v], acc[r][v]);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        I::store(c + r * ldc + v * I::lanes, acc[r][v]);
  }

  // Steps k .. k + L - 1 of A in place: step k + l multiplies W's row by
  // lane l of every row's vector.
  template <int M, int... Ls, class LoadW>
  __attribute__((always_inline)) static inline void
  step_lanes(std::integer_sequence<int, Ls...>, int64_t k, LoadW &load_w,
             V (&acc)[M][NV], const V *av) {
    (step_lane<Ls, M>(k, load_w, acc, av), ...);
  }
  template <int Lane, int M, class LoadW>
  __attribute__((always_inline)) static inline void
  step_lane(int64_t k, LoadW &load_w, V (&acc)[M][NV], const V *av) {
    V b[NV];
    load_w(k + Lane, b);
#pragma GCC unroll 16
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v)
        acc[r][v] = I::template fma_lane<Lane>(b[v], av[r], acc[r][v]);
  }

  template <int M, bool Packed, bool Indexed>
  static void dispatch(int64_t m, int64_t kc, const float *a, int64_t lda,
                       const int32_t *kidx, const float *w, float *c,
                       int64_t ldc, const float *init, int64_t init_ld,
                       const float *prefetch, int pf_shift) {
    if constexpr (M > 0) {
      if (m == M) {
        if (prefetch)
          tile<M, true, Packed, Indexed>(kc, a, lda, kidx, w, c, ldc, init,
                                         init_ld, prefetch, pf_shift);
        else
          tile<M, false, Packed, Indexed>(kc, a, lda, kidx, w, c, ldc, init,
                                          init_ld, prefetch, 0);
      } else {
        dispatch<M - 1, Packed, Indexed>(m, kc, a, lda, kidx, w, c, ldc, init,
                                         init_ld, prefetch, pf_shift);
      }
    }
  }

  // Rows 1..MR; the full tile is the first comparison. kc is the number of
  // W rows (with kidx: the rows kept).
  template <bool Indexed>
  static void run(int64_t m, int64_t kc, const float *a, int64_t lda,
                  const int32_t *kidx, const float *w, float *c, int64_t ldc,
                  const float *init, int64_t init_ld, const float *prefetch,
                  int pf_shift) {
    if (lda)
      dispatch<MR, false, Indexed>(m, kc, a, lda, kidx, w, c, ldc, init,
                                   init_ld, prefetch, pf_shift);
    else
      dispatch<MR, true, Indexed>(m, kc, a, 0, kidx, w, c, ldc, init, init_ld,
                                  prefetch, pf_shift);
  }
};

#define CANAO_F32_GEMM_INSTANCE(MR, NR, ISA, TRAITS)                           \
  __attribute__((noinline)) inline void f32_gemm_##MR##x##NR##_##ISA(          \
      int64_t m, int64_t kc, const float *a, int64_t lda, const float *w,      \
      float *c, int64_t ldc, const float *init, int64_t init_ld,               \
      const float *prefetch, int pf_shift = 0) {                               \
    F32Gemm<TRAITS, MR, NR>::run<false>(m, kc, a, lda, nullptr, w, c, ldc,     \
                                        init, init_ld, prefetch, pf_shift);    \
  }                                                                            \
  __attribute__((noinline)) inline void f32_bsr_1x##NR##_##MR##x##NR##_##ISA(  \
      int64_t m, int64_t rows, const float *a, int64_t lda,                    \
      const int32_t *kidx, const float *w, float *c, int64_t ldc,              \
      const float *init, int64_t init_ld, const float *prefetch,               \
      int pf_shift = 0) {                                                      \
    F32Gemm<TRAITS, MR, NR>::run<true>(m, rows, a, lda, kidx, w, c, ldc, init, \
                                       init_ld, prefetch, pf_shift);           \
  }

// The instances the target table names (codegen/Target.cpp), plus the
// neighbours `canaoc --tune` tries.
CANAO_F32_GEMM_INSTANCE(4, 8, generic, isa::Generic)
CANAO_F32_GEMM_INSTANCE(6, 8, generic, isa::Generic)
#if defined(__AVX2__) && defined(__FMA__)
CANAO_F32_GEMM_INSTANCE(6, 16, avx2, isa::Avx2)
CANAO_F32_GEMM_INSTANCE(4, 24, avx2, isa::Avx2)
#endif
#if defined(__AVX512F__)
CANAO_F32_GEMM_INSTANCE(12, 32, avx512, isa::Avx512)
CANAO_F32_GEMM_INSTANCE(8, 32, avx512, isa::Avx512)
CANAO_F32_GEMM_INSTANCE(6, 64, avx512, isa::Avx512)
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
// 8x8 (the table's default): 16 accumulators, 2 A + 2 W vectors, 20 of the
// 24 caller-saved registers (v8-v15 are callee-saved); 12x8 and 6x8 (A in
// place, XNNPACK's tile) for `canaoc --tune` on the phone.
CANAO_F32_GEMM_INSTANCE(8, 8, neon, isa::Neon)
CANAO_F32_GEMM_INSTANCE(12, 8, neon, isa::Neon)
CANAO_F32_GEMM_INSTANCE(6, 8, neon, isa::Neon)
#endif

#undef CANAO_F32_GEMM_INSTANCE

} // namespace ukernel
} // namespace canao_rt

#endif // CANAO_UKERNELS_F32_GEMM_H
