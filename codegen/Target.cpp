//===- Target.cpp - the target table --------------------------------------===//
#include "Target.h"

#if defined(__linux__)
#include <unistd.h>
#endif

using namespace canao;

// One function per target, every field named, with where its number comes
// from. Cache sizes are per core and only defaults: "host" replaces them
// with what this machine reports.

/// Portable C++ (GCC vector extensions, 4 float lanes): runs anywhere, and
/// compiles to SSE on x86 and to NEON on Arm.
static TargetDesc genericTarget() {
  TargetDesc t;
  t.name = "generic";
  t.isa = "generic";
  t.vectorBits = 128;     // SSE2 / ASIMD width, the baseline of both ISAs
  t.vectorRegisters = 16; // x86-64's 16 XMM (AArch64 has 32: neon's entry)
  t.l1Bytes = 32 << 10;   // conservative: every core since ~2010 has >= 32K
  t.l2Bytes = 1 << 20;    // conservative: Zen 2 512K, Sapphire Rapids 2M
  t.cxxFlags = {};
  // 4x8 = 8 accumulator vectors of 16 registers, leaving room for A and B.
  t.gemmRows = 4;
  t.gemmCols = 8;
  t.gemmDepth = 512; // the packed A block at M = 128: 256K, a quarter of L2
  t.prefetchTilesLog2 = 3;
  t.attentionRows = 4; // head dim 64 = 8 panels of 8
  t.attentionCols = 8;
  t.gemmTiles = {{4, 8}, {6, 8}};
  // BSR on 4 lanes: not measured yet; assumed a little slower than on
  // AVX2, 16x1 first on ties (fewer index loads).
  t.bsrKKernels = {
      {4, 12, {0.2, 1.2}}, {8, 6, {0.15, 1.1}}, {16, 3, {0.12, 1.05}}};
  return t;
}

/// AVX2 + FMA (Haswell and later, Zen 1-4): 16 YMM registers, 2 FMA pipes.
static TargetDesc avx2Target() {
  TargetDesc t;
  t.name = "x86-avx2";
  t.isa = "avx2";
  t.vectorBits = 256;
  t.vectorRegisters = 16; // YMM0-15
  t.l1Bytes = 32 << 10;   // Zen 2 / Zen 3 / Skylake: 32K L1d
  t.l2Bytes = 1 << 20;    // conservative (Zen 2 512K, Zen 3 512K, SKX 1M)
  t.cxxFlags = {"-mavx2", "-mfma", "-mf16c"};
  t.requiredMacros = "defined(__AVX2__) && defined(__FMA__)";
  t.requiredHint = "build for x86-64 with the CMakeLists' -mavx2 -mfma";
  // 4x24 (12 accumulators), not the classic 6x16: on Zen 2 (once noted as Zen
  // 3) it needs a third fewer broadcasts per FMA and M = 128 has no partial
  // tile; `canaoc --tune` measured it 9% faster over BERT-base's GEMMs (22.5 vs
  // 24.6 ms).
  t.gemmRows = 4;
  t.gemmCols = 24;
  // kc 768: one k block for K = 768 (no partial sums stored to C and
  // reloaded), +2-5% in paired runs on the same Zen 2.
  t.gemmDepth = 768;
  // The next panel prefetched over 4 tiles (not 8): +3% on the same Zen 2.
  t.prefetchTilesLog2 = 2;
  t.attentionRows = 6; // head dim 64 = 4 panels of 16
  t.attentionCols = 16;
  t.gemmTiles = {{4, 24}, {6, 16}};
  // pack_a of 6 rows does not vectorize (an interleave of 6); reading A in
  // place measured 12% faster for 128x512x128 on 6x16 (packing included),
  // the same for 4x24, whose 4-row packing does vectorize.
  t.directATiles = {{6, 16}};
  // Fitted to BERT-base end to end on Zen 2 (bench/sparse_vs_ort.py,
  // 2026-12-01, time vs canao dense at 50/75/90/95% kept, attention and
  // LayerNorm taken out): 16x1 0.12 + 1.0 x kept; BSR-N (1x16 on 6x16)
  // 0.07 + 1.2 x kept. 8x1 (12 rows of A leave L1) measured 1.6x 16x1's
  // time in canao-gemm-bench --sparse.
  t.bsrKKernels = {{16, 6, {0.12, 1.0}}, {8, 12, {0.15, 1.6}}};
  t.bsrNCost = {0.07, 1.2};
  return t;
}

/// AVX-512 F/VL/BW/DQ (Skylake-SP and later, Zen 4): 32 ZMM registers.
static TargetDesc avx512Target() {
  TargetDesc t;
  t.name = "x86-avx512";
  t.isa = "avx512";
  t.vectorBits = 512;
  t.vectorRegisters = 32; // ZMM0-31
  t.l1Bytes = 48 << 10;   // Sapphire Rapids (the earlier dev machines)
  t.l2Bytes = 2 << 20;    // Sapphire Rapids: 2M per core
  t.cxxFlags = {"-mavx512f",
                "-mavx512vl",
                "-mavx512bw",
                "-mavx512dq",
                "-mavx2",
                "-mfma",
                "-mprefer-vector-width=512"};
  t.requiredMacros = "defined(__AVX512F__) && defined(__AVX512BW__)";
  t.requiredHint = "build for x86-64 with the CMakeLists' -mavx512* flags";
  // 12x32 = 24 accumulators of 32 registers: 95-105% of the FMA loop on
  // Sapphire Rapids with kc 768 (FACTS, the hand-written GEMM).
  t.gemmRows = 12;
  t.gemmCols = 32;
  t.gemmDepth = 768;
  t.prefetchTilesLog2 = 3;
  t.attentionRows = 12; // head dim 64 = 2 panels of 32
  t.attentionCols = 32;
  t.gemmTiles = {{12, 32}, {8, 32}, {6, 64}};
  // Measured by canaoc --tune on Sapphire Rapids (2026-12-02, BERT-base's
  // shapes, 10% and 40% kept, against the dense kernel, paired): 16x1 on 8
  // token rows 0.13 + 2.5 x kept (12 rows: 0.27 + 2.0, slower below ~30%
  // kept, the range where 16x1 beats dense here); BSR-N 0.04 + 1.0 x kept.
  t.bsrKKernels = {{16, 8, {0.13, 2.5}}};
  t.bsrNCost = {0.04, 1.0};
  return t;
}

/// AArch64 Advanced SIMD (Armv8.0-A; every 64-bit phone core), sized for
/// a big core, Cortex-A76 (Arm's Technical Reference Manual: 64K L1d,
/// 256K or 512K private L2, two 128-bit FMA pipes, FMLA latency 4 cycles).
static TargetDesc neonTarget() {
  TargetDesc t;
  t.name = "neon";
  t.isa = "neon";
  t.vectorBits = 128;
  t.vectorRegisters = 32; // v0-v31; v8-v15 callee-saved (AAPCS64)
  t.l1Bytes = 64 << 10;   // Cortex-A76 L1d; A55 / A53 little cores 32K
  t.l2Bytes = 256 << 10;  // A76 in Snapdragon 855 / Pixel 4: 256K
  // Armv8.0-A has ASIMD and FMA; nothing newer (dotprod, fp16) is used.
  t.cxxFlags = {};
  t.requiredMacros = "defined(__aarch64__) && defined(__ARM_NEON)";
  t.requiredHint = "build with an AArch64 compiler: "
                   "cmake/toolchains/aarch64-linux-gnu.cmake, or the NDK's "
                   "android.toolchain.cmake with ANDROID_ABI=arm64-v8a";
  // 8x8, not XNNPACK's 6x8 or ACL's 12x8: 16 accumulators keep 8 FMLA in
  // flight on each of A76's 2 pipes (latency 4 needs 8), A packed as [k][8]
  // is 2 vector loads per step feeding 16 FMLA by element (4 FMLA per load,
  // 6x8 in place: 4.8), 20 registers fit in the 24 caller-saved ones, and
  // M = 128 (or any multiple of 8 tokens) has no partial tile, where 6
  // rows pad 128 to 132. Static instruction mix in docs/arm.md.
  t.gemmRows = 8;
  t.gemmCols = 8;
  // kc 256: the packed 128 x 256 block of A is 128K, half of A76's L2, and
  // one panel slice (256 x 8 floats, 8K) stays in L1 across the row tiles.
  t.gemmDepth = 256;
  t.prefetchTilesLog2 = 3;
  t.attentionRows = 8; // head dim 64 = 8 panels of 8
  t.attentionCols = 8;
  t.gemmTiles = {{8, 8}, {12, 8}, {6, 8}};
  // 6x8 reads A in place, 4 k steps per vector load of each row (XNNPACK's
  // ld128 form); 8x8 and 12x8 read the packed tile.
  t.directATiles = {{6, 8}};
  // Not measured on a phone (qemu cannot time): the AVX2 fit, 16x1 first.
  t.bsrKKernels = {
      {16, 8, {0.12, 1.0}}, {8, 8, {0.15, 1.1}}, {4, 16, {0.2, 1.2}}};
  t.bsrNCost = {0.07, 1.2};
  return t;
}

/// OpenCL C 1.2 for phone GPUs, with generic's CPU path beside it. The
/// geometry starts from CLBlast's tuned Xgemm for Adreno 6xx (a 64x64 tile
/// per work-group: 8 x 16 work-items of 4 x 8 outputs, no local memory);
/// `opencl-mali` halves the tile and the group (Mali's guides favour small
/// groups and 4-wide vectors). Neither is tuned on a phone yet.
static TargetDesc openclTarget(const char *name, GpuDesc gpu) {
  TargetDesc t = genericTarget();
  t.name = name;
  t.gpu = gpu;
  return t;
}

const std::vector<TargetDesc> &canao::targets() {
  static const std::vector<TargetDesc> table = {
      genericTarget(),
      avx2Target(),
      avx512Target(),
      neonTarget(),
      openclTarget("opencl", GpuDesc{4, 8, 8, 16, 64}),
      openclTarget("opencl-mali", GpuDesc{4, 4, 8, 8, 64})};
  return table;
}

const TargetDesc *canao::lookupTarget(const std::string &name) {
  std::string want = name;
  if (want == "host") {
    // The widest SIMD entry this machine runs (runsOnThisMachine), else the
    // portable one.
    want = "generic";
    for (const char *best : {"x86-avx512", "x86-avx2", "neon"})
      if (const TargetDesc *t = lookupTarget(best); runsOnThisMachine(*t)) {
        want = best;
        break;
      }
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

bool canao::runsOnThisMachine(const TargetDesc &target) {
  if (target.isa == "generic")
    return true;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (target.isa == "avx2")
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (target.isa == "avx512")
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq");
#elif defined(__aarch64__)
  if (target.isa == "neon")
    return true;
#endif
  return false;
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
  // on Zen 2 at kc 768 and measured 5% slower; at M = 512 larger blocks
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
