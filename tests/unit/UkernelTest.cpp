// f32 GEMM microkernels, the packing routines and the GEMM driver
// (runtime/canao/ukernels/{f32_gemm,gemm}.h) against plain reference loops
// accumulated in double.
//
// The AVX2 / AVX-512 instances come from UkernelAvx2.cpp / UkernelAvx512.cpp
// through function pointers (UkernelIsa.h says why); their tests WARN and
// return when this CPU lacks the instruction set.
#include "CpuFeatures.h"
#include "UkernelIsa.h"

#include "canao/threadpool.h"
#include "canao/ukernels/f32_gemm.h"
#include "canao/ukernels/gemm.h"

#include <array>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <tuple>
#include <vector>

using namespace canao_rt;
using canao_rt::ukernel::F32GemmFn;

namespace {

// Outside every region a routine may write; checked bit for bit.
constexpr float kSentinel = -12345.5f;
constexpr int64_t kGuard = 67;

std::vector<float> randomFloats(std::mt19937 &rng, int64_t n) {
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = uni(rng);
  return v;
}

using canao_test::cpuHasAvx2;
using canao_test::cpuHasAvx512;

// The ISA instance, or nullptr after a WARN saying why its test is skipped
// (Catch2 v2 has no SKIP).
F32GemmFn avx2Kernel(const char *name, int mr, int nr) {
  F32GemmFn fn = canao_test::avx2_f32_gemm(mr, nr);
  if (!fn)
    WARN(name << " skipped: UkernelAvx2.cpp was built without -mavx2 -mfma");
  else if (!cpuHasAvx2())
    WARN(name << " skipped: this CPU lacks AVX2/FMA");
  else
    return fn;
  return nullptr;
}

F32GemmFn avx512Kernel(const char *name, int mr, int nr) {
  F32GemmFn fn = canao_test::avx512_f32_gemm(mr, nr);
  if (!fn)
    WARN(name << " skipped: UkernelAvx512.cpp was built without -mavx512f");
  else if (!cpuHasAvx512())
    WARN(name << " skipped: this CPU lacks AVX-512 F/VL/BW/DQ");
  else
    return fn;
  return nullptr;
}

// ---- the microkernel alone --------------------------------------------------

// Every m = 1..MR, several kc, the three init modes, without a prefetch
// panel and with one (pf_shift 0 and 3), into C with ldc > NR. Rows >= m of the
// packed A tile are NaN: the kernel must not let them into rows < m, and must
// write nothing outside rows [0, m) x columns [0, NR).
// `direct`: A row-major in place (lda = kc + 3) instead of packed; rows >= m
// of it are NaN.
template <int MR, int NR> void checkKernel(F32GemmFn kernel, bool direct) {
  std::mt19937 rng(MR * 1000 + NR);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  const int64_t ldc = NR + 5;
  static const char *const kModes[] = {"zeros (init = nullptr)",
                                       "bias row (init_ld = 0)",
                                       "accumulate (init = c, init_ld = ldc)"};
  for (int64_t kc : {1, 7, 64, 300})
    for (int m = 1; m <= MR; ++m)
      for (int mode = 0; mode < 3; ++mode)
        for (int pfShift : {-1, 0, 3}) { // -1: prefetch == nullptr
          std::vector<float> a(kc * MR);
          for (int64_t k = 0; k < kc; ++k)
            for (int r = 0; r < MR; ++r)
              a[k * MR + r] = r < m ? uni(rng) : NAN;
          const int64_t lda = direct ? kc + 3 : 0;
          std::vector<float> rowMajor(MR * (kc + 3), NAN);
          for (int64_t k = 0; k < kc; ++k)
            for (int r = 0; r < m; ++r)
              rowMajor[r * (kc + 3) + k] = a[k * MR + r];
          std::vector<float> w = randomFloats(rng, kc * NR);
          std::vector<float> next = randomFloats(rng, kc * NR);
          std::vector<float> bias = randomFloats(rng, NR);
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
          kernel(m, kc, direct ? rowMajor.data() : a.data(), lda, w.data(),
                 c.data(), ldc, initPtr, mode == 2 ? ldc : 0,
                 pfShift < 0 ? nullptr : next.data(),
                 pfShift < 0 ? 0 : pfShift);

          int64_t wrong = 0, clobbered = 0;
          double worst = 0.0; // max |err| / (1 + sum |terms|)
          for (int64_t i = 0; i < static_cast<int64_t>(c.size()); ++i) {
            const int64_t r = i / ldc, j = i % ldc;
            if (r >= m || j >= NR) {
              clobbered += c[i] != kSentinel;
              continue;
            }
            double ref = init[r * NR + j], mag = std::fabs(ref);
            for (int64_t k = 0; k < kc; ++k) {
              const double t = double(a[k * MR + r]) * w[k * NR + j];
              ref += t;
              mag += std::fabs(t);
            }
            const double err = std::fabs(double(c[i]) - ref);
            if (!(err <= 1e-5 * (1.0 + mag)))
              ++wrong;
            worst = std::fmax(worst, err / (1.0 + mag));
          }
          CAPTURE(kc, m, kModes[mode], pfShift, direct, worst);
          CHECK(wrong == 0);
          CHECK(clobbered == 0);
        }
}

// ---- the driver -------------------------------------------------------------

// One shape's inputs and its double reference (without bias), shared by
// every kernel's driver test.
struct Problem {
  int64_t M, N, K, lda;
  std::vector<float> a, b, bias; // a: M x lda, b: K x N
  std::vector<double> ref, mag;  // M x N: sum a*b, sum |a*b|
};

const Problem &problem(int64_t M, int64_t N, int64_t K) {
  static std::map<std::tuple<int64_t, int64_t, int64_t>,
                  std::unique_ptr<Problem>>
      cache;
  std::unique_ptr<Problem> &slot = cache[std::make_tuple(M, N, K)];
  if (slot)
    return *slot;
  slot.reset(new Problem);
  Problem &p = *slot;
  std::mt19937 rng(static_cast<uint32_t>(M * 1000003 + N * 1009 + K));
  p.M = M, p.N = N, p.K = K, p.lda = K + 2;
  p.a = randomFloats(rng, M * p.lda);
  p.b = randomFloats(rng, K * N);
  p.bias = randomFloats(rng, N);
  p.ref.assign(M * N, 0.0);
  p.mag.assign(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) {
      const double aik = p.a[i * p.lda + k];
      const float *brow = &p.b[k * N];
      double *ref = &p.ref[i * N], *mag = &p.mag[i * N];
      for (int64_t j = 0; j < N; ++j) {
        const double t = aik * brow[j];
        ref[j] += t;
        mag[j] += std::fabs(t);
      }
    }
  return p;
}

// The epilogue every driver run uses: it records its (n0, nb) and rewrites
// its columns as c * 0.5 + 1, so a call before a column is final (more k
// blocks accumulated on top) shows up as a wrong value.
// The row epilogue then rewrites whole rows as c * 2 - 3: applied in the
// other order the result differs (x - 0.5 instead of x - 1).
struct EpilogueLog {
  std::mutex mutex;
  std::vector<std::array<int64_t, 4>> calls;    // m0, m1, n0, nb
  std::vector<std::array<int64_t, 2>> rowCalls; // m0, m1
};

template <int MR, int NR>
void runDriver(ThreadPool &pool, const Problem &p, bool withBias,
               bool splitRows, bool directA, F32GemmFn kernel,
               std::vector<float> &c, EpilogueLog &log,
               int64_t &packedClobbered) {
  const int64_t M = p.M, N = p.N, K = p.K, ldc = N + 3;
  const int64_t panels = (N + NR - 1) / NR;
  std::vector<float> w(panels * K * NR);
  ukernel::pack_b<NR>(K, N, p.b.data(), N, w.data());
  std::vector<float> packed(
      ukernel::gemm_workspace_floats(M, K, 256, MR) + kGuard, kSentinel);
  c.assign(M * ldc + kGuard, kSentinel);
  ukernel::GemmArgs g;
  // kc = 256 splits K; mc = 2 * MR splits M = 13 and 128 into row blocks.
  g.M = M, g.N = N, g.K = K, g.kc = 256, g.mc = 2 * MR;
  g.a = p.a.data(), g.lda = p.lda, g.w = w.data();
  g.bias = withBias ? p.bias.data() : nullptr;
  // Reading A in place, the driver must not touch the workspace.
  g.c = c.data(), g.ldc = ldc, g.a_packed = directA ? nullptr : packed.data();
  g.split_rows = splitRows;
  g.direct_a = directA;
  float *cp = c.data();
  ukernel::gemm<MR, NR>(
      pool, g, kernel,
      [&](int64_t m0, int64_t m1, int64_t n0, int64_t nb) {
        {
          std::lock_guard<std::mutex> lock(log.mutex);
          log.calls.push_back({m0, m1, n0, nb});
        }
        for (int64_t r = m0; r < m1; ++r)
          for (int64_t j = n0; j < n0 + nb && j < N; ++j)
            cp[r * ldc + j] = cp[r * ldc + j] * 0.5f + 1.0f;
      },
      [&](int64_t m0, int64_t m1) {
        {
          std::lock_guard<std::mutex> lock(log.mutex);
          log.rowCalls.push_back({m0, m1});
        }
        for (int64_t r = m0; r < m1; ++r)
          for (int64_t j = 0; j < N; ++j)
            cp[r * ldc + j] = cp[r * ldc + j] * 2.0f - 3.0f;
      });
  packedClobbered = 0;
  for (size_t i = packed.size() - kGuard; i < packed.size(); ++i)
    packedClobbered += packed[i] != kSentinel;
}

// M = 1, 13, 128; N = 5, 32, 100, 768; K = 3, 768, 1000 with kc = 256 (so
// K = 768 and 1000 run 3 and 4 k blocks); without and with bias; threads
// split panels or rows; A packed or read in place; 1 and 2 threads; all
// eight bit-identical.
template <int MR, int NR> void checkDriver(F32GemmFn kernel) {
  ThreadPool pools[2];
  REQUIRE(pools[1].resize(2));
  REQUIRE(pools[1].size() == 2);
  for (int64_t M : {1, 13, 128})
    for (int64_t N : {5, 32, 100, 768})
      for (int64_t K : {3, 768, 1000})
        for (int withBias = 0; withBias < 2; ++withBias) {
          const Problem &p = problem(M, N, K);
          const int64_t ldc = N + 3;
          std::vector<float> c[8];
          for (int run = 0; run < 8; ++run) {
            const int threads = 1 + run % 2;
            const bool splitRows = run & 2, directA = run & 4;
            EpilogueLog log;
            int64_t packedClobbered = 0;
            runDriver<MR, NR>(pools[threads - 1], p, withBias, splitRows,
                              directA, kernel, c[run], log, packedClobbered);
            const std::vector<float> &out = c[run];

            // Every element finished by exactly one epilogue call, on
            // panel and row-block boundaries (row split: row blocks start
            // at a thread's first tile).
            std::vector<int> covered(M * N, 0);
            int64_t badCalls = 0;
            for (const auto &call : log.calls) {
              const int64_t m0 = call[0], m1 = call[1], n0 = call[2],
                            nb = call[3];
              const bool ok = n0 >= 0 && n0 < N && n0 % NR == 0 &&
                              nb == std::min<int64_t>(NR, N - n0) && m0 >= 0 &&
                              m0 < m1 && m1 <= M &&
                              m0 % (splitRows ? MR : 2 * MR) == 0;
              badCalls += !ok;
              for (int64_t r = m0; ok && r < m1; ++r)
                for (int64_t j = n0; j < n0 + nb; ++j)
                  ++covered[r * N + j];
            }
            int64_t notOnce = 0;
            for (int x : covered)
              notOnce += x != 1;
            // Every row finished by exactly one row-epilogue call, on
            // tile boundaries.
            std::vector<int> rowsCovered(M, 0);
            for (const auto &call : log.rowCalls) {
              const bool ok = call[0] >= 0 && call[0] < call[1] &&
                              call[1] <= M && call[0] % MR == 0;
              badCalls += !ok;
              for (int64_t r = call[0]; ok && r < call[1]; ++r)
                ++rowsCovered[r];
            }
            for (int x : rowsCovered)
              notOnce += x != 1;

            int64_t wrong = 0, clobbered = 0;
            double worst = 0.0;
            for (int64_t i = 0; i < static_cast<int64_t>(out.size()); ++i) {
              const int64_t r = i / ldc, j = i % ldc;
              if (r >= M || j >= N) {
                clobbered += out[i] != kSentinel;
                continue;
              }
              const double bias = withBias ? p.bias[j] : 0.0;
              const double ref = (p.ref[r * N + j] + bias) * 0.5 * 2.0 - 1.0;
              const double mag = p.mag[r * N + j] + std::fabs(bias);
              const double err = std::fabs(double(out[i]) - ref);
              if (!(err <= 2e-5 * (1.0 + mag)))
                ++wrong;
              worst = std::fmax(worst, err / (1.0 + mag));
            }
            CAPTURE(M, N, K, withBias, threads, splitRows, directA, worst);
            CHECK(badCalls == 0);
            CHECK(notOnce == 0);
            CHECK(wrong == 0);
            CHECK(clobbered == 0);
            CHECK(packedClobbered == 0);
          }
          CAPTURE(M, N, K, withBias);
          for (int run = 1; run < 8; ++run) {
            CAPTURE(run);
            REQUIRE(c[0].size() == c[run].size());
            CHECK(std::memcmp(c[0].data(), c[run].data(),
                              c[0].size() * sizeof(float)) == 0);
          }
        }
}

// ---- packing ----------------------------------------------------------------

template <int MR> void checkPackA() {
  std::mt19937 rng(MR);
  for (int64_t m : {int64_t(1), int64_t(MR - 1), int64_t(MR), int64_t(MR + 1),
                    int64_t(2 * MR + 3)})
    for (int64_t k : {1, 5, 8, 16, 17})
      for (float scale : {1.0f, -0.375f}) {
        const int64_t lda = k + 3, tiles = (m + MR - 1) / MR;
        const std::vector<float> a = randomFloats(rng, m * lda);
        std::vector<float> out(tiles * k * MR + kGuard, kSentinel);
        ukernel::pack_a<MR>(m, k, a.data(), lda, scale, out.data());
        int64_t wrong = 0;
        for (int64_t t = 0; t < tiles; ++t)
          for (int64_t kk = 0; kk < k; ++kk)
            for (int64_t r = 0; r < MR; ++r) {
              const int64_t row = t * MR + r;
              const float want = row < m ? a[row * lda + kk] * scale : 0.0f;
              const float got = out[(t * k + kk) * MR + r];
              wrong += std::memcmp(&got, &want, sizeof got) != 0;
            }
        for (size_t i = out.size() - kGuard; i < out.size(); ++i)
          wrong += out[i] != kSentinel;
        CAPTURE(MR, m, k, scale);
        CHECK(wrong == 0);
      }
}

// pack_b of B and pack_bt of B^T give the same panels, and those are
// out[p][kk][c] = B[kk][p * NR + c] (0 past column n).
template <int NR> void checkPackB() {
  std::mt19937 rng(NR);
  for (int64_t n : {int64_t(1), int64_t(NR - 1), int64_t(NR), int64_t(NR + 1),
                    int64_t(2 * NR + 5)})
    for (int64_t k : {1, 3, 10}) {
      const int64_t ldb = n + 2, ldbt = k + 4, panels = (n + NR - 1) / NR;
      const std::vector<float> b = randomFloats(rng, k * ldb);
      std::vector<float> bt(n * ldbt, NAN);
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t j = 0; j < n; ++j)
          bt[j * ldbt + kk] = b[kk * ldb + j];
      std::vector<float> out(panels * k * NR + kGuard, kSentinel);
      std::vector<float> outT(out);
      ukernel::pack_b<NR>(k, n, b.data(), ldb, out.data());
      ukernel::pack_bt<NR>(k, n, bt.data(), ldbt, outT.data());
      int64_t wrong = 0;
      for (int64_t p = 0; p < panels; ++p)
        for (int64_t kk = 0; kk < k; ++kk)
          for (int64_t cc = 0; cc < NR; ++cc) {
            const int64_t col = p * NR + cc;
            const float want = col < n ? b[kk * ldb + col] : 0.0f;
            const float got = out[(p * k + kk) * NR + cc];
            wrong += std::memcmp(&got, &want, sizeof got) != 0;
          }
      for (size_t i = out.size() - kGuard; i < out.size(); ++i)
        wrong += out[i] != kSentinel;
      CAPTURE(NR, n, k);
      CHECK(wrong == 0);
      CHECK(std::memcmp(out.data(), outT.data(), out.size() * sizeof(float)) ==
            0);
    }
}

} // namespace

TEST_CASE("pack_a lays out [k][MR] tiles, scaled, missing rows 0",
          "[ukernel][pack]") {
  checkPackA<4>();
  checkPackA<6>();
  checkPackA<8>();
  checkPackA<12>();
}

TEST_CASE("pack_b and pack_bt lay out [k][NR] panels, missing columns 0",
          "[ukernel][pack]") {
  checkPackB<8>();
  checkPackB<16>();
  checkPackB<24>();
  checkPackB<32>();
  checkPackB<64>();
}

// Two test cases per named instance: the kernel alone, and the driver
// running it.
#define CANAO_UKERNEL_TESTS(NAME, MR, NR, TAG, GET)                            \
  TEST_CASE(#NAME " matches the reference loop", "[ukernel]" TAG) {            \
    if (F32GemmFn fn = GET)                                                    \
      for (bool direct : {false, true})                                        \
        checkKernel<MR, NR>(fn, direct);                                       \
  }                                                                            \
  TEST_CASE(                                                                   \
      "gemm<" #MR "," #NR "> driver with " #NAME                               \
      " on odd shapes, k blocks, bias, epilogues, splits, 1 and 2 threads",    \
      "[ukernel][gemm]" TAG) {                                                 \
    if (F32GemmFn fn = GET)                                                    \
      checkDriver<MR, NR>(fn);                                                 \
  }

CANAO_UKERNEL_TESTS(f32_gemm_4x8_generic, 4, 8, "[generic]",
                    &ukernel::f32_gemm_4x8_generic)
CANAO_UKERNEL_TESTS(f32_gemm_6x8_generic, 6, 8, "[generic]",
                    &ukernel::f32_gemm_6x8_generic)
CANAO_UKERNEL_TESTS(f32_gemm_6x16_avx2, 6, 16, "[avx2]",
                    avx2Kernel("f32_gemm_6x16_avx2", 6, 16))
CANAO_UKERNEL_TESTS(f32_gemm_4x24_avx2, 4, 24, "[avx2]",
                    avx2Kernel("f32_gemm_4x24_avx2", 4, 24))
CANAO_UKERNEL_TESTS(f32_gemm_12x32_avx512, 12, 32, "[avx512]",
                    avx512Kernel("f32_gemm_12x32_avx512", 12, 32))
CANAO_UKERNEL_TESTS(f32_gemm_8x32_avx512, 8, 32, "[avx512]",
                    avx512Kernel("f32_gemm_8x32_avx512", 8, 32))
CANAO_UKERNEL_TESTS(f32_gemm_6x64_avx512, 6, 64, "[avx512]",
                    avx512Kernel("f32_gemm_6x64_avx512", 6, 64))
// NEON is the AArch64 baseline: these exist in every aarch64 build and run
// under qemu (tests/unit/run_aarch64.sh).
#if defined(__aarch64__) && defined(__ARM_NEON)
CANAO_UKERNEL_TESTS(f32_gemm_8x8_neon, 8, 8, "[neon]",
                    &ukernel::f32_gemm_8x8_neon)
CANAO_UKERNEL_TESTS(f32_gemm_12x8_neon, 12, 8, "[neon]",
                    &ukernel::f32_gemm_12x8_neon)
CANAO_UKERNEL_TESTS(f32_gemm_6x8_neon, 6, 8, "[neon]",
                    &ukernel::f32_gemm_6x8_neon)
#endif

// gemm_packed: attention's single-thread product over packed operands,
// including a narrow last panel (N not a multiple of NR) and a partial last
// tile (M not a multiple of MR), written with a leading dimension > N; A
// packed, or read in place (lda = K).
TEST_CASE("gemm_packed with f32_gemm_4x8_generic matches the reference loop",
          "[generic]") {
  for (int64_t M : {1, 13})
    for (int64_t N : {8, 37})
      for (bool direct : {false, true}) {
        const int64_t K = 20, ldc = N + 5;
        std::vector<float> a(M * K), b(K * N);
        for (int64_t i = 0; i < M * K; ++i)
          a[i] = float((i * 7) % 11) - 5.0f;
        for (int64_t i = 0; i < K * N; ++i)
          b[i] = float((i * 5) % 13) * 0.25f - 1.0f;
        std::vector<float> ap(ukernel::packed_a_floats(M, K, 4)),
            bp((N + 7) / 8 * 8 * K), c(M * ldc, -7.0f);
        ukernel::pack_a<4>(M, K, a.data(), K, 1.0f, ap.data());
        ukernel::pack_b<8>(K, N, b.data(), N, bp.data());
        ukernel::gemm_packed<4, 8>(ukernel::f32_gemm_4x8_generic, M, N, K,
                                   direct ? a.data() : ap.data(),
                                   direct ? K : 0, bp.data(), c.data(), ldc);
        int64_t wrong = 0, clobbered = 0;
        for (int64_t m = 0; m < M; ++m)
          for (int64_t j = 0; j < ldc; ++j) {
            if (j >= N) {
              clobbered += c[m * ldc + j] != -7.0f;
              continue;
            }
            double ref = 0;
            for (int64_t k = 0; k < K; ++k)
              ref += double(a[m * K + k]) * b[k * N + j];
            wrong += std::fabs(c[m * ldc + j] - ref) > 1e-4;
          }
        CAPTURE(M, N, direct);
        CHECK(wrong == 0);
        CHECK(clobbered == 0);
      }
}
