// vmath::exp / erf / tanh and the row kernels (softmax, LayerNorm) of
// runtime/canao/ukernels/{vmath,rows}.h against <cmath> in double, on GCC
// vector types of 16 and 64 bytes (compiled for the baseline ISA, so without
// FMA contraction; the vmath bounds below also hold for an AVX-512 + FMA
// build, measured separately).
#include "canao/ukernels/vmath.h"
#include "canao/ukernels/rows.h"

#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

using namespace canao_rt;

namespace {

typedef float v4 __attribute__((vector_size(16)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));

// Largest errors measured over every float in the range (not just these
// samples), generic build / AVX-512 + FMA build:
//   exp  relative, [-80, 88]:  2.55e-7 / 2.31e-7 (documented: < 4e-7)
//   erf  absolute, [-10, 10]:  4.2e-7 with the rational x P(x^2) / Q(x^2)
//        (the earlier 1 - t * poly * e^{-x^2} form reached 6.6e-7 near
//        |x| = 0.04, where it cancels; the rational form has no
//        cancellation, so small x also gets a relative bound)
//   tanh absolute, [-20, 20]:  1.63e-7 / 1.72e-7 (documented: < 3e-7)
constexpr double kExpRel = 3e-7;
constexpr double kErfAbs = 5e-7;
constexpr double kErfRelSmall = 1e-6; // |x| in [1e-30, 0.5]
constexpr double kTanhAbs = 2e-7;

// n + 1 evenly spaced points from lo to hi, both included.
std::vector<float> grid(double lo, double hi, int64_t n) {
  std::vector<float> xs;
  for (int64_t i = 0; i <= n; ++i)
    xs.push_back(static_cast<float>(lo + (hi - lo) * double(i) / double(n)));
  return xs;
}

// +-2^e * (1 + j / 16) for e in [-40, 0): the small arguments a grid misses.
std::vector<float> small() {
  std::vector<float> xs;
  for (int e = -40; e < 0; ++e)
    for (int j = 0; j < 16; ++j) {
      const float x = std::ldexp(1.0f + j / 16.0f, e);
      xs.push_back(x);
      xs.push_back(-x);
    }
  return xs;
}

struct MaxError {
  double err = 0.0;
  float at = 0.0f;
};

// Max |f(x) - ref(x)| (divided by |ref(x)| when `relative`) over xs, f run
// on V-wide vectors (the last one padded with xs[0]).
template <class V, class F, class R>
MaxError maxError(const std::vector<float> &xs, F f, R ref, bool relative) {
  constexpr size_t L = sizeof(V) / sizeof(float);
  MaxError worst;
  for (size_t i = 0; i < xs.size(); i += L) {
    V x;
    for (size_t l = 0; l < L; ++l)
      x[l] = i + l < xs.size() ? xs[i + l] : xs[0];
    const V y = f(x);
    for (size_t l = 0; l < L && i + l < xs.size(); ++l) {
      const double want = ref(double(x[l]));
      double err = std::fabs(double(y[l]) - want);
      if (relative)
        err /= std::fabs(want);
      if (!(err <= worst.err)) { // NaN counts as worst
        worst.err = std::isnan(err) ? INFINITY : err;
        worst.at = x[l];
      }
    }
  }
  return worst;
}

template <class V> void checkExp() {
  const MaxError e = maxError<V>(
      grid(-80.0, 88.0, 1 << 21), [](V x) { return vmath::exp(x); },
      [](double x) { return std::exp(x); }, true);
  CAPTURE(sizeof(V), e.err, e.at);
  CHECK(e.err < kExpRel);
  const MaxError s = maxError<V>(
      small(), [](V x) { return vmath::exp(x); },
      [](double x) { return std::exp(x); }, true);
  CAPTURE(s.err, s.at);
  CHECK(s.err < kExpRel);

  // Below -80 the result is exactly 0 (no denormals after a masked
  // softmax), -88 and -inf included.
  const std::vector<float> under = {std::nextafter(-80.0f, -100.0f),
                                    -80.5f,
                                    -85.0f,
                                    -87.0f,
                                    -87.5f,
                                    -88.0f,
                                    -88.5f,
                                    -100.0f,
                                    -1000.0f,
                                    -1e30f,
                                    -FLT_MAX,
                                    -INFINITY};
  const MaxError u = maxError<V>(
      under, [](V x) { return vmath::exp(x); }, [](double) { return 0.0; },
      false);
  CAPTURE(u.err, u.at);
  CHECK(u.err == 0.0);
}

template <class V> void checkErf() {
  for (const std::vector<float> &xs : {grid(-10.0, 10.0, 1 << 21), small()}) {
    const MaxError e = maxError<V>(
        xs, [](V x) { return vmath::erf(x); },
        [](double x) { return std::erf(x); }, false);
    CAPTURE(sizeof(V), xs.size(), e.err, e.at);
    CHECK(e.err < kErfAbs);
  }
  std::vector<float> tiny;
  for (double x = 1e-30; x <= 0.5; x *= 1.001) {
    tiny.push_back(static_cast<float>(x));
    tiny.push_back(static_cast<float>(-x));
  }
  const MaxError r = maxError<V>(
      tiny, [](V x) { return vmath::erf(x); },
      [](double x) { return std::erf(x); }, true);
  CAPTURE(sizeof(V), r.err, r.at);
  CHECK(r.err < kErfRelSmall);
}

template <class V> void checkTanh() {
  for (const std::vector<float> &xs : {grid(-20.0, 20.0, 1 << 21), small()}) {
    const MaxError e = maxError<V>(
        xs, [](V x) { return vmath::tanh(x); },
        [](double x) { return std::tanh(x); }, false);
    CAPTURE(sizeof(V), xs.size(), e.err, e.at);
    CHECK(e.err < kTanhAbs);
  }
}

// ---- rows.h -----------------------------------------------------------------

enum class Logits { Plain, Masked, Large };

std::vector<float> logits(std::mt19937 &rng, int64_t n, Logits kind) {
  std::uniform_real_distribution<float> uni(-10.0f, 10.0f);
  std::vector<float> x(n);
  for (int64_t j = 0; j < n; ++j) {
    x[j] = uni(rng);
    if (kind == Logits::Large)
      x[j] += 80.0f; // e^x alone would overflow: the max must come off
    // Masked positions as attention masks leave them (entry 0 stays).
    if (kind == Logits::Masked && j % 3 == 1)
      x[j] = -INFINITY;
    if (kind == Logits::Masked && j % 7 == 2)
      x[j] = -1e30f;
    if (kind == Logits::Masked && j % 11 == 5)
      x[j] = -FLT_MAX;
  }
  return x;
}

template <class V> void checkSoftmax() {
  std::mt19937 rng(sizeof(V));
  for (int64_t n : {1, 5, 16, 128, 130})
    for (Logits kind : {Logits::Plain, Logits::Masked, Logits::Large}) {
      std::vector<float> row = logits(rng, n, kind);
      double mx = -INFINITY, sum = 0.0;
      for (float x : row)
        mx = std::fmax(mx, x);
      std::vector<double> ref(n);
      for (int64_t j = 0; j < n; ++j)
        sum += ref[j] = std::exp(double(row[j]) - mx);
      ukernel::softmax_row<V>(row.data(), n);
      double err = 0.0, total = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        const double e = std::fabs(double(row[j]) - ref[j] / sum);
        err = std::isnan(e) ? INFINITY : std::fmax(err, e);
        total += row[j];
      }
      CAPTURE(sizeof(V), n, int(kind), err, total - 1.0);
      CHECK(err <= 1e-6);
      CHECK(std::fabs(total - 1.0) <= 1e-6);
    }
}

template <class V> void checkLayerNorm() {
  std::mt19937 rng(sizeof(V) + 1);
  std::normal_distribution<float> normal(3.0f, 2.0f);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  for (int64_t n : {7, 64, 768})
    for (float eps : {1e-5f, 1e-12f}) {
      std::vector<float> y(n), scale(n), bias(n);
      for (int64_t j = 0; j < n; ++j) {
        y[j] = normal(rng);
        scale[j] = 1.0f + 0.5f * uni(rng);
        bias[j] = uni(rng);
      }
      double mean = 0.0, var = 0.0;
      for (float x : y)
        mean += x;
      mean /= double(n);
      for (float x : y)
        var += (x - mean) * (x - mean);
      const double rstd = 1.0 / std::sqrt(var / double(n) + double(eps));
      std::vector<double> ref(n);
      for (int64_t j = 0; j < n; ++j)
        ref[j] = (y[j] - mean) * rstd * scale[j] + bias[j];
      ukernel::layer_norm_row<V>(y.data(), n, scale.data(), bias.data(), eps);
      double err = 0.0; // max |y - ref| / (1 + |ref|)
      for (int64_t j = 0; j < n; ++j) {
        const double e =
            std::fabs(double(y[j]) - ref[j]) / (1.0 + std::fabs(ref[j]));
        err = std::isnan(e) ? INFINITY : std::fmax(err, e);
      }
      CAPTURE(sizeof(V), n, eps, err);
      CHECK(err <= 1e-6);
    }
}

} // namespace

TEST_CASE("vmath::exp: relative error < 3e-7 on [-80, 88], 0 below -80",
          "[vmath]") {
  checkExp<v4>();
  checkExp<v16>();
}

// Softmax's exp (x <= 0 after the max is subtracted): exp's results bit for
// bit on [-100, 0], 0 below -80, -inf and -FLT_MAX included, NaN kept.
template <class V> void checkExpNonpositive() {
  std::vector<float> xs = grid(-100.0, 0.0, 1 << 20);
  for (float x : {-0.0f, 0.0f, -1e-30f, -80.0f, -87.0f, -88.5f, -1e30f,
                  -FLT_MAX, -INFINITY})
    xs.push_back(x);
  const MaxError d = maxError<V>(
      xs, [](V x) { return vmath::exp_nonpositive(x) - vmath::exp(x); },
      [](double) { return 0.0; }, false);
  CAPTURE(sizeof(V), d.err, d.at);
  CHECK(d.err == 0.0);
  const V nan = vmath::exp_nonpositive(vmath::splat<V>(NAN));
  for (size_t l = 0; l < sizeof(V) / sizeof(float); ++l)
    CHECK(std::isnan(nan[l]));
}

// One line with the worst errors this build measures on 16-byte vectors
// (the generated code's `vf` on generic and neon): the qemu run
// (run_aarch64.sh) reports it for Cortex-A76 and A53.
TEST_CASE("vmath max errors on 16-byte vectors, printed", "[vmath]") {
  const auto exp = [](v4 x) { return vmath::exp(x); };
  const auto erf = [](v4 x) { return vmath::erf(x); };
  const auto tanh = [](v4 x) { return vmath::tanh(x); };
  const MaxError e = maxError<v4>(
      grid(-80.0, 88.0, 1 << 21), exp, [](double x) { return std::exp(x); },
      true);
  const MaxError f = maxError<v4>(
      grid(-10.0, 10.0, 1 << 21), erf, [](double x) { return std::erf(x); },
      false);
  const MaxError t = maxError<v4>(
      grid(-20.0, 20.0, 1 << 21), tanh, [](double x) { return std::tanh(x); },
      false);
  std::printf("vmath max error (16-byte vectors): exp relative %.3g on "
              "[-80, 88], erf absolute %.3g on [-10, 10], tanh absolute %.3g "
              "on [-20, 20]\n",
              e.err, f.err, t.err);
  CHECK(e.err < kExpRel);
  CHECK(f.err < kErfAbs);
  CHECK(t.err < kTanhAbs);
}

TEST_CASE("vmath::exp_nonpositive equals exp on x <= 0", "[vmath]") {
  checkExpNonpositive<v4>();
  checkExpNonpositive<v16>();
}

TEST_CASE("vmath::exp, erf and tanh propagate NaN", "[vmath]") {
  const v4 x4 = {NAN, 1.0f, -NAN, NAN};
  const v16 x16 = vmath::splat<v16>(NAN);
  const v4 e4 = vmath::exp(x4), f4 = vmath::erf(x4), t4 = vmath::tanh(x4);
  const v16 e16 = vmath::exp(x16), f16 = vmath::erf(x16),
            t16 = vmath::tanh(x16);
  for (int l : {0, 2, 3}) {
    CAPTURE(l, e4[l], f4[l], t4[l]);
    CHECK(std::isnan(e4[l]));
    CHECK(std::isnan(f4[l]));
    CHECK(std::isnan(t4[l]));
  }
  for (int l = 0; l < 16; ++l) {
    CAPTURE(l, e16[l], f16[l], t16[l]);
    CHECK(std::isnan(e16[l]));
    CHECK(std::isnan(f16[l]));
    CHECK(std::isnan(t16[l]));
  }
}

TEST_CASE("vmath::erf: absolute error < 5e-7 on [-10, 10], relative < 1e-6 "
          "near 0",
          "[vmath]") {
  checkErf<v4>();
  checkErf<v16>();
}

TEST_CASE("vmath::tanh: absolute error < 2e-7 on [-20, 20]", "[vmath]") {
  checkTanh<v4>();
  checkTanh<v16>();
}

TEST_CASE("softmax_row sums to 1 and matches a double reference, masked "
          "entries included",
          "[rows]") {
  checkSoftmax<v4>();
  checkSoftmax<v16>();
}

TEST_CASE("layer_norm_row matches a double reference", "[rows]") {
  checkLayerNorm<v4>();
  checkLayerNorm<v16>();
}

// Attention's S^T softmax: each column of a rows x cols block (leading
// dimension ld) becomes exp(x + bias[row] - max) in place and inv[c] = 1 /
// its sum; pack_a_transposed_scaled then gives (st * inv)^T in pack_a's
// layout, and writes nothing past it. MR <= lanes takes the vector path,
// MR > lanes the scalar one.
template <int MR, class V> void checkAttentionSoftmax(bool withBias) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-8.0f, 8.0f);
  for (int64_t rows : {1, 5, 37, 128})
    for (int64_t cols : {16, 48}) {
      const int64_t ld = cols + 16;
      std::vector<float> st(rows * ld, 123.0f), inv(cols), bias(rows * 2);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c)
          st[r * ld + c] = r % 3 == 2 ? -1e4f : dist(gen); // masked keys
        bias[r * 2] = r % 4 == 1 ? -1e4f : dist(gen);
      }
      const std::vector<float> in = st;
      if (withBias)
        ukernel::softmax_columns<v16>(st.data(), rows, cols, ld, inv.data(),
                                      bias.data(), 2);
      else
        ukernel::softmax_columns<v16>(st.data(), rows, cols, ld, inv.data());
      auto x = [&](int64_t r, int64_t c) {
        return double(in[r * ld + c]) + (withBias ? bias[r * 2] : 0.0);
      };
      const int64_t m = cols - 3; // queries actually used
      const int64_t packed = (m + MR - 1) / MR * MR * rows;
      std::vector<float> pa(packed + 64, -1.0f);
      ukernel::pack_a_transposed_scaled<MR, V>(m, rows, st.data(), ld,
                                               inv.data(), pa.data());
      double worst = 0, worstSum = 0;
      for (int64_t c = 0; c < m; ++c) {
        double mx = -1e30, sum = 0;
        for (int64_t r = 0; r < rows; ++r)
          mx = std::fmax(mx, x(r, c));
        for (int64_t r = 0; r < rows; ++r)
          sum += std::exp(x(r, c) - mx);
        double got = 0;
        for (int64_t r = 0; r < rows; ++r) {
          const float p = pa[(c / MR) * MR * rows + r * MR + c % MR];
          got += p;
          worst = std::fmax(worst, std::fabs(p - std::exp(x(r, c) - mx) / sum));
        }
        worstSum = std::fmax(worstSum, std::fabs(got - 1.0));
      }
      // Rows of the last tile past m are zero.
      int64_t padNonZero = 0;
      for (int64_t c = m; c < (m + MR - 1) / MR * MR; ++c)
        for (int64_t r = 0; r < rows; ++r)
          padNonZero += pa[(c / MR) * MR * rows + r * MR + c % MR] != 0.0f;
      // Nothing is written past the packed tiles.
      int64_t past = 0;
      for (size_t i = packed; i < pa.size(); ++i)
        past += pa[i] != -1.0f;
      // Columns past cols and the rest of each row are untouched.
      int64_t touched = 0;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = cols; c < ld; ++c)
          touched += st[r * ld + c] != 123.0f;
      CAPTURE(MR, sizeof(V) / 4, withBias, rows, cols, worst, worstSum);
      CHECK(worst < 1e-6);
      CHECK(worstSum < 1e-5);
      CHECK(padNonZero == 0);
      CHECK(past == 0);
      CHECK(touched == 0);
    }
}

TEST_CASE("softmax_columns and pack_a_transposed_scaled give the softmax "
          "of each column, packed as the rows of P",
          "[rows]") {
  for (bool bias : {false, true}) {
    checkAttentionSoftmax<12, v16>(bias); // AVX-512 attention tile
    checkAttentionSoftmax<6, v8>(bias);   // AVX2
    checkAttentionSoftmax<4, v4>(bias);   // generic
    checkAttentionSoftmax<6, v4>(bias);   // MR > lanes: scalar path
  }
}
