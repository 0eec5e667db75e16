//===- gemm_bench.cpp - fp32 peak and GEMM microkernels on this machine ---===//
//
//   canao-gemm-bench [--peak] [--kernel NAME] [--kc N] [--threads 1,2]
//                    [--reps N]
//   canao-gemm-bench --tune M:K:N[,M:K:N...] [--kc-list 256,512,768]
//                    [--pf-list 2,3] [--reps N]
//   canao-gemm-bench --tune-layer-norm M:K:N[,...] --kernel NAME --kc N
//                    --pf N --threads T [--weights-bytes B] [--reps N]
//   canao-gemm-bench --sparse BLOCK:DENSITY[,...] [--kernel NAME] [--kc N]
//                    [--threads 1,2] [--reps N]
//   --direct-a MRxNR[,...]: these tiles' kernels read A in place (the
//                    target table's directATiles; canaoc --tune passes them)
//
// --peak: an FMA loop with independent accumulators on every participant of
// the runtime's thread pool (workers pinned, the caller pinned here too);
// prints `peak_gflops_1t=` and `peak_gflops_2t=` (medians of 15 trials),
// and `kernel_gflops_Nt=`: the microkernel alone with A and W in L1, the
// most a GEMM built on it can reach.
// Without --peak: the runtime GEMM driver (canao/ukernels/gemm.h, the code
// generated models call) on BERT's shapes with M = 128: GFLOP/s, and % of
// both peaks as the median of per-run ratios (each run is followed by a
// short FMA-loop burst and a short in-L1 kernel burst), which holds up on a
// machine whose speed changes from second to second.
//
// --tune: every kernel instance this build has x every k block x every
// prefetch spread (log2 of the tiles that prefetch the next panel), on the
// given shapes at 1 thread; one line per candidate, machine-readable:
//   candidate <kernel> <mr> <nr> <kc> <pf> <total ms over the shapes>
// `canaoc --tune` embeds this file, builds it with the target's flags and
// picks the fastest candidate.
//
// --tune-layer-norm: the two ways a dense with a residual + LayerNorm
// epilogue can run on T threads (GemmArgs::split_rows): threads split the W
// panels and normalize in a pass of their own after a barrier, or split the
// row tiles and normalize their own rows in the same pass. Alternated run
// by run, with as many copies of the weights as make B bytes (the model's
// own weights, so they come from the cache level they come from in the
// model); one line per shape:
//   layer_norm <M> <K> <N> <panels ms> <rows ms>
//
// --sparse: block-sparse weights (runtime bsr_pack.h) on the same shapes,
// M = 128: for each BLOCK:DENSITY (e.g. 16x1:0.25,1x16:0.25) a random W
// with that fraction of its RxC blocks kept, packed for this build's best
// BSR kernel of that orientation (Rx1: the BSR-K instance with the largest
// R that divides the block's; 1xC: BSR-N on the widest dense tile whose NR
// divides C, A in place where the target table says so, 6x16 unless
// --direct-a), against the dense kernel (--kernel) on the dense W, run by
// run in ABBA order, each with as many weight copies as make 64 MiB; the
// two results are checked against each other. One line per shape and
// thread count, ms the medians, speedup the median of per-pair ratios:
//   sparse <block> <density> <M>:<K>:<N> <threads> dense_ms=<x>
//     sparse_ms=<y> speedup=<x/y> nz_gflops=<y's, on kept weights>
//     dense_gflops=<x's>
//
// Built with -march=native here: it measures this machine, nothing else.
//
//===----------------------------------------------------------------------===//
#include "canao/threadpool.h"
#include "canao/ukernels/bsr.h"
#include "canao/ukernels/gemm.h"
#include "canao/ukernels/rows.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace canao_rt;
using Clock = std::chrono::steady_clock;

namespace {

#if defined(__AVX512F__)
using Best = isa::Avx512;
#elif defined(__AVX2__) && defined(__FMA__)
using Best = isa::Avx2;
#else
using Best = isa::Generic;
#endif

// The next-panel prefetch spread of codegen/Target.cpp's entry for this ISA.
#if !defined(__AVX512F__) && defined(__AVX2__)
constexpr int kPrefetchTilesLog2 = 2;
#else
constexpr int kPrefetchTilesLog2 = 3;
#endif

// BERT's GEMMs (K x N; M = 128): QKV, attention output, FFN in and out.
const int64_t kBertShapes[][2] = {
    {768, 768}, {768, 2304}, {768, 3072}, {3072, 768}};

struct Instance {
  const char *name;
  int mr, nr;
  ukernel::F32GemmFn fn;
};

// The tiles whose kernel reads A in place (--direct-a MRxNR,...: the target
// table's directATiles, which canaoc --tune passes), so each candidate runs
// the way generated code will run it.
std::vector<std::pair<int, int>> &directATiles() {
  static std::vector<std::pair<int, int>> tiles;
  return tiles;
}

bool readsADirectly(const Instance &inst) {
  for (auto [r, c] : directATiles())
    if (r == inst.mr && c == inst.nr)
      return true;
  return false;
}

const std::vector<Instance> &instances() {
  using namespace ukernel;
  static const std::vector<Instance> all = {
#if defined(__AVX512F__)
    {"f32_gemm_12x32_avx512", 12, 32, f32_gemm_12x32_avx512},
    {"f32_gemm_8x32_avx512", 8, 32, f32_gemm_8x32_avx512},
    {"f32_gemm_6x64_avx512", 6, 64, f32_gemm_6x64_avx512},
#endif
#if defined(__AVX2__) && defined(__FMA__)
    {"f32_gemm_4x24_avx2", 4, 24, f32_gemm_4x24_avx2},
    {"f32_gemm_6x16_avx2", 6, 16, f32_gemm_6x16_avx2},
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    {"f32_gemm_8x8_neon", 8, 8, f32_gemm_8x8_neon},
    {"f32_gemm_12x8_neon", 12, 8, f32_gemm_12x8_neon},
    {"f32_gemm_6x8_neon", 6, 8, f32_gemm_6x8_neon},
#endif
    {"f32_gemm_4x8_generic", 4, 8, f32_gemm_4x8_generic},
    {"f32_gemm_6x8_generic", 6, 8, f32_gemm_6x8_generic},
  };
  return all;
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void pin_caller() {
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#endif
}

// Independent FMA chains: 16 cover 2 ports x 4 cycles of latency with room
// to spare; on 16-register ISAs 12 (still >= 8) so that the chains, x and y
// stay in registers (16 chains spilled on AVX2 and measured half the peak).
// The chains converge (x < 1), so no denormals slow it down; the sum keeps
// the loop alive.
constexpr int kChains = Best::registers >= 32 ? 16 : 12;

__attribute__((noinline)) float fma_loop(int64_t iters) {
  using V = Best::V;
  V acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = Best::set1(1.0f + i);
  const V x = Best::set1(0.999999f), y = Best::set1(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i)
      acc[i] = Best::fma(acc[i], x, y);
  }
  float out[Best::lanes], sum = 0;
  for (int i = 0; i < kChains; ++i) {
    Best::store(out, acc[i]);
    sum += out[0];
  }
  return sum;
}

// One burst of the FMA loop on `threads` participants (pool sized by the
// caller), in GFLOP/s.
double peak_trial(ThreadPool &pool, int threads, int64_t iters) {
  static volatile float sink = 0;
  auto t0 = Clock::now();
  pool.parallel_for(threads, [&](int64_t lo, int64_t hi, int) {
    for (int64_t i = lo; i < hi; ++i)
      sink = sink + fma_loop(iters);
  });
  double s = seconds(t0, Clock::now());
  return 2.0 * kChains * Best::lanes * iters * threads / s / 1e9;
}

// One burst of the microkernel alone with A and W in L1 (kc 256: 12 KB of
// A, 32 KB of W for 12x32; 24 KB of W for 4x24): the most a GEMM built on
// it can reach on this machine.
double kernel_trial(ThreadPool &pool, const Instance &inst, int threads,
                    int64_t reps) {
  const int64_t kc = 256;
  auto t0 = Clock::now();
  pool.parallel_for(threads, [&](int64_t lo, int64_t hi, int) {
    static thread_local std::vector<float> a, w, c;
    a.assign(kc * inst.mr, 0.5f);
    w.assign(kc * inst.nr, 0.25f);
    c.assign(inst.mr * inst.nr, 0.0f);
    for (int64_t i = lo; i < hi; ++i)
      for (int64_t r = 0; r < reps; ++r)
        inst.fn(inst.mr, kc, a.data(), 0, w.data(), c.data(), inst.nr, nullptr,
                0, nullptr, 0);
  });
  double s = seconds(t0, Clock::now());
  return 2.0 * inst.mr * inst.nr * kc * reps * threads / s / 1e9;
}

double peak_gflops(ThreadPool &pool, int threads) {
  pool.resize(threads);
  std::vector<double> trials;
  for (int trial = 0; trial < 15; ++trial)
    trials.push_back(peak_trial(pool, threads, 4000000));
  return median(trials);
}

double kernel_peak_gflops(ThreadPool &pool, const Instance &inst, int threads) {
  pool.resize(threads);
  std::vector<double> trials;
  for (int trial = 0; trial < 9; ++trial)
    trials.push_back(kernel_trial(pool, inst, threads, 20000));
  return median(trials);
}

// GFLOP/s of each of `reps` runs (after 2 warm-ups); `after(gflops)` runs
// after each, so a caller can measure the peak right next to it.
typedef std::function<void(double)> AfterRun;

template <int MR, int NR>
std::vector<double> gemm_gflops(ThreadPool &pool, const Instance &inst,
                                int64_t M, int64_t K, int64_t N, int64_t kc,
                                int pf, int reps, const AfterRun &after) {
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> a(M * K), w(K * N), packed((N + NR - 1) / NR * NR * K),
      bias(N), c(M * N), ws(ukernel::gemm_workspace_floats(M, K, kc, MR));
  for (float &x : a)
    x = dist(gen);
  for (float &x : w)
    x = dist(gen);
  for (float &x : bias)
    x = dist(gen);
  ukernel::pack_b<NR>(K, N, w.data(), N, packed.data());
  // Many copies of the weights, so each run streams them from memory as a
  // model does (one copy would sit in L2/L3 between runs).
  const int copies = std::max<int64_t>(1, (64ll << 20) / (packed.size() * 4));
  std::vector<std::vector<float>> weights(copies, packed);
  ukernel::GemmArgs g{M,       N,       K,        kc, M,         a.data(), K,
                      nullptr, nullptr, c.data(), N,  ws.data(), pf};
  g.direct_a = readsADirectly(inst);
  std::vector<double> runs;
  for (int r = 0; r < reps + 2; ++r) {
    g.w = weights[r % copies].data();
    g.bias = bias.data();
    auto t0 = Clock::now();
    ukernel::gemm<MR, NR>(pool, g, inst.fn, ukernel::NoEpilogue());
    double s = seconds(t0, Clock::now());
    if (r >= 2) {
      runs.push_back(2.0 * M * N * K / s / 1e9);
      if (after)
        after(runs.back());
    }
  }
  return runs;
}

// f(integral_constant<MR>, integral_constant<NR>) for the instance's tile:
// the driver templates need the tile at compile time.
template <class F> auto with_tile(const Instance &inst, F &&f) {
  using std::integral_constant;
#define CASE(MR, NR)                                                           \
  if (inst.mr == MR && inst.nr == NR)                                          \
    return f(integral_constant<int, MR>{}, integral_constant<int, NR>{});
  CASE(12, 32)
  CASE(8, 32)
  CASE(6, 64)
  CASE(6, 16)
  CASE(4, 24)
  CASE(4, 8)
  CASE(6, 8)
#undef CASE
  std::fprintf(stderr, "canao-gemm-bench: no driver for %s\n", inst.name);
  std::abort();
}

std::vector<double> run_gemm(ThreadPool &pool, const Instance &inst, int64_t M,
                             int64_t K, int64_t N, int64_t kc, int reps,
                             const AfterRun &after = nullptr,
                             int pf = kPrefetchTilesLog2) {
  return with_tile(inst, [&](auto mr, auto nr) {
    return gemm_gflops<mr(), nr()>(pool, inst, M, K, N, kc, pf, reps, after);
  });
}

// Median ms of the panel split and the row split of a dense with a residual
// + LayerNorm epilogue, alternated run by run.
template <int MR, int NR>
std::pair<double, double>
layer_norm_split_ms(ThreadPool &pool, const Instance &inst, int64_t M,
                    int64_t K, int64_t N, int64_t kc, int pf,
                    int64_t weightsBytes, int reps) {
  typedef float vf __attribute__((vector_size(sizeof(Best::V))));
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> a(M * K), w(K * N), packed((N + NR - 1) / NR * NR * K),
      bias(N), res(M * N), gamma(N), beta(N), c(M * N),
      ws(ukernel::gemm_workspace_floats(M, K, kc, MR));
  for (auto *v : {&a, &w, &bias, &res, &gamma, &beta})
    for (float &x : *v)
      x = dist(gen);
  ukernel::pack_b<NR>(K, N, w.data(), N, packed.data());
  const int copies = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>(256, weightsBytes / (packed.size() * 4))));
  std::vector<std::vector<float>> weights(copies, packed);
  ukernel::GemmArgs g{M,        N,         K,       kc,          M,
                      a.data(), K,         nullptr, bias.data(), c.data(),
                      N,        ws.data(), pf};
  g.direct_a = readsADirectly(inst);
  float *cp = c.data();
  const float *rp = res.data();
  std::vector<double> ms[2];
  for (int r = 0; r < 2 * (reps + 2); ++r) {
    const bool rows = (r & 1) ^ ((r >> 1) & 1); // ABBA order
    g.w = weights[(r / 2) % copies].data();
    g.split_rows = rows;
    auto t0 = Clock::now();
    ukernel::gemm<MR, NR>(
        pool, g, inst.fn,
        [&](int64_t m0, int64_t m1, int64_t n0, int64_t nb) {
          for (int64_t m = m0; m < m1; ++m)
            for (int64_t j = n0; j < n0 + nb; ++j)
              cp[m * N + j] += rp[m * N + j];
        },
        [&](int64_t m0, int64_t m1) {
          for (int64_t m = m0; m < m1; ++m)
            ukernel::layer_norm_row<vf>(cp + m * N, N, gamma.data(),
                                        beta.data(), 1e-12f);
        });
    if (r >= 4)
      ms[rows].push_back(seconds(t0, Clock::now()) * 1e3);
  }
  return {median(ms[0]), median(ms[1])};
}

int tune_layer_norm(const std::vector<std::vector<int64_t>> &shapes,
                    const Instance &inst, int64_t kc, int pf, int threads,
                    int64_t weightsBytes, int reps) {
  pin_caller();
  ThreadPool pool;
  pool.resize(threads);
  for (const auto &s : shapes) {
    const std::pair<double, double> ms = with_tile(inst, [&](auto mr, auto nr) {
      return layer_norm_split_ms<mr(), nr()>(pool, inst, s[0], s[1], s[2], kc,
                                             pf, weightsBytes, reps);
    });
    std::printf("layer_norm %lld %lld %lld %.4f %.4f\n",
                static_cast<long long>(s[0]), static_cast<long long>(s[1]),
                static_cast<long long>(s[2]), ms.first, ms.second);
    std::fflush(stdout);
  }
  return 0;
}

int usage() {
  std::fprintf(stderr, "usage: canao-gemm-bench [--peak] [--kernel NAME] "
                       "[--kc N] [--threads 1,2] [--reps N] "
                       "[--sparse RxC:DENSITY,...]\nkernels:");
  for (const Instance &i : instances())
    std::fprintf(stderr, " %s", i.name);
  std::fprintf(stderr, "\n");
  return 2;
}

} // namespace

std::vector<int64_t> parse_list(const std::string &v, char sep) {
  std::vector<int64_t> out;
  for (size_t p = 0; p < v.size();) {
    size_t q = v.find(sep, p);
    out.push_back(std::atoll(v.substr(p, q - p).c_str()));
    p = q == std::string::npos ? v.size() : q + 1;
  }
  return out;
}

// M:K:N[,M:K:N...] as (M, K, N) triples; empty on a malformed list.
std::vector<std::vector<int64_t>> parse_shapes(const std::string &shapeList) {
  std::vector<std::vector<int64_t>> shapes;
  for (size_t b = 0; b <= shapeList.size();) {
    const size_t e = std::min(shapeList.find(',', b), shapeList.size());
    std::vector<int64_t> s = parse_list(shapeList.substr(b, e - b), ':');
    if (s.size() != 3 || s[0] < 1 || s[1] < 1 || s[2] < 1) {
      std::fprintf(stderr, "canao-gemm-bench: bad shape in '%s'\n",
                   shapeList.c_str());
      return {};
    }
    shapes.push_back(s);
    b = e + 1;
  }
  return shapes;
}

// Total milliseconds of each candidate over `shapes` (M, K, N triples).
int tune(const std::vector<std::vector<int64_t>> &shapes,
         const std::vector<int64_t> &kcs, const std::vector<int64_t> &pfs,
         int reps) {
  pin_caller();
  ThreadPool pool;
  for (const Instance &inst : instances())
    for (int64_t kc : kcs)
      for (int64_t pf : pfs) {
        double ms = 0;
        for (const auto &s : shapes) {
          double gf = median(run_gemm(pool, inst, s[0], s[1], s[2], kc, reps,
                                      nullptr, static_cast<int>(pf)));
          ms += 2.0 * s[0] * s[1] * s[2] / gf / 1e6;
        }
        std::printf("candidate %s %d %d %lld %lld %.4f\n", inst.name, inst.mr,
                    inst.nr, static_cast<long long>(kc),
                    static_cast<long long>(pf), ms);
        std::fflush(stdout);
      }
  return 0;
}

namespace {

// ---- --sparse ---------------------------------------------------------------

// The block-sparse instances, best ISA first (isa: 2 AVX-512, 1 AVX2 or
// NEON, 0 generic). BSR-N: r = 1, the dense tile mr x nr; BSR-K: r x 1 blocks,
// nr the lanes.
struct SparseKernel {
  const char *name;
  int isa, r, mr, nr;
  ukernel::F32BsrNFn n;
  ukernel::F32BsrKFn k;
};

const std::vector<SparseKernel> &sparse_kernels() {
  using namespace ukernel;
#define N_(MR, NR, ISA, I)                                                     \
  {                                                                            \
    "f32_bsr_1x" #NR "_" #MR "x" #NR "_" #ISA, I, 1, MR, NR,                   \
        f32_bsr_1x##NR##_##MR##x##NR##_##ISA, nullptr                          \
  }
#define K_(R, MR, L, ISA, I)                                                   \
  {                                                                            \
    "f32_bsr_" #R "x1_" #MR "x" #L "_" #ISA, I, R, MR, L, nullptr,             \
        f32_bsr_##R##x1_##MR##x##L##_##ISA                                     \
  }
  static const std::vector<SparseKernel> all = {
#if defined(__AVX512F__)
    K_(16, 8, 16, avx512, 2),
    N_(12, 32, avx512, 2),
    N_(8, 32, avx512, 2),
    N_(6, 64, avx512, 2),
#endif
#if defined(__AVX2__) && defined(__FMA__)
    K_(16, 6, 8, avx2, 1),
    K_(8, 12, 8, avx2, 1),
    N_(4, 24, avx2, 1),
    N_(6, 16, avx2, 1),
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    K_(16, 8, 4, neon, 1),
    K_(8, 8, 4, neon, 1),
    K_(4, 16, 4, neon, 1),
    N_(8, 8, neon, 1),
    N_(12, 8, neon, 1),
    N_(6, 8, neon, 1),
#endif
    K_(16, 3, 4, generic, 0),
    K_(8, 6, 4, generic, 0),
    K_(4, 12, 4, generic, 0),
    N_(4, 8, generic, 0),
    N_(6, 8, generic, 0)
  };
#undef N_
#undef K_
  return all;
}

// The kernel for RxC blocks: of the best ISA that has one, BSR-K with the
// largest r dividing R (C = 1), or BSR-N with the widest nr dividing C
// (R = 1); nullptr if none.
const SparseKernel *pick_sparse(int64_t R, int64_t C) {
  const SparseKernel *best = nullptr;
  for (const SparseKernel &k : sparse_kernels()) {
    const bool fits = C == 1 && R > 1 ? k.k && R % k.r == 0
                      : R == 1        ? k.n && C % k.nr == 0
                                      : false;
    if (fits &&
        (!best || k.isa > best->isa ||
         (k.isa == best->isa && (k.k ? k.r > best->r : k.nr > best->nr))))
      best = &k;
  }
  return best;
}

struct SparseProblem {
  int64_t M, K, N, kc;
  std::vector<float> a, w, bias; // w: K x N, row-major
};

// A packed weight: dense panels (v), or BSR values, pointers and indices
// (bsr_pack.h).
struct Packed {
  std::vector<float> v;
  std::vector<int32_t> ptr, idx;
  size_t bytes() const { return (v.size() + ptr.size() + idx.size()) * 4; }
};

// One GEMM into c; run r reads weight copy r % copies (64 MiB of copies, at
// most 256), so each run streams its weights from memory as a model does.
typedef std::function<void(int, float *)> Run;

std::shared_ptr<std::vector<Packed>> copies(const Packed &w) {
  return std::make_shared<std::vector<Packed>>(
      std::max<size_t>(1, std::min<size_t>(256, (64ull << 20) / w.bytes())), w);
}

// gemm<MR, NR> (dense, or BSR-N with ptr / idx) as gemm_gflops runs it.
template <class Fn>
Run gemm_run(ThreadPool &pool, const Instance &tile, Fn fn,
             const SparseProblem &p, const Packed &pk) {
  auto w = copies(pk);
  return with_tile(tile, [&](auto mr, auto nr) -> Run {
    constexpr int MR = decltype(mr)::value, NR = decltype(nr)::value;
    auto ws = std::make_shared<std::vector<float>>(
        ukernel::gemm_workspace_floats(p.M, p.K, p.kc, MR));
    ukernel::GemmArgs g{};
    g.M = p.M, g.N = p.N, g.K = p.K, g.kc = p.kc, g.mc = p.M;
    g.a = p.a.data(), g.lda = p.K, g.bias = p.bias.data(), g.ldc = p.N;
    g.a_packed = ws->data(), g.pf_log2 = kPrefetchTilesLog2;
    g.direct_a = readsADirectly(tile);
    return [&pool, g, w, ws, fn](int r, float *c) mutable {
      const Packed &q = (*w)[r % w->size()];
      g.w = q.v.data(), g.c = c;
      if (!q.ptr.empty())
        g.row_ptr = q.ptr.data(), g.row_k = q.idx.data();
      ukernel::gemm<MR, NR>(pool, g, fn, ukernel::NoEpilogue());
    };
  });
}

Run dense_run(ThreadPool &pool, const Instance &inst, const SparseProblem &p) {
  Packed pk;
  pk.v.resize((p.N + inst.nr - 1) / inst.nr * inst.nr * p.K);
  with_tile(inst, [&](auto, auto nr) {
    ukernel::pack_b<decltype(nr)::value>(p.K, p.N, p.w.data(), p.N,
                                         pk.v.data());
    return 0;
  });
  return gemm_run(pool, inst, inst.fn, p, pk);
}

Run sparse_run(ThreadPool &pool, const SparseKernel &sk,
               const SparseProblem &p) {
  const bool n = sk.n != nullptr;
  const int64_t block = n ? sk.nr : sk.r, nkb = bsr::k_blocks(p.K, p.kc);
  const int64_t kept = n ? bsr::n_rows(p.w.data(), p.K, p.N, block)
                         : bsr::k_blocks_kept(p.w.data(), p.K, p.N, block);
  Packed pk;
  pk.v.resize(std::max<int64_t>(1, kept) * block);
  pk.ptr.resize((n ? (p.N + block - 1) / block : p.N) * nkb + 1);
  pk.idx.resize(kept + 1); // one past the end (bsr_pack.h)
  if (!(n ? bsr::n_pack : bsr::k_pack)(p.w.data(), p.K, p.N, block, p.kc, kept,
                                       pk.v.data(), pk.ptr.data(),
                                       pk.idx.data())) {
    std::fprintf(stderr, "canao-gemm-bench: cannot pack for %s\n", sk.name);
    std::exit(1);
  }
  if (n)
    return gemm_run(pool, {sk.name, sk.mr, sk.nr, nullptr}, sk.n, p, pk);
  auto w = copies(pk);
  ukernel::BsrKArgs g{p.M,        p.N,           p.K,     p.kc,
                      p.a.data(), p.K,           nullptr, nullptr,
                      nullptr,    p.bias.data(), nullptr, p.N};
  auto call = [&](auto mr, auto lanes) -> Run {
    return [&pool, g, w, fn = sk.k](int r, float *c) mutable {
      const Packed &q = (*w)[r % w->size()];
      g.values = q.v.data(), g.bptr = q.ptr.data(), g.bk = q.idx.data();
      g.c = c;
      ukernel::bsr_k_gemm<decltype(mr)::value, decltype(lanes)::value>(
          pool, g, fn, ukernel::NoEpilogue());
    };
  };
  using std::integral_constant;
#define CASE(MR, L)                                                            \
  if (sk.mr == MR && sk.nr == L)                                               \
    return call(integral_constant<int, MR>{}, integral_constant<int, L>{});
  CASE(8, 16)
  CASE(12, 8)
  CASE(6, 8)
  CASE(12, 4)
  CASE(6, 4)
  CASE(3, 4)
#undef CASE
  std::fprintf(stderr, "canao-gemm-bench: no driver for %s\n", sk.name);
  std::abort();
}

// K x N with round(density * blocks) of its RxC blocks kept, at random.
std::vector<float> random_block_sparse(std::mt19937 &gen, int64_t K, int64_t N,
                                       int64_t R, int64_t C, double density) {
  std::uniform_real_distribution<float> dist(-1, 1);
  const int64_t kb = (K + R - 1) / R, nb = (N + C - 1) / C;
  std::vector<int64_t> blocks(kb * nb);
  std::iota(blocks.begin(), blocks.end(), int64_t(0));
  std::shuffle(blocks.begin(), blocks.end(), gen);
  blocks.resize(std::llround(density * double(kb * nb)));
  std::vector<float> w(K * N, 0.0f);
  for (int64_t b : blocks)
    for (int64_t k = b / nb * R; k < std::min(K, (b / nb + 1) * R); ++k)
      for (int64_t j = b % nb * C; j < std::min(N, (b % nb + 1) * C); ++j)
        while (w[k * N + j] == 0.0f)
          w[k * N + j] = dist(gen);
  return w;
}

int sparse_bench(const std::string &specs, const Instance &dense, int64_t kc,
                 const std::vector<int> &threads, int reps) {
  if (directATiles().empty()) { // the target table's (x86-avx2, neon)
#if defined(__aarch64__)
    directATiles().push_back({6, 8});
#else
    directATiles().push_back({6, 16});
#endif
  }
  pin_caller();
  ThreadPool pool;
  for (size_t b = 0; b <= specs.size();) {
    const size_t e = std::min(specs.find(',', b), specs.size());
    const std::string spec = specs.substr(b, e - b),
                      block = spec.substr(0, spec.find(':'));
    b = e + 1;
    const std::vector<int64_t> rc = parse_list(block, 'x');
    const double density = spec.find(':') == std::string::npos
                               ? -1.0
                               : std::atof(spec.c_str() + spec.find(':') + 1);
    const SparseKernel *sk = rc.size() == 2 && rc[0] > 0 && rc[1] > 0
                                 ? pick_sparse(rc[0], rc[1])
                                 : nullptr;
    if (!sk || !(density >= 0.0 && density <= 1.0)) {
      std::fprintf(stderr,
                   "canao-gemm-bench: bad --sparse entry '%s' (RxC:DENSITY, "
                   "R or C 1, a kernel for it, density in [0, 1])\n",
                   spec.c_str());
      return 2;
    }
    // BSR-K needs r | kc (r | K holds for BERT's K).
    const int64_t bkc =
        sk->k ? std::max<int64_t>(sk->r, kc / sk->r * sk->r) : kc;
    std::printf("# sparse %s: %s (kc %lld, A %s) vs %s (kc %lld)\n",
                block.c_str(), sk->name, static_cast<long long>(bkc),
                sk->k || readsADirectly({sk->name, sk->mr, sk->nr, nullptr})
                    ? "in place"
                    : "packed",
                dense.name, static_cast<long long>(kc));
    std::fflush(stdout);
    for (auto &s : kBertShapes) {
      std::mt19937 gen(42);
      std::uniform_real_distribution<float> dist(-1, 1);
      SparseProblem p{128, s[0], s[1], kc, {}, {}, {}};
      p.a.resize(p.M * p.K);
      p.bias.resize(p.N);
      for (auto *v : {&p.a, &p.bias})
        for (float &x : *v)
          x = dist(gen);
      p.w = random_block_sparse(gen, p.K, p.N, rc[0], rc[1], density);
      const int64_t nnz = std::count_if(p.w.begin(), p.w.end(),
                                        [](float x) { return x != 0.0f; });
      const Run runDense = dense_run(pool, dense, p);
      SparseProblem ps = p;
      ps.kc = bkc;
      const Run runSparse = sparse_run(pool, *sk, ps);
      for (int t : threads) {
        pool.resize(t);
        std::vector<float> cd(p.M * p.N), cs(p.M * p.N);
        std::vector<double> ms[2], ratio;
        for (int r = 0; r < reps + 2; ++r) {
          double t1[2];
          for (int i = 0; i < 2; ++i) {
            const int which = i ^ (r & 1); // ABBA: dense first on even runs
            auto t0 = Clock::now();
            (which ? runSparse : runDense)(r, which ? cs.data() : cd.data());
            t1[which] = seconds(t0, Clock::now()) * 1e3;
          }
          if (r >= 2) {
            ms[0].push_back(t1[0]), ms[1].push_back(t1[1]);
            ratio.push_back(t1[0] / t1[1]);
          }
        }
        double err = 0, mag = 0;
        for (size_t i = 0; i < cd.size(); ++i)
          err = std::max<double>(err, std::fabs(cd[i] - cs[i])),
          mag = std::max<double>(mag, std::fabs(cd[i]));
        if (!(err <= 1e-4 * (1 + mag))) {
          std::fprintf(stderr, "canao-gemm-bench: %s differs from %s by %g\n",
                       sk->name, dense.name, err);
          return 1;
        }
        const double dms = median(ms[0]), sms = median(ms[1]);
        std::printf("sparse %s %g %lld:%lld:%lld %d dense_ms=%.4f "
                    "sparse_ms=%.4f speedup=%.3f nz_gflops=%.1f "
                    "dense_gflops=%.1f\n",
                    block.c_str(), density, static_cast<long long>(p.M),
                    static_cast<long long>(p.K), static_cast<long long>(p.N), t,
                    dms, sms, median(ratio), 2.0 * p.M * nnz / sms / 1e6,
                    2.0 * p.M * p.K * p.N / dms / 1e6);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  bool peakOnly = false;
  std::string tuneShapes, layerNormShapes, sparseSpecs;
  int64_t weightsBytes = 64ll << 20;
  int pf = kPrefetchTilesLog2;
  std::vector<int64_t> kcList = {256, 512, 768}, pfList = {kPrefetchTilesLog2};
  std::string kernel = instances().front().name;
  int64_t kc = 768;
  int reps = 30;
  std::vector<int> threads = {1, 2};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "canao-gemm-bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--peak")
      peakOnly = true;
    else if (a == "--tune")
      tuneShapes = value();
    else if (a == "--sparse")
      sparseSpecs = value();
    else if (a == "--tune-layer-norm")
      layerNormShapes = value();
    else if (a == "--pf")
      pf = std::atoi(value().c_str());
    else if (a == "--direct-a") {
      const std::string v = value();
      for (size_t p = 0; p < v.size();) {
        const size_t q = std::min(v.find(',', p), v.size());
        std::vector<int64_t> t = parse_list(v.substr(p, q - p), 'x');
        if (t.size() != 2)
          return usage();
        directATiles().push_back({int(t[0]), int(t[1])});
        p = q + 1;
      }
    } else if (a == "--weights-bytes")
      weightsBytes = std::atoll(value().c_str());
    else if (a == "--kc-list")
      kcList = parse_list(value(), ',');
    else if (a == "--pf-list")
      pfList = parse_list(value(), ',');
    else if (a == "--kernel")
      kernel = value();
    else if (a == "--kc")
      kc = std::atoll(value().c_str());
    else if (a == "--reps")
      reps = std::max(1, std::atoi(value().c_str()));
    else if (a == "--threads") {
      threads.clear();
      std::string v = value();
      for (size_t p = 0; p < v.size();) {
        size_t q = v.find(',', p);
        threads.push_back(std::max(1, std::atoi(v.substr(p, q).c_str())));
        p = q == std::string::npos ? v.size() : q + 1;
      }
    } else
      return usage();
  }
  const Instance *inst = nullptr;
  for (const Instance &i : instances())
    if (kernel == i.name)
      inst = &i;
  if (!inst || kc < 1)
    return usage();
  if (!sparseSpecs.empty())
    return sparse_bench(sparseSpecs, *inst, kc, threads, reps);
  if (!tuneShapes.empty() || !layerNormShapes.empty()) {
    auto shapes =
        parse_shapes(tuneShapes.empty() ? layerNormShapes : tuneShapes);
    if (shapes.empty())
      return 2;
    if (!tuneShapes.empty())
      return tune(shapes, kcList, pfList, reps);
    return tune_layer_norm(shapes, *inst, kc, pf, threads.front(), weightsBytes,
                           reps);
  }

  pin_caller();
  ThreadPool pool;
  std::vector<double> peak, kernelPeak;
  for (int t : threads) {
    peak.push_back(peak_gflops(pool, t));
    std::printf("peak_gflops_%dt=%.1f\n", t, peak.back());
    kernelPeak.push_back(kernel_peak_gflops(pool, *inst, t));
    std::printf("kernel_gflops_%dt=%.1f (%s in L1)\n", t, kernelPeak.back(),
                inst->name);
  }
  if (peakOnly)
    return 0;
  // Each GEMM run is followed by a short FMA-loop burst and a short
  // in-L1 microkernel burst on the same threads: on a shared machine the
  // peak moves from second to second, so "% of peak" is the median of
  // per-run ratios, not a ratio of medians taken minutes apart.
  std::printf("kernel %s, kc %lld, M = 128, %d runs, weights streamed from "
              "memory; each run paired with an FMA-loop and an in-L1 kernel "
              "burst; medians\n",
              inst->name, static_cast<long long>(kc), reps);
  std::printf("| K x N | threads | GFLOP/s | FMA peak | %% of FMA peak | "
              "kernel in L1 | %% of kernel in L1 |\n"
              "|---|---|---|---|---|---|---|\n");
  for (auto &s : kBertShapes)
    for (int t : threads) {
      pool.resize(t);
      std::vector<double> pk, kp, rp, rk;
      std::vector<double> gf =
          run_gemm(pool, *inst, 128, s[0], s[1], kc, reps, [&](double g) {
            pk.push_back(peak_trial(pool, t, 1000000));
            kp.push_back(kernel_trial(pool, *inst, t, 2000));
            rp.push_back(g / pk.back());
            rk.push_back(g / kp.back());
          });
      std::printf("| %lldx%lld | %d | %.1f | %.1f | %.0f%% | %.1f | %.0f%% |\n",
                  static_cast<long long>(s[0]), static_cast<long long>(s[1]), t,
                  median(gf), median(pk), 100.0 * median(rp), median(kp),
                  100.0 * median(rk));
      std::fflush(stdout);
    }
  return 0;
}
