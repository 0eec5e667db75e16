// Block-sparse weights (runtime/canao/ukernels/{bsr_pack,f32_bsr,bsr}.h and
// the BSR-N path of f32_gemm.h / gemm.h): block counting and the two
// packers on hand-checked matrices, every microkernel alone, and both
// drivers end to end on random block-sparse weights, against plain
// reference loops accumulated in double.
//
// The AVX2 / AVX-512 instances come from UkernelAvx2.cpp / UkernelAvx512.cpp
// through function pointers (UkernelIsa.h says why); their tests WARN and
// return when this CPU lacks the instruction set.
#include "CpuFeatures.h"
#include "UkernelIsa.h"

#include "canao/threadpool.h"
#include "canao/ukernels/bsr.h"
#include "canao/ukernels/bsr_pack.h"
#include "canao/ukernels/f32_bsr.h"
#include "canao/ukernels/gemm.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

using namespace canao_rt;
using canao_rt::ukernel::F32BsrKFn;
using canao_rt::ukernel::F32BsrNFn;
using canao_rt::ukernel::F32GemmFn;

namespace {

// Outside every region a routine may write; checked bit for bit.
constexpr float kSentinel = -12345.5f;
constexpr int64_t kGuard = 67;
constexpr int32_t kIntSentinel = -777;

bool sameBits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

using canao_test::cpuHasAvx2;
using canao_test::cpuHasAvx512;

// The ISA instance, or nullptr after a WARN saying why its test is skipped
// (Catch2 v2 has no SKIP).
template <class Fn> Fn avx2Only(const char *name, Fn fn) {
  if (!fn)
    WARN(name << " skipped: UkernelAvx2.cpp was built without -mavx2 -mfma");
  else if (!cpuHasAvx2())
    WARN(name << " skipped: this CPU lacks AVX2/FMA");
  else
    return fn;
  return nullptr;
}

template <class Fn> Fn avx512Only(const char *name, Fn fn) {
  if (!fn)
    WARN(name << " skipped: UkernelAvx512.cpp was built without -mavx512f");
  else if (!cpuHasAvx512())
    WARN(name << " skipped: this CPU lacks AVX-512 F/VL/BW/DQ");
  else
    return fn;
  return nullptr;
}

// A K x N weight of RxC blocks (R along k, C along n), each kept with
// probability `density` (0: all zero, 1: all kept). Below density 1, kept
// blocks have some exact zeros (+0 and -0; one weight stays nonzero, so
// the block rule alone decides), and columns [empty0, empty1) are zero.
std::vector<float> blockSparse(std::mt19937 &rng, int64_t K, int64_t N,
                               int64_t R, int64_t C, double density,
                               int64_t empty0 = 0, int64_t empty1 = 0) {
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::vector<float> w(K * N, 0.0f);
  for (int64_t k0 = 0; k0 < K; k0 += R)
    for (int64_t n0 = 0; n0 < N; n0 += C) {
      if (!(coin(rng) < density))
        continue;
      bool first = true;
      for (int64_t k = k0; k < K && k < k0 + R; ++k)
        for (int64_t n = n0; n < N && n < n0 + C; ++n) {
          float x = uni(rng);
          if (density < 1.0 && !first && coin(rng) < 0.25)
            x = coin(rng) < 0.5 ? 0.0f : -0.0f;
          w[k * N + n] = x;
          first = false;
        }
    }
  if (density > 0.0 && density < 1.0)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = empty0; n < empty1 && n < N; ++n)
        w[k * N + n] = k % 2 ? -0.0f : 0.0f;
  return w;
}

// ---- counting and packing ---------------------------------------------------

// A 6 x 5 weight by hand. With NR = 4 the panels are columns 0-3 and 4
// (zero-padded to 4); with R = 2 the blocks of each column are k 0-1, 2-3,
// 4-5.
//   k0: 1  0  0  0  0
//   k1: 0  0  0  0  2
//   k2: 0  3  0 -0  0
//   k3: 0  0  0  0  0
//   k4: 0  0  4  5  6
//   k5: -0 0  0  0  0
std::vector<float> handWeight() {
  std::vector<float> w(6 * 5, 0.0f);
  w[0 * 5 + 0] = 1, w[1 * 5 + 4] = 2, w[2 * 5 + 1] = 3, w[2 * 5 + 3] = -0.0f;
  w[4 * 5 + 2] = 4, w[4 * 5 + 3] = 5, w[4 * 5 + 4] = 6, w[5 * 5 + 0] = -0.0f;
  return w;
}

TEST_CASE("bsr n_rows / k_blocks_kept count exactly the nonzero blocks",
          "[bsr][pack]") {
  const std::vector<float> w = handWeight();
  // Panel 0 keeps k 0, 2, 4; panel 1 keeps k 1, 4. With NR = 8 (one panel)
  // k 0, 1, 2, 4; with NR = 1 every nonzero weight is a row.
  CHECK(bsr::n_rows(w.data(), 6, 5, 4) == 5);
  CHECK(bsr::n_rows(w.data(), 6, 5, 8) == 4);
  CHECK(bsr::n_rows(w.data(), 6, 5, 1) == 6);
  // NR = 2: {0, 1} k0 k2, {2, 3} k4 (k2's -0 is zero), {4} k1 k4.
  CHECK(bsr::n_rows(w.data(), 6, 5, 2) == 5);
  // 2x1: column 0 {k0-1}, column 1 {k2-3}, column 2 {k4-5}, column 3
  // {k4-5}, column 4 {k0-1, k4-5}. 3x1: column 0 {0-2}, 1 {0-2}, 2 {3-5},
  // 3 {3-5}, 4 {0-2, 3-5}. 6x1: one per nonzero column.
  CHECK(bsr::k_blocks_kept(w.data(), 6, 5, 2) == 6);
  CHECK(bsr::k_blocks_kept(w.data(), 6, 5, 3) == 6);
  CHECK(bsr::k_blocks_kept(w.data(), 6, 5, 6) == 5);
  CHECK(bsr::k_blocks_kept(w.data(), 6, 5, 1) == 6);

  // All zeros, +0 and -0 alike: nothing is kept.
  for (float z : {0.0f, -0.0f}) {
    const std::vector<float> zero(48 * 40, z);
    CAPTURE(z);
    for (int64_t nr : {1, 8, 16, 24, 32, 64})
      CHECK(bsr::n_rows(zero.data(), 48, 40, nr) == 0);
    for (int64_t r : {1, 4, 8, 16})
      CHECK(bsr::k_blocks_kept(zero.data(), 48, 40, r) == 0);
  }

  // One nonzero weight (the smallest denormal, or a NaN, counts too) makes
  // exactly its block count, wherever it sits; the rest is -0.
  const int64_t K = 48, N = 37;
  int64_t wrong = 0;
  for (float x : {1.0f, -1e-45f, NAN})
    for (int64_t k = 0; k < K; k += 5)
      for (int64_t n = 0; n < N; n += 3) {
        std::vector<float> one(K * N, -0.0f);
        one[k * N + n] = x;
        for (int64_t nr : {1, 8, 16, 24, 32})
          wrong += bsr::n_rows(one.data(), K, N, nr) != 1;
        for (int64_t r : {1, 4, 8, 16})
          wrong += bsr::k_blocks_kept(one.data(), K, N, r) != 1;
      }
  CHECK(wrong == 0);

  // A dense weight: every row of every panel, every block.
  std::vector<float> dense(K * N, 0.5f);
  CHECK(bsr::n_rows(dense.data(), K, N, 16) == 3 * K);
  CHECK(bsr::k_blocks_kept(dense.data(), K, N, 16) == 3 * N);
}

TEST_CASE("bsr n_pack lays out the rows kept per panel and k block",
          "[bsr][pack]") {
  const std::vector<float> w = handWeight();
  const float z = -0.0f;
  struct Want {
    int64_t kc;
    std::vector<int32_t> ptr, k;
  };
  // Rows in order: panel 0 {k0, k2 | k4}, panel 1 {k1 | k4}; row_k has
  // one entry more, 0 (the kernels load one index ahead).
  const std::vector<float> values = {1, 0, 0, 0, 0, 3, 0, z, 0, 0,
                                     4, 5, 2, 0, 0, 0, 6, 0, 0, 0};
  for (const Want &want :
       {Want{4, {0, 2, 3, 4, 5}, {0, 2, 0, 1, 0, 0}},
        Want{6, {0, 3, 5}, {0, 2, 4, 1, 4, 0}},
        Want{100, {0, 3, 5}, {0, 2, 4, 1, 4, 0}},
        Want{2, {0, 1, 2, 3, 4, 4, 5}, {0, 0, 0, 1, 0, 0}}}) {
    const int64_t nkb = bsr::k_blocks(6, want.kc);
    CAPTURE(want.kc);
    REQUIRE(int64_t(want.ptr.size()) == 2 * nkb + 1);
    std::vector<float> v(5 * 4 + kGuard, kSentinel);
    std::vector<int32_t> ptr(2 * nkb + 1 + kGuard, kIntSentinel),
        k(5 + 1 + kGuard, kIntSentinel);
    REQUIRE(bsr::n_pack(w.data(), 6, 5, 4, want.kc, 5, v.data(), ptr.data(),
                        k.data()));
    int64_t wrong = 0;
    for (size_t i = 0; i < v.size(); ++i)
      wrong += !sameBits(v[i], i < values.size() ? values[i] : kSentinel);
    for (size_t i = 0; i < ptr.size(); ++i)
      wrong += ptr[i] != (i < want.ptr.size() ? want.ptr[i] : kIntSentinel);
    for (size_t i = 0; i < k.size(); ++i)
      wrong += k[i] != (i < want.k.size() ? want.k[i] : kIntSentinel);
    CHECK(wrong == 0);
  }

  // A count that disagrees with the weight: false, and no write past the
  // count given (rows * NR values, rows + 1 indices).
  for (int64_t rows : {0, 4, 6}) {
    CAPTURE(rows);
    std::vector<float> v(rows * 4 + kGuard, kSentinel);
    std::vector<int32_t> ptr(5 + kGuard, kIntSentinel),
        k(rows + 1 + kGuard, kIntSentinel);
    CHECK_FALSE(bsr::n_pack(w.data(), 6, 5, 4, 4, rows, v.data(), ptr.data(),
                            k.data()));
    int64_t clobbered = 0;
    for (size_t i = rows * 4; i < v.size(); ++i)
      clobbered += !sameBits(v[i], kSentinel);
    for (size_t i = rows + 1; i < k.size(); ++i)
      clobbered += k[i] != kIntSentinel;
    for (size_t i = 5; i < ptr.size(); ++i)
      clobbered += ptr[i] != kIntSentinel;
    CHECK(clobbered == 0);
  }
}

TEST_CASE("bsr k_pack lays out the blocks kept per output and k block",
          "[bsr][pack]") {
  const std::vector<float> w = handWeight();
  const float z = -0.0f;
  // R = 2, kc = 4 (k blocks {0-3}, {4-5}), per output:
  //   column 0: k0-1 [1, 0]            | k4-5 [0, -0] dropped
  //   column 1: k2-3 [3, 0]            |
  //   column 2:                        | k4-5 [4, 0]
  //   column 3: k2-3 [-0, 0] dropped   | k4-5 [5, 0]
  //   column 4: k0-1 [0, 2]            | k4-5 [6, 0]
  {
    const int64_t nkb = 2, blocks = 6;
    REQUIRE(bsr::k_blocks_kept(w.data(), 6, 5, 2) == blocks);
    const std::vector<float> values = {1, 0, 3, 0, 4, 0, 5, 0, 0, 2, 6, 0};
    const std::vector<int32_t> wantPtr = {0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6};
    const std::vector<int32_t> bk = {0, 2, 4, 4, 0, 4, 0}; // + the tail 0
    std::vector<float> v(blocks * 2 + kGuard, kSentinel);
    std::vector<int32_t> ptr(5 * nkb + 1 + kGuard, kIntSentinel),
        k(blocks + 1 + kGuard, kIntSentinel);
    REQUIRE(bsr::k_pack(w.data(), 6, 5, 2, 4, blocks, v.data(), ptr.data(),
                        k.data()));
    int64_t wrong = 0;
    for (size_t i = 0; i < v.size(); ++i)
      wrong += !sameBits(v[i], i < values.size() ? values[i] : kSentinel);
    for (size_t i = 0; i < ptr.size(); ++i)
      wrong += ptr[i] != (i < wantPtr.size() ? wantPtr[i] : kIntSentinel);
    for (size_t i = 0; i < k.size(); ++i)
      wrong += k[i] != (i < bk.size() ? bk[i] : kIntSentinel);
    CHECK(wrong == 0);
  }
  // R = 3, one k block (kc >= K): column 0 {k0-2 [1, 0, 0]}, 1 {[0, 0, 3]},
  // 2 {k3-5 [0, 4, 0]}, 3 {k0-2 [0, 0, -0] dropped; k3-5 [0, 5, 0]},
  // 4 {[0, 2, 0], [0, 6, 0]}. -0 weights inside a kept block stay -0.
  {
    std::vector<float> w2 = w;
    w2[3 * 5 + 4] = -0.0f; // column 4, k3: inside the kept block k3-5
    const int64_t blocks = 6;
    REQUIRE(bsr::k_blocks_kept(w2.data(), 6, 5, 3) == blocks);
    const std::vector<float> values = {1, 0, 0, 0, 0, 3, 0, 4, 0,
                                       0, 5, 0, 0, 2, 0, z, 6, 0};
    const std::vector<int32_t> wantPtr = {0, 1, 2, 3, 4, 6};
    const std::vector<int32_t> bk = {0, 0, 3, 3, 0, 3, 0};
    for (int64_t kc : {6, 1000}) {
      CAPTURE(kc);
      std::vector<float> v(blocks * 3 + kGuard, kSentinel);
      std::vector<int32_t> ptr(5 + 1 + kGuard, kIntSentinel),
          k(blocks + 1 + kGuard, kIntSentinel);
      REQUIRE(bsr::k_pack(w2.data(), 6, 5, 3, kc, blocks, v.data(), ptr.data(),
                          k.data()));
      int64_t wrong = 0;
      for (size_t i = 0; i < v.size(); ++i)
        wrong += !sameBits(v[i], i < values.size() ? values[i] : kSentinel);
      for (size_t i = 0; i < ptr.size(); ++i)
        wrong += ptr[i] != (i < wantPtr.size() ? wantPtr[i] : kIntSentinel);
      for (size_t i = 0; i < k.size(); ++i)
        wrong += k[i] != (i < bk.size() ? bk[i] : kIntSentinel);
      CHECK(wrong == 0);
    }
  }

  // False on a count that disagrees (no write past it: blocks * R values,
  // blocks + 1 indices), and on a shape the
  // layout cannot hold: R not dividing K, or the k block, or R < 1.
  for (int64_t blocks : {0, 5, 7}) {
    CAPTURE(blocks);
    std::vector<float> v(blocks * 2 + kGuard, kSentinel);
    std::vector<int32_t> ptr(11 + kGuard, kIntSentinel),
        k(blocks + 1 + kGuard, kIntSentinel);
    CHECK_FALSE(bsr::k_pack(w.data(), 6, 5, 2, 4, blocks, v.data(), ptr.data(),
                            k.data()));
    int64_t clobbered = 0;
    for (size_t i = blocks * 2; i < v.size(); ++i)
      clobbered += !sameBits(v[i], kSentinel);
    for (size_t i = blocks + 1; i < k.size(); ++i)
      clobbered += k[i] != kIntSentinel;
    for (size_t i = 11; i < ptr.size(); ++i)
      clobbered += ptr[i] != kIntSentinel;
    CHECK(clobbered == 0);
  }
  std::vector<float> v(64, kSentinel);
  std::vector<int32_t> ptr(64, kIntSentinel), k(64, kIntSentinel);
  const int64_t kept4 = bsr::k_blocks_kept(w.data(), 6, 5, 4);
  CHECK_FALSE(bsr::k_pack(w.data(), 6, 5, 4, 1000, kept4, v.data(), ptr.data(),
                          k.data())); // 6 % 4
  CHECK_FALSE(
      bsr::k_pack(w.data(), 6, 5, 4, 4, kept4, v.data(), ptr.data(), k.data()));
  CHECK_FALSE(bsr::k_pack(w.data(), 6, 5, 2, 3, 6, v.data(), ptr.data(),
                          k.data())); // kc 3 % 2
  CHECK_FALSE(
      bsr::k_pack(w.data(), 6, 5, 0, 4, 0, v.data(), ptr.data(), k.data()));
  // Rejected before anything is written.
  int64_t clobbered = 0;
  for (float x : v)
    clobbered += !sameBits(x, kSentinel);
  for (int32_t x : ptr)
    clobbered += x != kIntSentinel;
  for (int32_t x : k)
    clobbered += x != kIntSentinel;
  CHECK(clobbered == 0);
}

// The packed arrays of one weight (k: rows + 1 indices, see bsr_pack.h).
struct BsrN {
  int64_t rows = 0;
  std::vector<float> values;
  std::vector<int32_t> ptr, k;
};

BsrN packN(const std::vector<float> &w, int64_t K, int64_t N, int64_t NR,
           int64_t kc) {
  BsrN p;
  p.rows = bsr::n_rows(w.data(), K, N, NR);
  p.values.assign(std::max<int64_t>(1, p.rows) * NR, kSentinel);
  p.ptr.assign((N + NR - 1) / NR * bsr::k_blocks(K, kc) + 1, kIntSentinel);
  p.k.assign(p.rows + 1, kIntSentinel);
  REQUIRE(bsr::n_pack(w.data(), K, N, NR, kc, p.rows, p.values.data(),
                      p.ptr.data(), p.k.data()));
  REQUIRE(p.k[p.rows] == 0); // the entry past the end
  return p;
}

BsrN packK(const std::vector<float> &w, int64_t K, int64_t N, int64_t R,
           int64_t kc) {
  BsrN p;
  p.rows = bsr::k_blocks_kept(w.data(), K, N, R);
  p.values.assign(std::max<int64_t>(1, p.rows) * R, kSentinel);
  p.ptr.assign(N * bsr::k_blocks(K, kc) + 1, kIntSentinel);
  p.k.assign(p.rows + 1, kIntSentinel);
  REQUIRE(bsr::k_pack(w.data(), K, N, R, kc, p.rows, p.values.data(),
                      p.ptr.data(), p.k.data()));
  REQUIRE(p.k[p.rows] == 0);
  return p;
}

// Packing random weights and reading them back gives the weight again
// (the values of the rows / blocks kept, zeros elsewhere).
TEST_CASE("bsr n_pack / k_pack round-trip random block-sparse weights",
          "[bsr][pack]") {
  std::mt19937 rng(5);
  int64_t wrong = 0;
  for (double density : {0.0, 0.1, 0.5, 1.0})
    for (int64_t kc : {8, 16, 48, 1000}) {
      const int64_t K = 48, N = 37;
      for (int64_t nr : {8, 16}) {
        const std::vector<float> w =
            blockSparse(rng, K, N, 1, nr, density, nr, 2 * nr);
        const BsrN p = packN(w, K, N, nr, kc);
        const int64_t nkb = bsr::k_blocks(K, kc), step = std::min(kc, K);
        std::vector<float> back(K * N, 0.0f);
        for (int64_t pn = 0; pn < (N + nr - 1) / nr; ++pn)
          for (int64_t b = 0; b < nkb; ++b)
            for (int32_t i = p.ptr[pn * nkb + b]; i < p.ptr[pn * nkb + b + 1];
                 ++i)
              for (int64_t j = 0; j < nr; ++j) {
                const float x = p.values[i * nr + j];
                if (pn * nr + j < N)
                  back[(b * step + p.k[i]) * N + pn * nr + j] = x;
                else
                  wrong += !sameBits(x, 0.0f);
              }
        for (int64_t i = 0; i < K * N; ++i)
          wrong += back[i] != w[i];
      }
      for (int64_t r : {4, 8, 16}) {
        if (kc % r)
          continue; // k_pack rejects it (below)
        const std::vector<float> w =
            blockSparse(rng, K, N, r, 1, density, 1, 2);
        const BsrN p = packK(w, K, N, r, kc);
        const int64_t nkb = bsr::k_blocks(K, kc), step = std::min(kc, K);
        std::vector<float> back(K * N, 0.0f);
        for (int64_t n = 0; n < N; ++n)
          for (int64_t b = 0; b < nkb; ++b)
            for (int32_t j = p.ptr[n * nkb + b]; j < p.ptr[n * nkb + b + 1];
                 ++j) {
              wrong += p.k[j] % r != 0 || p.k[j] < b * step ||
                       p.k[j] + r > std::min(K, (b + 1) * step);
              for (int64_t k = 0; k < r; ++k)
                back[(p.k[j] + k) * N + n] = p.values[j * r + k];
            }
        for (int64_t i = 0; i < K * N; ++i)
          wrong += back[i] != w[i];
      }
    }
  CHECK(wrong == 0);
}

// ---- the microkernels alone -------------------------------------------------

// The three ways a kernel starts its sums.
const char *const kModes[] = {"zeros (init = nullptr)",
                              "bias row (init_ld = 0)",
                              "accumulate (init = c, init_ld = ldc)"};

// BSR-N: every m = 1..MR, rows kept 0 (C = init) to all, at scattered k of
// a kb-wide block, three init modes, with and without a prefetch panel,
// A packed ([kb][MR] tile) or in place (lda = kb + 3). Rows >= m of A are
// NaN, and nothing outside rows [0, m) x columns [0, NR) of C may change.
template <int MR, int NR> void checkBsrNKernel(F32BsrNFn kernel) {
  std::mt19937 rng(MR * 1000 + NR);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  const int64_t ldc = NR + 5;
  for (int64_t kb : {1, 7, 300}) {
    std::vector<int64_t> rowCounts = {0, 1, kb / 3, kb};
    std::sort(rowCounts.begin(), rowCounts.end());
    rowCounts.erase(std::unique(rowCounts.begin(), rowCounts.end()),
                    rowCounts.end());
    for (int64_t rows : rowCounts) {
      // `rows` distinct k of [0, kb), ascending.
      std::vector<int32_t> kidx(kb);
      for (int64_t i = 0; i < kb; ++i)
        kidx[i] = int32_t(i);
      std::shuffle(kidx.begin(), kidx.end(), rng);
      kidx.resize(rows);
      std::sort(kidx.begin(), kidx.end());
      kidx.push_back(0); // the layout's entry past the end, read ahead
      for (int direct = 0; direct < 2; ++direct)
        for (int m = 1; m <= MR; ++m)
          for (int mode = 0; mode < 3; ++mode)
            for (int pfShift : {-1, 0, 3}) {
              const int64_t lda = direct ? kb + 3 : 0;
              std::vector<float> packed(kb * MR), rowMajor(MR * (kb + 3), NAN);
              for (int64_t k = 0; k < kb; ++k)
                for (int r = 0; r < MR; ++r) {
                  packed[k * MR + r] = r < m ? uni(rng) : NAN;
                  if (r < m)
                    rowMajor[r * (kb + 3) + k] = packed[k * MR + r];
                }
              std::vector<float> w(std::max<int64_t>(1, rows) * NR);
              for (float &x : w)
                x = uni(rng);
              std::vector<float> next(std::max<int64_t>(1, rows) * NR, 1.0f);
              std::vector<float> bias(NR);
              for (float &x : bias)
                x = uni(rng);
              std::vector<float> c(MR * ldc + kGuard, kSentinel);
              std::vector<double> init(m * NR, 0.0);
              for (int r = 0; r < m; ++r)
                for (int j = 0; j < NR; ++j) {
                  if (mode == 1)
                    init[r * NR + j] = bias[j];
                  if (mode == 2)
                    init[r * NR + j] = c[r * ldc + j] = uni(rng);
                }
              const float *initPtr = mode == 0   ? nullptr
                                     : mode == 1 ? bias.data()
                                                 : c.data();
              kernel(m, rows, direct ? rowMajor.data() : packed.data(), lda,
                     kidx.data(), w.data(), c.data(), ldc, initPtr,
                     mode == 2 ? ldc : 0,
                     pfShift < 0 || rows == 0 ? nullptr : next.data(),
                     pfShift < 0 ? 0 : pfShift);
              int64_t wrong = 0, clobbered = 0;
              double worst = 0.0;
              for (int64_t i = 0; i < int64_t(c.size()); ++i) {
                const int64_t r = i / ldc, j = i % ldc;
                if (r >= m || j >= NR) {
                  clobbered += !sameBits(c[i], kSentinel);
                  continue;
                }
                double ref = init[r * NR + j], mag = std::fabs(ref);
                for (int64_t q = 0; q < rows; ++q) {
                  const double t =
                      double(packed[kidx[q] * MR + r]) * w[q * NR + j];
                  ref += t;
                  mag += std::fabs(t);
                }
                const double err = std::fabs(double(c[i]) - ref);
                if (!(err <= 1e-5 * (1.0 + mag)))
                  ++wrong;
                worst = std::fmax(worst, err / (1.0 + mag));
              }
              CAPTURE(kb, rows, direct, m, kModes[mode], pfShift, worst);
              CHECK(wrong == 0);
              CHECK(clobbered == 0);
            }
    }
  }
}

// BSR-K: every m = 1..MR, every group width g = 1..LANES, the three init
// modes for the first k block, then the later k blocks accumulated on C
// (init = c), with one k block (kc >= K) and three (kc = 2R, 2R, R; the
// kernel runs at bptr + b with stride nkb). Output 1 has no block at all,
// output 2 every block, the rest about half. A is read in place with NaN in
// rows >= m and in the padding past K; nothing outside rows [0, m) x
// columns [0, g) of C may change.
template <int R, int MR, int LANES> void checkBsrKKernel(F32BsrKFn kernel) {
  std::mt19937 rng(R * 1000 + MR * 10 + LANES);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const int64_t K = 5 * R, lda = K + 7, ldc = LANES + 5;
  for (int64_t kc : {int64_t(K), int64_t(2 * R)})
    for (int g = 1; g <= LANES; ++g) {
      std::vector<float> w(K * g, 0.0f);
      for (int64_t o = 0; o < g; ++o)
        for (int64_t k0 = 0; k0 < K; k0 += R)
          if (o == 2 || (o != 1 && coin(rng) < 0.5))
            for (int64_t k = k0; k < k0 + R; ++k)
              w[k * g + o] = uni(rng);
      const BsrN p = packK(w, K, g, R, kc);
      const int64_t nkb = bsr::k_blocks(K, kc);
      for (int m = 1; m <= MR; ++m)
        for (int mode = 0; mode < 3; ++mode) {
          std::vector<float> a(MR * lda, NAN);
          for (int r = 0; r < m; ++r)
            for (int64_t k = 0; k < K; ++k)
              a[r * lda + k] = uni(rng);
          std::vector<float> bias(LANES);
          for (float &x : bias)
            x = uni(rng);
          std::vector<float> c(MR * ldc + kGuard, kSentinel);
          std::vector<double> init(m * g, 0.0);
          for (int r = 0; r < m; ++r)
            for (int j = 0; j < g; ++j) {
              if (mode == 1)
                init[r * g + j] = bias[j];
              if (mode == 2)
                init[r * g + j] = c[r * ldc + j] = uni(rng);
            }
          for (int64_t b = 0; b < nkb; ++b) {
            const float *initPtr = b || mode == 2 ? c.data()
                                   : mode == 1    ? bias.data()
                                                  : nullptr;
            kernel(m, g, a.data(), lda, p.ptr.data() + b, nkb, p.k.data(),
                   p.values.data(), c.data(), ldc, initPtr,
                   b || mode == 2 ? ldc : 0);
          }
          int64_t wrong = 0, clobbered = 0;
          double worst = 0.0;
          for (int64_t i = 0; i < int64_t(c.size()); ++i) {
            const int64_t r = i / ldc, j = i % ldc;
            if (r >= m || j >= g) {
              clobbered += !sameBits(c[i], kSentinel);
              continue;
            }
            double ref = init[r * g + j], mag = std::fabs(ref);
            for (int64_t k = 0; k < K; ++k) {
              const double t = double(a[r * lda + k]) * w[k * g + j];
              ref += t;
              mag += std::fabs(t);
            }
            const double err = std::fabs(double(c[i]) - ref);
            if (!(err <= 1e-5 * (1.0 + mag)))
              ++wrong;
            worst = std::fmax(worst, err / (1.0 + mag));
          }
          CAPTURE(kc, g, m, kModes[mode], worst);
          CHECK(wrong == 0);
          CHECK(clobbered == 0);
        }
    }
}

// ---- the drivers ------------------------------------------------------------

// One shape's A, bias and block-sparse W, with the double reference.
struct Problem {
  int64_t M, N, K, lda, ldc;
  std::vector<float> a, w, bias; // a: M x lda, w: K x N
  std::vector<double> ref, mag;  // M x N: sum a*w, sum |a*w|
};

Problem problem(std::mt19937 &rng, int64_t M, int64_t N, int64_t K,
                std::vector<float> w) {
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  Problem p;
  p.M = M, p.N = N, p.K = K, p.lda = K + 2, p.ldc = N + 3;
  p.a.resize(M * p.lda);
  for (float &x : p.a)
    x = uni(rng);
  p.bias.resize(N);
  for (float &x : p.bias)
    x = uni(rng);
  p.w = std::move(w);
  p.ref.assign(M * N, 0.0);
  p.mag.assign(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) {
      const double aik = p.a[i * p.lda + k];
      for (int64_t j = 0; j < N; ++j) {
        const double t = aik * p.w[k * N + j];
        p.ref[i * N + j] += t;
        p.mag[i * N + j] += std::fabs(t);
      }
    }
  return p;
}

// The epilogue adds 1 to its columns and records (m0, m1, n0, nb); the row
// epilogue rewrites whole rows as c * 2 - 3 and records (m0, m1). Each
// element must be finished once by each, in that order: a call before the
// last k block, twice, or in the other order shows up in the values.
struct EpilogueLog {
  std::mutex mutex;
  std::vector<std::array<int64_t, 4>> calls;
  std::vector<std::array<int64_t, 2>> rowCalls;

  auto epilogue(float *c, int64_t ldc, int64_t N) {
    return [this, c, ldc, N](int64_t m0, int64_t m1, int64_t n0, int64_t nb) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        calls.push_back({m0, m1, n0, nb});
      }
      for (int64_t r = m0; r < m1; ++r)
        for (int64_t j = n0; j < n0 + nb && j < N; ++j)
          c[r * ldc + j] += 1.0f;
    };
  }
  auto rowEpilogue(float *c, int64_t ldc, int64_t N) {
    return [this, c, ldc, N](int64_t m0, int64_t m1) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        rowCalls.push_back({m0, m1});
      }
      for (int64_t r = m0; r < m1; ++r)
        for (int64_t j = 0; j < N; ++j)
          c[r * ldc + j] = c[r * ldc + j] * 2.0f - 3.0f;
    };
  }
};

// Checks one driver run: the epilogue calls (on `width`-wide column
// groups, rows starting on multiples of `rowAlign`) cover each element
// once, the row-epilogue calls (on multiples of `mr`) each row once, the
// values match the reference, and nothing past M x N changed.
void checkRun(const Problem &p, bool withBias, const std::vector<float> &c,
              const EpilogueLog &log, int64_t width, int64_t rowAlign,
              int64_t mr) {
  const int64_t M = p.M, N = p.N, ldc = p.ldc;
  std::vector<int> covered(M * N, 0), rowsCovered(M, 0);
  int64_t badCalls = 0, notOnce = 0;
  for (const auto &call : log.calls) {
    const int64_t m0 = call[0], m1 = call[1], n0 = call[2], nb = call[3];
    const bool ok = n0 >= 0 && n0 < N && n0 % width == 0 &&
                    nb == std::min<int64_t>(width, N - n0) && m0 >= 0 &&
                    m0 < m1 && m1 <= M && m0 % rowAlign == 0;
    badCalls += !ok;
    for (int64_t r = m0; ok && r < m1; ++r)
      for (int64_t j = n0; j < n0 + nb; ++j)
        ++covered[r * N + j];
  }
  // An empty row call is allowed: with fewer row tiles than threads,
  // ThreadPool::parallel_for hands the caller an empty range [0, 0).
  for (const auto &call : log.rowCalls) {
    const bool ok =
        call[0] >= 0 && call[0] <= call[1] && call[1] <= M && call[0] % mr == 0;
    badCalls += !ok;
    for (int64_t r = call[0]; ok && r < call[1]; ++r)
      ++rowsCovered[r];
  }
  for (int x : covered)
    notOnce += x != 1;
  for (int x : rowsCovered)
    notOnce += x != 1;
  int64_t wrong = 0, clobbered = 0;
  double worst = 0.0;
  for (int64_t i = 0; i < int64_t(c.size()); ++i) {
    const int64_t r = i / ldc, j = i % ldc;
    if (r >= M || j >= N) {
      clobbered += !sameBits(c[i], kSentinel);
      continue;
    }
    const double bias = withBias ? p.bias[j] : 0.0;
    const double ref = (p.ref[r * N + j] + bias + 1.0) * 2.0 - 3.0;
    const double mag = 2.0 * (p.mag[r * N + j] + std::fabs(bias) + 1.0);
    const double err = std::fabs(double(c[i]) - ref);
    if (!(err <= 2e-5 * (1.0 + mag)))
      ++wrong;
    worst = std::fmax(worst, err / (1.0 + mag));
  }
  CAPTURE(worst);
  CHECK(badCalls == 0);
  CHECK(notOnce == 0);
  CHECK(wrong == 0);
  CHECK(clobbered == 0);
}

// Three pools of 1, 2 and 3 participants.
ThreadPool *pools() {
  static ThreadPool p[3];
  static bool ready = [] {
    for (int t = 0; t < 3; ++t)
      if (!p[t].resize(t + 1))
        return false;
    return true;
  }();
  REQUIRE(ready);
  for (int t = 0; t < 3; ++t)
    REQUIRE(p[t].size() == t + 1);
  return p;
}

// The shapes both drivers run, M x N x K with kc = 128: M = 1 and with a
// partial last tile (13, 50); N narrower than one panel / group (5), with a
// partial last one (3 * width + 3, 100); K of one k block (k1: 3 or R, and
// 128 = kc) and of three (k3: BSR-N 299 = 128 + 128 + 43, BSR-K 320 =
// 128 + 128 + 64, as BSR-K needs R | K). `width` is NR or the lanes.
std::vector<std::array<int64_t, 3>> driverShapes(int64_t width, int64_t k1,
                                                 int64_t k3) {
  const int64_t odd = 3 * width + 3;
  return {{1, 100, k3},  {13, 5, 128}, {13, odd, k3},  {50, odd, k1},
          {50, 100, k3}, {50, 5, k3},  {13, 100, 128}, {1, 5, k1}};
}
const double kDensities[] = {0.0, 0.1, 0.5, 1.0};

// BSR-N through gemm<MR, NR>: densities 0 (no row at all), 0.1 (many empty
// panels), 0.5 (panel 1 empty) and 1; without and with bias; threads split
// panels or rows; A packed (workspace of packed_a_floats, guarded) or in
// place; 1, 2 and 3 threads: all bit-identical, and at density 1 identical
// to the dense kernel `dense` on the dense panels.
template <int MR, int NR>
void checkBsrNDriver(F32BsrNFn kernel, F32GemmFn dense) {
  std::mt19937 rng(MR * 100 + NR);
  ThreadPool *pool = pools();
  for (const auto &shape : driverShapes(NR, 3, 299))
    for (double density : kDensities) {
      const int64_t M = shape[0], N = shape[1], K = shape[2];
      const Problem p = problem(
          rng, M, N, K, blockSparse(rng, K, N, 1, NR, density, NR, 2 * NR));
      const int64_t kc = 128, nkb = bsr::k_blocks(K, kc);
      const BsrN packed = packN(p.w, K, N, NR, kc);
      REQUIRE(packed.ptr.back() == packed.rows);
      std::vector<float> panels((N + NR - 1) / NR * K * NR);
      ukernel::pack_b<NR>(K, N, p.w.data(), N, panels.data());
      for (int withBias = 0; withBias < 2; ++withBias) {
        std::vector<float> first;
        for (int run = 0; run < 13; ++run) {
          // Runs 0-11: threads 1-3 x split x A; run 12: the dense kernel.
          const int threads = 1 + run % 3;
          const bool splitRows = (run / 3) & 1, directA = (run / 6) & 1;
          const bool denseRun = run == 12;
          if (denseRun && density < 1.0)
            continue;
          std::vector<float> ws(
              ukernel::gemm_workspace_floats(M, K, kc, MR) + kGuard, kSentinel);
          std::vector<float> c(M * p.ldc + kGuard, kSentinel);
          ukernel::GemmArgs g;
          g.M = M, g.N = N, g.K = K, g.kc = kc, g.mc = 2 * MR;
          g.a = p.a.data(), g.lda = p.lda;
          g.w = denseRun ? panels.data() : packed.values.data();
          g.bias = withBias ? p.bias.data() : nullptr;
          g.c = c.data(), g.ldc = p.ldc;
          g.a_packed = directA ? nullptr : ws.data();
          g.split_rows = splitRows, g.direct_a = directA;
          if (!denseRun)
            g.row_ptr = packed.ptr.data(), g.row_k = packed.k.data();
          EpilogueLog log;
          if (denseRun)
            ukernel::gemm<MR, NR>(pool[threads - 1], g, dense,
                                  log.epilogue(c.data(), p.ldc, N),
                                  log.rowEpilogue(c.data(), p.ldc, N));
          else
            ukernel::gemm<MR, NR>(pool[threads - 1], g, kernel,
                                  log.epilogue(c.data(), p.ldc, N),
                                  log.rowEpilogue(c.data(), p.ldc, N));
          int64_t wsClobbered = 0;
          for (size_t i = ws.size() - kGuard; i < ws.size(); ++i)
            wsClobbered += !sameBits(ws[i], kSentinel);
          if (directA)
            for (size_t i = 0; i < ws.size(); ++i)
              wsClobbered += !sameBits(ws[i], kSentinel);
          CAPTURE(M, N, K, density, packed.rows, nkb, withBias, threads,
                  splitRows, directA, denseRun);
          checkRun(p, withBias, c, log, NR, splitRows ? MR : 2 * MR, MR);
          CHECK(wsClobbered == 0);
          if (run == 0)
            first = c;
          else
            CHECK(std::memcmp(first.data(), c.data(),
                              c.size() * sizeof(float)) == 0);
        }
      }
    }
}

// BSR-K through bsr_k_gemm<MR, LANES>: densities 0, 0.1, 0.5 (output 1 and
// the second group of LANES outputs empty) and 1; without and with bias;
// chunks of 1 group and of 32; 1, 2 and 3 threads: all bit-identical.
template <int R, int MR, int LANES> void checkBsrKDriver(F32BsrKFn kernel) {
  std::mt19937 rng(R * 100 + MR);
  ThreadPool *pool = pools();
  for (const auto &shape : driverShapes(LANES, R, 320))
    for (double density : kDensities) {
      const int64_t M = shape[0], N = shape[1], K = shape[2];
      std::vector<float> w =
          blockSparse(rng, K, N, R, 1, density, LANES, 2 * LANES);
      if (density > 0.0 && density < 1.0 && N > 1)
        for (int64_t k = 0; k < K; ++k)
          w[k * N + 1] = 0.0f;
      const Problem p = problem(rng, M, N, K, std::move(w));
      const int64_t kc = 128, nkb = bsr::k_blocks(K, kc);
      const BsrN packed = packK(p.w, K, N, R, kc);
      for (int withBias = 0; withBias < 2; ++withBias) {
        std::vector<float> first;
        for (int run = 0; run < 6; ++run) {
          const int threads = 1 + run % 3;
          const int64_t chunk = run < 3 ? 32 : 1;
          std::vector<float> c(M * p.ldc + kGuard, kSentinel);
          ukernel::BsrKArgs g{M,
                              N,
                              K,
                              kc,
                              p.a.data(),
                              p.lda,
                              packed.values.data(),
                              packed.ptr.data(),
                              packed.k.data(),
                              withBias ? p.bias.data() : nullptr,
                              c.data(),
                              p.ldc,
                              chunk};
          EpilogueLog log;
          ukernel::bsr_k_gemm<MR, LANES>(pool[threads - 1], g, kernel,
                                         log.epilogue(c.data(), p.ldc, N),
                                         log.rowEpilogue(c.data(), p.ldc, N));
          CAPTURE(M, N, K, density, packed.rows, nkb, withBias, threads, chunk);
          checkRun(p, withBias, c, log, LANES, 1, MR);
          if (run == 0)
            first = c;
          else
            CHECK(std::memcmp(first.data(), c.data(),
                              c.size() * sizeof(float)) == 0);
        }
      }
    }
}

} // namespace

// Two test cases per named instance: the kernel alone, and the driver
// running it.
#define CANAO_BSR_N_TESTS(NAME, MR, NR, TAG, GET, DENSE)                       \
  TEST_CASE(#NAME " matches the reference loop", "[bsr][ukernel]" TAG) {       \
    if (F32BsrNFn fn = GET)                                                    \
      checkBsrNKernel<MR, NR>(fn);                                             \
  }                                                                            \
  TEST_CASE("gemm<" #MR "," #NR "> driver with " #NAME                         \
            " on block-sparse weights, 1-3 threads",                           \
            "[bsr][gemm]" TAG) {                                               \
    if (F32BsrNFn fn = GET)                                                    \
      checkBsrNDriver<MR, NR>(fn, DENSE);                                      \
  }

#define CANAO_BSR_K_TESTS(NAME, R, MR, LANES, TAG, GET)                        \
  TEST_CASE(#NAME " matches the reference loop", "[bsr][ukernel]" TAG) {       \
    if (F32BsrKFn fn = GET)                                                    \
      checkBsrKKernel<R, MR, LANES>(fn);                                       \
  }                                                                            \
  TEST_CASE("bsr_k_gemm<" #MR "," #LANES "> driver with " #NAME                \
            " on block-sparse weights, 1-3 threads",                           \
            "[bsr][gemm]" TAG) {                                               \
    if (F32BsrKFn fn = GET)                                                    \
      checkBsrKDriver<R, MR, LANES>(fn);                                       \
  }

CANAO_BSR_N_TESTS(f32_bsr_1x8_4x8_generic, 4, 8, "[generic]",
                  &ukernel::f32_bsr_1x8_4x8_generic,
                  &ukernel::f32_gemm_4x8_generic)
CANAO_BSR_N_TESTS(f32_bsr_1x8_6x8_generic, 6, 8, "[generic]",
                  &ukernel::f32_bsr_1x8_6x8_generic,
                  &ukernel::f32_gemm_6x8_generic)
CANAO_BSR_N_TESTS(f32_bsr_1x16_6x16_avx2, 6, 16, "[avx2]",
                  avx2Only("f32_bsr_1x16_6x16_avx2",
                           canao_test::avx2_f32_bsr_n(6, 16)),
                  canao_test::avx2_f32_gemm(6, 16))
CANAO_BSR_N_TESTS(f32_bsr_1x24_4x24_avx2, 4, 24, "[avx2]",
                  avx2Only("f32_bsr_1x24_4x24_avx2",
                           canao_test::avx2_f32_bsr_n(4, 24)),
                  canao_test::avx2_f32_gemm(4, 24))
CANAO_BSR_N_TESTS(f32_bsr_1x32_12x32_avx512, 12, 32, "[avx512]",
                  avx512Only("f32_bsr_1x32_12x32_avx512",
                             canao_test::avx512_f32_bsr_n(12, 32)),
                  canao_test::avx512_f32_gemm(12, 32))
CANAO_BSR_N_TESTS(f32_bsr_1x32_8x32_avx512, 8, 32, "[avx512]",
                  avx512Only("f32_bsr_1x32_8x32_avx512",
                             canao_test::avx512_f32_bsr_n(8, 32)),
                  canao_test::avx512_f32_gemm(8, 32))
CANAO_BSR_N_TESTS(f32_bsr_1x64_6x64_avx512, 6, 64, "[avx512]",
                  avx512Only("f32_bsr_1x64_6x64_avx512",
                             canao_test::avx512_f32_bsr_n(6, 64)),
                  canao_test::avx512_f32_gemm(6, 64))

CANAO_BSR_K_TESTS(f32_bsr_4x1_12x4_generic, 4, 12, 4, "[generic]",
                  &ukernel::f32_bsr_4x1_12x4_generic)
CANAO_BSR_K_TESTS(f32_bsr_8x1_6x4_generic, 8, 6, 4, "[generic]",
                  &ukernel::f32_bsr_8x1_6x4_generic)
CANAO_BSR_K_TESTS(f32_bsr_16x1_3x4_generic, 16, 3, 4, "[generic]",
                  &ukernel::f32_bsr_16x1_3x4_generic)
CANAO_BSR_K_TESTS(f32_bsr_8x1_12x8_avx2, 8, 12, 8, "[avx2]",
                  avx2Only("f32_bsr_8x1_12x8_avx2",
                           canao_test::avx2_f32_bsr_k(8, 12)))
CANAO_BSR_K_TESTS(f32_bsr_16x1_6x8_avx2, 16, 6, 8, "[avx2]",
                  avx2Only("f32_bsr_16x1_6x8_avx2",
                           canao_test::avx2_f32_bsr_k(16, 6)))
CANAO_BSR_K_TESTS(f32_bsr_16x1_8x16_avx512, 16, 8, 16, "[avx512]",
                  avx512Only("f32_bsr_16x1_8x16_avx512",
                             canao_test::avx512_f32_bsr_k(16, 8)))
#if defined(__aarch64__) && defined(__ARM_NEON)
CANAO_BSR_N_TESTS(f32_bsr_1x8_8x8_neon, 8, 8, "[neon]",
                  &ukernel::f32_bsr_1x8_8x8_neon, &ukernel::f32_gemm_8x8_neon)
CANAO_BSR_N_TESTS(f32_bsr_1x8_12x8_neon, 12, 8, "[neon]",
                  &ukernel::f32_bsr_1x8_12x8_neon, &ukernel::f32_gemm_12x8_neon)
CANAO_BSR_N_TESTS(f32_bsr_1x8_6x8_neon, 6, 8, "[neon]",
                  &ukernel::f32_bsr_1x8_6x8_neon, &ukernel::f32_gemm_6x8_neon)
CANAO_BSR_K_TESTS(f32_bsr_4x1_16x4_neon, 4, 16, 4, "[neon]",
                  &ukernel::f32_bsr_4x1_16x4_neon)
CANAO_BSR_K_TESTS(f32_bsr_8x1_8x4_neon, 8, 8, 4, "[neon]",
                  &ukernel::f32_bsr_8x1_8x4_neon)
CANAO_BSR_K_TESTS(f32_bsr_16x1_8x4_neon, 16, 8, 4, "[neon]",
                  &ukernel::f32_bsr_16x1_8x4_neon)
#endif
