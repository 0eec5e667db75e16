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
  // GEMMs (22.5 vs 24.6 ms).
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
       4,
       8,
       {{4, 8}, {6, 8}}},
      {"x86-avx2",
       "avx2",
       256,
       16,
       32 << 10,
       1 << 20,
       {"-mavx2", "-mfma", "-mf16c"},
       4,
       24,
       512,
       6,
       16,
       {{4, 24}, {6, 16}}},
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
       12,
       32,
       {{12, 32}, {8, 32}, {6, 64}}},
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

GemmTile canao::attentionTile(const TargetDesc &target) {
  return defaultTile(target, target.attentionRows, target.attentionCols);
}

GemmTile canao::defaultTile(const TargetDesc &target, int64_t mr, int64_t nr,
                            int64_t kc) {
  GemmTile t;
  t.mr = mr ? mr : target.gemmRows;
  t.nr = nr ? nr : target.gemmCols;
  t.kc = kc ? kc : target.gemmDepth;
  // A packed mc x kc block of A takes at most half of L2; the W panels
  // stream through the other half.
  int64_t rows = target.l2Bytes / 2 / (t.kc * 4) / t.mr * t.mr;
  t.mc = rows < t.mr ? t.mr : rows;
  for (auto [r, c] : target.gemmTiles)
    if (r == t.mr && c == t.nr)
      t.kernel = "f32_gemm_" + std::to_string(t.mr) + "x" +
                 std::to_string(t.nr) + "_" + target.isa;
  return t;
}
