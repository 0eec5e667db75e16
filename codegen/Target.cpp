//===- Target.cpp - the target table --------------------------------------===//
#include "Target.h"

#if defined(__linux__)
#include <unistd.h>
#endif

using namespace canao;

const std::vector<TargetDesc> &canao::targets() {
  // L1/L2 are per core; 48 KiB / 2 MiB is the Sapphire Rapids class of the
  // dev machines, 32 KiB / 1 MiB a conservative x86 default ("host" reads
  // the machine's own). AVX2's dense tile is 4x24, not the classic 6x16:
  // on Zen 3 it needs a third fewer broadcasts per FMA and M = 128 has no
  // partial tile; `canaoc --tune` measured it 9% faster over BERT-base's
  // GEMMs (22.5 vs 24.6 ms). Its kc 768 (one k block for K = 768: no
  // partial sums stored to C and reloaded) and next-panel prefetch spread over
  // 4 tiles (not 8) measured +2-5% and +3% in paired runs on Zen 3.
  static const std::vector<TargetDesc> table = {
      {"generic",
       "generic",
       128,
       16,
       32 << 10,
       1 << 20,
       {},
       4,
       8,
       512,
       3,
       4,
       8,
       {{4, 8}, {6, 8}},
       {},
       // BSR on 4 lanes: not measured yet; assumed a little slower than on
       // AVX2, 16x1 first on ties (fewer index loads).
       {{4, 12, {0.2, 1.2}}, {8, 6, {0.15, 1.1}}, {16, 3, {0.12, 1.05}}}},
      {"x86-avx2",
       "avx2",
       256,
       16,
       32 << 10,
       1 << 20,
       {"-mavx2", "-mfma", "-mf16c"},
       4,
       24,
       768,
       2,
       6,
       16,
       {{4, 24}, {6, 16}},
       // pack_a of 6 rows does not vectorize (an interleave of 6); reading
       // A in place measured 12% faster for 128x512x128 on 6x16 (packing
       // included), the same for 4x24, whose 4-row packing does vectorize.
       {{6, 16}},
       // Fitted to BERT-base end to end on Zen 2 (bench/sparse_vs_ort.py,
       // 2026-12-01, time vs canao dense at 50/75/90/95% kept, attention
       // and LayerNorm taken out): 16x1 0.12 + 1.0 x kept; BSR-N (1x16 on
       // 6x16) 0.07 + 1.2 x kept. 8x1 (12 rows of A leave L1) measured 1.6x
       // 16x1's time in canao-gemm-bench --sparse.
       {{16, 6, {0.12, 1.0}}, {8, 12, {0.15, 1.6}}},
       {0.07, 1.2}},
      {"x86-avx512",
       "avx512",
       512,
       32,
       48 << 10,
       2 << 20,
       {"-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2",
        "-mfma", "-mprefer-vector-width=512"},
       12,
       32,
       768,
       3,
       12,
       32,
       {{12, 32}, {8, 32}, {6, 64}},
       {},
       // Not measured yet: assumed as on AVX2.
       {{16, 12, {0.12, 1.0}}}},
  };
  return table;
}

const TargetDesc *canao::lookupTarget(const std::string &name) {
  std::string want = name;
  if (want == "host") {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq"))
      want = "x86-avx512";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      want = "x86-avx2";
    else
      want = "generic";
#else
    want = "generic";
#endif
  }
  for (const TargetDesc &t : targets())
    if (t.name == want) {
      if (name != "host")
        return &t;
      // One resolved copy per process: the answer does not change.
      static TargetDesc host = [&] {
        TargetDesc h = t;
#if defined(__linux__) && defined(_SC_LEVEL2_CACHE_SIZE)
        long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE),
             l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        if (l1 >= (8 << 10) && l1 <= (1 << 20))
          h.l1Bytes = l1;
        if (l2 >= (64 << 10) && l2 <= (64 << 20))
          h.l2Bytes = l2;
#endif
        return h;
      }();
      return &host;
    }
  return nullptr;
}

std::pair<int, int> canao::denseRegisterTile(const TargetDesc &target,
                                             int64_t m, int64_t n) {
  auto padded = [&](int r, int c) {
    return double((m + r - 1) / r * r) * double((n + c - 1) / c * c);
  };
  // The default is the fastest per FMA on its target (measured), so an
  // alternative must save clearly more than its lower kernel efficiency.
  std::pair<int, int> best = {target.gemmRows, target.gemmCols};
  double bestWork = padded(best.first, best.second);
  for (auto [r, c] : target.gemmTiles)
    if (padded(r, c) < 0.95 * bestWork) {
      best = {r, c};
      bestWork = padded(r, c);
    }
  return best;
}

GemmTile canao::denseTile(const TargetDesc &target, int64_t k, int64_t mr,
                          int64_t nr, int64_t kc) {
  GemmTile t = defaultTile(target, mr, nr, kc);
  if (k > 0 && k < t.kc) // a shorter k block leaves room for more rows
    t = defaultTile(target, mr, nr, k);
  return t;
}

GemmTile canao::attentionTile(const TargetDesc &target) {
  return defaultTile(target, target.attentionRows, target.attentionCols);
}

GemmTile canao::defaultTile(const TargetDesc &target, int64_t mr, int64_t nr,
                            int64_t kc) {
  GemmTile t;
  t.mr = mr ? mr : target.gemmRows;
  t.nr = nr ? nr : target.gemmCols;
  t.kc = kc ? kc : target.gemmDepth;
  t.pf = target.prefetchTilesLog2;
  // A packed mc x kc block of A takes at most 3/4 of L2; W streams
  // through the rest one panel slice at a time. (Half of L2 split M = 128
  // on Zen 3 at kc 768 and measured 5% slower; at M = 512 larger blocks
  // measured 1-2% faster.)
  int64_t rows = target.l2Bytes * 3 / 4 / (t.kc * 4) / t.mr * t.mr;
  t.mc = rows < t.mr ? t.mr : rows;
  for (auto [r, c] : target.gemmTiles)
    if (r == t.mr && c == t.nr)
      t.kernel = "f32_gemm_" + std::to_string(t.mr) + "x" +
                 std::to_string(t.nr) + "_" + target.isa;
  return t;
}

std::string canao::bsrNKernelName(const TargetDesc &target, int64_t mr,
                                  int64_t nr) {
  return "f32_bsr_1x" + std::to_string(nr) + "_" + std::to_string(mr) + "x" +
         std::to_string(nr) + "_" + target.isa;
}

std::string canao::bsrKKernelName(const TargetDesc &target, int64_t r,
                                  int64_t mr) {
  return "f32_bsr_" + std::to_string(r) + "x1_" + std::to_string(mr) + "x" +
         std::to_string(target.vectorBits / 32) + "_" + target.isa;
}
