// canao runtime: row kernels (softmax, LayerNorm) over vector-extension
// types.
//
// V is the generated code's vector type (16, 32 or 64 bytes of floats).
// Whole vectors first, then a scalar tail; the order of every reduction is
// fixed by n and V alone, so results do not depend on the thread count.
#ifndef CANAO_UKERNELS_ROWS_H
#define CANAO_UKERNELS_ROWS_H

#include "canao/ukernels/vmath.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace canao_rt {
namespace ukernel {

template <class V> inline float hsum(V v) {
  float s = 0.0f;
  for (unsigned i = 0; i < sizeof(V) / sizeof(float); ++i)
    s += v[i];
  return s;
}

template <class V> inline float hmax(V v) {
  float m = v[0];
  for (unsigned i = 1; i < sizeof(V) / sizeof(float); ++i)
    m = v[i] > m ? v[i] : m;
  return m;
}

template <class V> inline V loadv(const float *p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class V> inline void storev(float *p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// row[0, n) = softmax(row[0, n)), max-subtracted.
template <class V> inline void softmax_row(float *row, int64_t n) {
  constexpr int64_t L = sizeof(V) / sizeof(float);
  // Whole vectors in [0, nv), the scalar tail in [nv, n): explicit bounds
  // let the compiler see the tail is shorter than a vector.
  const int64_t nv = n / L * L;
  V vm = vmath::splat<V>(-INFINITY);
  for (int64_t j = 0; j < nv; j += L)
    vm = vmath::vmax(vm, loadv<V>(row + j));
  float mx = hmax(vm);
  for (int64_t j = nv; j < n; ++j)
    mx = row[j] > mx ? row[j] : mx;
  V vs = vmath::splat<V>(0.0f);
  for (int64_t j = 0; j < nv; j += L) {
    const V e = vmath::exp_nonpositive(loadv<V>(row + j) - mx);
    storev(row + j, e);
    vs += e;
  }
  float sum = hsum(vs);
  for (int64_t j = nv; j < n; ++j) {
    row[j] = vmath::exp_nonpositive(vmath::splat<V>(row[j] - mx))[0];
    sum += row[j];
  }
  const float inv = 1.0f / sum;
  for (int64_t j = 0; j < nv; j += L)
    storev(row + j, loadv<V>(row + j) * inv);
  for (int64_t j = nv; j < n; ++j)
    row[j] *= inv;
}

// y[0, n) = (y - mean) / sqrt(var + eps) * scale + bias.
template <class V>
inline void layer_norm_row(float *y, int64_t n, const float *scale,
                           const float *bias, float eps) {
  constexpr int64_t L = sizeof(V) / sizeof(float);
  const int64_t nv = n / L * L;
  V vs = vmath::splat<V>(0.0f);
  for (int64_t j = 0; j < nv; j += L)
    vs += loadv<V>(y + j);
  float sum = hsum(vs);
  for (int64_t j = nv; j < n; ++j)
    sum += y[j];
  const float mean = sum / static_cast<float>(n);
  V vv = vmath::splat<V>(0.0f);
  for (int64_t j = 0; j < nv; j += L) {
    const V d = loadv<V>(y + j) - mean;
    vv += d * d;
  }
  float var = hsum(vv);
  for (int64_t j = nv; j < n; ++j)
    var += (y[j] - mean) * (y[j] - mean);
  const float rstd = 1.0f / std::sqrt(var / static_cast<float>(n) + eps);
  for (int64_t j = 0; j < nv; j += L)
    storev(y + j, (loadv<V>(y + j) - mean) * rstd * loadv<V>(scale + j) +
                      loadv<V>(bias + j));
  for (int64_t j = nv; j < n; ++j)
    y[j] = (y[j] - mean) * rstd * scale[j] + bias[j];
}

// Softmax down the columns of a rows x cols block (leading dimension ld,
// cols a multiple of the lanes): each column is max-subtracted and
// exponentiated in place, and inv[c] = 1 / (its sum), so the caller can
// fold the normalization into its next pass. Attention computes S^T, one
// column per query, so this needs no horizontal reductions. `row_bias`,
// when not null, is added to row r first (row_bias[r * bias_stride]): a
// key mask that does not depend on the query, applied without a pass of
// its own.
template <class V>
inline void softmax_columns(float *s, int64_t rows, int64_t cols, int64_t ld,
                            float *inv, const float *row_bias = nullptr,
                            int64_t bias_stride = 0) {
  constexpr int64_t L = sizeof(V) / sizeof(float);
  // W vectors of columns per strip: two (a 64-byte line of each row with
  // AVX2) halve the passes over the rows and give the exps two independent
  // chains; the last odd vector goes alone. Each column's arithmetic is the
  // same either way.
  auto strips = [&](auto width, int64_t c0) {
    constexpr int W = decltype(width)::value;
    V mx[W], sum[W];
    for (int w = 0; w < W; ++w)
      mx[w] = vmath::splat<V>(-INFINITY), sum[w] = vmath::splat<V>(0.0f);
    auto score = [&](int64_t r, int w) {
      const V x = loadv<V>(s + r * ld + c0 + w * L);
      return row_bias ? x + row_bias[r * bias_stride] : x;
    };
    for (int64_t r = 0; r < rows; ++r)
      for (int w = 0; w < W; ++w)
        mx[w] = vmath::vmax(mx[w], score(r, w));
    for (int64_t r = 0; r < rows; ++r) {
      for (int w = 0; w < W; ++w) {
        const V e = vmath::exp_nonpositive(score(r, w) - mx[w]);
        storev(s + r * ld + c0 + w * L, e);
        sum[w] += e;
      }
    }
    for (int w = 0; w < W; ++w)
      storev(inv + c0 + w * L, 1.0f / sum[w]);
  };
  int64_t c0 = 0;
  for (; c0 + 2 * L <= cols; c0 += 2 * L)
    strips(std::integral_constant<int, 2>{}, c0);
  for (; c0 < cols; c0 += L)
    strips(std::integral_constant<int, 1>{}, c0);
}

// pack_a of the transpose of a k x m block `st` (leading dimension ld)
// with column c scaled by scale[c]: the A operand P = (st * scale)^T of
// the P V product, from the exponentials softmax_columns left in place.
// Each packed step is MR contiguous floats of one row of st: with MR <= the
// lanes of V it is one vector multiply whose extra lanes the next step
// overwrites (the last step of a tile, and rows near ld, go through a
// buffer, so nothing outside the tile is read or written).
template <int MR, class V>
inline void pack_a_transposed_scaled(int64_t m, int64_t k, const float *st,
                                     int64_t ld, const float *scale,
                                     float *out) {
  constexpr int L = sizeof(V) / sizeof(float);
  for (int64_t m0 = 0; m0 < m; m0 += MR, out += k * MR) {
    const int64_t mb = m - m0 < MR ? m - m0 : MR;
    if constexpr (MR <= L) {
      alignas(64) float sc[L] = {}, buf[L] = {};
      for (int64_t r = 0; r < mb; ++r)
        sc[r] = scale[m0 + r];
      const V vs = loadv<V>(sc);
      const bool inRow = m0 + L <= ld;
      for (int64_t kk = 0; kk < k; ++kk) {
        const float *row = st + kk * ld + m0;
        V x;
        if (inRow) {
          x = loadv<V>(row);
        } else {
          std::memcpy(buf, row, mb * sizeof(float));
          x = loadv<V>(buf);
        }
        x = x * vs; // lanes >= mb: 0 (finite inputs)
        if (kk + 1 < k) {
          storev(out + kk * MR, x);
        } else {
          storev(buf, x);
          std::memcpy(out + kk * MR, buf, MR * sizeof(float));
        }
      }
      continue;
    }
    for (int64_t kk = 0; kk < k; ++kk) {
      const float *row = st + kk * ld + m0;
      float *o = out + kk * MR;
      for (int64_t r = 0; r < mb; ++r)
        o[r] = row[r] * scale[m0 + r];
      for (int64_t r = mb; r < MR; ++r)
        o[r] = 0.0f;
    }
  }
}

} // namespace ukernel
} // namespace canao_rt

#endif // CANAO_UKERNELS_ROWS_H
