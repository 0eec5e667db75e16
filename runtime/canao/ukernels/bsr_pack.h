// canao runtime: the two block-sparse weight layouts, as canaoc packs them
// at compile time (and the tests and benchmarks build them).
//
// The weight is the ONNX MatMul B operand, row-major [K, N] = [in_features,
// out_features] (an nn.Linear weight is its transpose). An RxC block is R
// consecutive k of C consecutive outputs.
//
// BSR-N (blocks along N, 1xNR): NR-wide panels as the dense GEMM packs
// them, but each panel keeps only its rows k with a nonzero among its NR
// columns. Per k block b of kc rows (nkb = ceil(K / kc) of them):
//   row_ptr[p * nkb + b] .. row_ptr[p * nkb + b + 1]   rows of panel p in b
//   row_k[i]      k of row i, relative to the block's first k; rows + 1
//                 entries (the kernels read one ahead; the last is 0)
//   values[i][NR] the row's NR weights (zero beyond N)
// BSR-K (blocks along K, Rx1): per output n and k block b,
//   bptr[n * nkb + b] .. bptr[n * nkb + b + 1]   its nonzero blocks in b
//   bk[j]         the block's first k (absolute; a multiple of R); blocks + 1
//                 entries, as row_k
//   values[j][R]  its R weights
// kc must be a multiple of R, and R must divide K, so no block crosses a k
// block or the end of A's rows.
// A block counts as zero only if all its weights are exactly +-0.0f.
#ifndef CANAO_UKERNELS_BSR_PACK_H
#define CANAO_UKERNELS_BSR_PACK_H

#include <cstdint>
#include <cstring>

namespace canao_rt {
namespace bsr {

inline int64_t k_blocks(int64_t K, int64_t kc) {
  return kc >= K ? 1 : (K + kc - 1) / kc;
}

inline bool is_zero(float x) { return x == 0.0f; }

// Rows kept by BSR-N with NR-wide panels.
inline int64_t n_rows(const float *w, int64_t K, int64_t N, int64_t NR) {
  int64_t rows = 0;
  for (int64_t n0 = 0; n0 < N; n0 += NR)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = n0; j < N && j < n0 + NR; ++j)
        if (!is_zero(w[k * N + j])) {
          ++rows;
          break;
        }
  return rows;
}

// Fills values (rows * NR floats), row_ptr (panels * nkb + 1) and row_k
// (rows + 1); `rows` is n_rows(). Returns false if the counts disagree.
inline bool n_pack(const float *w, int64_t K, int64_t N, int64_t NR, int64_t kc,
                   int64_t rows, float *values, int32_t *row_ptr,
                   int32_t *row_k) {
  const int64_t nkb = k_blocks(K, kc), step = kc >= K ? K : kc;
  int64_t i = 0;
  for (int64_t n0 = 0, p = 0; n0 < N; n0 += NR, ++p)
    for (int64_t b = 0; b < nkb; ++b) {
      row_ptr[p * nkb + b] = static_cast<int32_t>(i);
      const int64_t k0 = b * step, k1 = k0 + step < K ? k0 + step : K;
      for (int64_t k = k0; k < k1; ++k) {
        bool any = false;
        for (int64_t j = n0; j < N && j < n0 + NR; ++j)
          any = any || !is_zero(w[k * N + j]);
        if (!any)
          continue;
        if (i >= rows)
          return false;
        for (int64_t j = 0; j < NR; ++j)
          values[i * NR + j] = n0 + j < N ? w[k * N + n0 + j] : 0.0f;
        row_k[i++] = static_cast<int32_t>(k - k0);
      }
    }
  const int64_t panels = (N + NR - 1) / NR;
  row_ptr[panels * nkb] = static_cast<int32_t>(i);
  row_k[i] = 0;
  return i == rows;
}

// Nonzero Rx1 blocks (BSR-K with blocks of R).
// Row by row (the weight's memory order), one flag per output.
inline int64_t k_blocks_kept(const float *w, int64_t K, int64_t N, int64_t R) {
  int64_t blocks = 0;
  bool *any = new bool[N > 0 ? N : 1];
  for (int64_t k0 = 0; k0 < K; k0 += R) {
    std::memset(any, 0, N > 0 ? N : 1);
    for (int64_t k = k0; k < K && k < k0 + R; ++k)
      for (int64_t n = 0; n < N; ++n)
        any[n] = any[n] || !is_zero(w[k * N + n]);
    for (int64_t n = 0; n < N; ++n)
      blocks += any[n];
  }
  delete[] any;
  return blocks;
}

// Fills values (blocks * R floats), bptr (N * nkb + 1) and bk (blocks + 1);
// `blocks` is k_blocks_kept(). False if the counts disagree or the shape
// breaks the layout's rules (R divides K and kc).
inline bool k_pack(const float *w, int64_t K, int64_t N, int64_t R, int64_t kc,
                   int64_t blocks, float *values, int32_t *bptr, int32_t *bk) {
  const int64_t nkb = k_blocks(K, kc), step = kc >= K ? K : kc;
  if (R < 1 || K % R || step % R)
    return false;
  int64_t j = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b < nkb; ++b) {
      bptr[n * nkb + b] = static_cast<int32_t>(j);
      const int64_t k1 = (b + 1) * step < K ? (b + 1) * step : K;
      for (int64_t k0 = b * step; k0 < k1; k0 += R) {
        bool any = false;
        for (int64_t k = k0; k < k0 + R; ++k)
          any = any || !is_zero(w[k * N + n]);
        if (!any)
          continue;
        if (j >= blocks)
          return false;
        for (int64_t k = 0; k < R; ++k)
          values[j * R + k] = w[(k0 + k) * N + n];
        bk[j++] = static_cast<int32_t>(k0);
      }
    }
  bptr[N * nkb] = static_cast<int32_t>(j);
  bk[j] = 0;
  return j == blocks;
}

} // namespace bsr
} // namespace canao_rt

#endif // CANAO_UKERNELS_BSR_PACK_H
