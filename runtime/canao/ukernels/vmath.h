// canao runtime: vectorized exp, erf and tanh for fused epilogues and
// softmax.
//
// Templates over any GCC/Clang vector-extension float type (__m256 and
// __m512 are such types too), so one definition serves every ISA. A scalar
// std::erf in the GELU epilogue costs more than the GEMM it follows on
// BERT's FFN; these are branch-free polynomials instead.
//
// Accuracy (tests/unit/VmathTest.cpp measures it against <cmath>):
//   exp: relative error < 4e-7 on [-80, 88]; exactly 0 below -80.
//   exp_nonpositive: exp's results on x <= 0 (bit for bit).
//   erf: absolute error < 5e-7 (a rational minimax fit, see erf()).
//   tanh: absolute error < 3e-7.
#ifndef CANAO_UKERNELS_VMATH_H
#define CANAO_UKERNELS_VMATH_H

#include <cstdint>
#include <cstring>

namespace canao_rt {
namespace vmath {

template <class V> inline V splat(float x) {
  V v;
  for (unsigned i = 0; i < sizeof(V) / sizeof(float); ++i)
    v[i] = x;
  return v;
}

template <class V> inline V vmax(V a, V b) { return a > b ? a : b; }

// e^x = 2^n * e^r, n = round(x / ln 2), |r| <= ln(2) / 2, e^r by its
// degree-6 Taylor polynomial (error < 2e-7 relative on that interval).
// Valid while 2^n is a normal float (x in about [-87.3, 88.4]); for other x
// the result is garbage that exp() and exp_nonpositive() select away.
template <class V> inline V exp_unchecked(V x) {
  // Unsigned lanes: the exponent arithmetic wraps instead of overflowing
  // for the x the callers discard.
  typedef uint32_t VU __attribute__((vector_size(sizeof(V))));
  // Round to nearest by the 1.5 * 2^23 trick (no -ffast-math here).
  const V magic = splat<V>(12582912.0f);
  const V shifted = x * 1.44269504088896341f + magic;
  const V n = shifted - magic;
  V r = x - n * 0.693359375f;    // ln 2, high bits (exact product)
  r = r - n * -2.12194440e-4f;   // ln 2, the rest
  V p = splat<V>(1.0f / 720.0f); // 1/6!
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // n sits in the low mantissa bits of `shifted` (0x4B400000 + n).
  VU bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  bits = (bits - 0x4B400000u + 127u) << 23;
  V scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

template <class V> inline V exp(V x) {
  const V in = x;
  // Clamped so that NaN passes through (comparisons with NaN are false).
  x = x > 88.3762626647949f ? splat<V>(88.3762626647949f) : x;
  x = x < -87.336544750553f ? splat<V>(-87.336544750553f) : x;
  // Below -80 the result is exactly 0: e^-80 = 1.8e-35, and anything
  // smaller would feed denormals into the GEMMs after a softmax (a masked
  // score), each costing a microcode assist per FMA on x86.
  return in < -80.0f ? splat<V>(0.0f) : exp_unchecked(x);
}

// exp for x <= 0, NaN and -inf: what softmax needs once the maximum is
// subtracted. exp()'s results there, without its clamps: x < -80 gives 0
// by the select, and x > 0 does not occur. Four vector operations fewer, a
// third of the softmax's time on Zen 3.
template <class V> inline V exp_nonpositive(V x) {
  return x < -80.0f ? splat<V>(0.0f) : exp_unchecked(x);
}

// erf(x) = x P(x^2) / Q(x^2) on x clamped to [-4, 4] (beyond, erf is +-1
// in float): the rational minimax fit Eigen and XLA use, degree 13/8. 15
// vector operations and one division, half the cost of the earlier
// Abramowitz & Stegun 7.1.26 form (which needed exp), and more accurate
// (4.2e-7 vs 6.6e-7 worst case): BERT's GELU epilogue on 128 x 3072 went from
// 0.44 to 0.23 ms on Zen 3. Q < 0 everywhere, so the division is safe; NaN
// passes through the clamps.
template <class V> inline V erf(V a) {
  V x = a > 4.0f ? splat<V>(4.0f) : a;
  x = x < -4.0f ? splat<V>(-4.0f) : x;
  const V x2 = x * x;
  V p = splat<V>(-2.72614225801306e-10f);
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  V q = splat<V>(-1.45660718464996e-05f);
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return x * p / q;
}

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); below 0.01 the odd Taylor
// series x - x^3/3 + 2x^5/15 avoids the cancellation.
template <class V> inline V tanh(V x) {
  const V ax = x < 0.0f ? -x : x;
  const V big = 1.0f - 2.0f / (exp(2.0f * ax) + 1.0f);
  const V x2 = ax * ax;
  const V small = ax * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f)));
  const V y = ax < 0.01f ? small : big;
  return x < 0.0f ? -y : y;
}

// Lane-wise fallbacks for what has no polynomial here.
template <class V, class F> inline V map(V x, F f) {
  for (unsigned i = 0; i < sizeof(V) / sizeof(float); ++i)
    x[i] = f(x[i]);
  return x;
}

} // namespace vmath
} // namespace canao_rt

#endif // CANAO_UKERNELS_VMATH_H
