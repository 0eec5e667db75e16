// canao runtime: one traits struct per instruction set.
//
// Microkernels are templates over these traits, so a new ISA (NEON was the
// last one) is one more struct here and one more named instance per
// microkernel, not a new kernel. Each struct gives the vector type, its
// lane count, register count and the handful of operations the kernels use.
#ifndef CANAO_UKERNELS_ISA_H
#define CANAO_UKERNELS_ISA_H

#include <cstdint>
#include <cstring>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace canao_rt {
namespace isa {

// Portable C++ with GCC/Clang vector extensions (128-bit: SSE on x86, NEON
// or scalar elsewhere). Always available.
struct Generic {
  static constexpr const char *name = "generic";
  static constexpr int lanes = 4;
  static constexpr int registers = 16; // SSE and NEON (NEON has 32)
  typedef float V __attribute__((vector_size(16)));
  static V load(const float *p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float *p, V v) { std::memcpy(p, &v, sizeof v); }
  static V set1(float x) { return V{x, x, x, x}; }
  static V zero() { return V{}; }
  static V fma(V a, V b, V c) { return a * b + c; }
  // No multiply-add by lane: the kernels broadcast A one row at a time.
  static constexpr bool lane_fma = false;
  static void prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
  // Lane i of the result is the sum of v[i]'s lanes, added pairwise
  // ((0+1)+(2+3)), the order of the SIMD instances.
  static V lane_sums(const V *v) {
    V r;
    for (int i = 0; i < lanes; ++i)
      r[i] = (v[i][0] + v[i][1]) + (v[i][2] + v[i][3]);
    return r;
  }
};

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2 {
  static constexpr const char *name = "avx2";
  static constexpr int lanes = 8;
  static constexpr int registers = 16;
  typedef __m256 V;
  static V load(const float *p) { return _mm256_loadu_ps(p); }
  static void store(float *p, V v) { _mm256_storeu_ps(p, v); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V zero() { return _mm256_setzero_ps(); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static constexpr bool lane_fma = false;
  // Lane i of the result is the sum of v[i]'s 8 lanes: a transpose by
  // horizontal adds, ((0+1)+(2+3)) + ((4+5)+(6+7)).
  static V lane_sums(const V *v) {
    const V t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
    const V t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
    const V u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20),
                         _mm256_permute2f128_ps(u0, u1, 0x31));
  }
  // The next weight panel, fetched while this one computes. NTA, not T0:
  // on Zen 3 (32 KiB L1) T0 lines push the current panel and A tile out of
  // L1; paired runs of BERT's GEMMs measured NTA 5-10% faster than T0 and
  // ~5% faster than T1.
  static void prefetch(const void *p) {
    _mm_prefetch(static_cast<const char *>(p), _MM_HINT_NTA);
  }
};
#endif

#if defined(__AVX512F__)
struct Avx512 {
  static constexpr const char *name = "avx512";
  static constexpr int lanes = 16;
  static constexpr int registers = 32;
  typedef __m512 V;
  static V load(const float *p) { return _mm512_loadu_ps(p); }
  static void store(float *p, V v) { _mm512_storeu_ps(p, v); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V zero() { return _mm512_setzero_ps(); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static constexpr bool lane_fma = false;
  static V lane_sums(const V *v) {
    alignas(64) float r[16];
    for (int i = 0; i < 16; ++i)
      r[i] = _mm512_reduce_add_ps(v[i]);
    return _mm512_load_ps(r);
  }
  static void prefetch(const void *p) {
    _mm_prefetch(static_cast<const char *>(p), _MM_HINT_T0);
  }
};
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
// AArch64 Advanced SIMD (Armv8.0-A: every 64-bit phone core): 32 128-bit
// registers, of which v8-v15 (their low halves) are callee-saved.
struct Neon {
  static constexpr const char *name = "neon";
  static constexpr int lanes = 4;
  static constexpr int registers = 32;
  typedef float32x4_t V;
  static V load(const float *p) { return vld1q_f32(p); }
  static void store(float *p, V v) { vst1q_f32(p, v); }
  static V set1(float x) { return vdupq_n_f32(x); }
  static V zero() { return vdupq_n_f32(0.0f); }
  static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  // c + b * a[Lane] (FMLA by element): a vector of A feeds 4 FMAs, so the
  // GEMM kernels load A as vectors instead of broadcasting it row by row.
  static constexpr bool lane_fma = true;
  template <int Lane> static V fma_lane(V b, V a, V c) {
    return vfmaq_laneq_f32(c, b, a, Lane);
  }
  // PRFM PLDL1KEEP, as XNNPACK's aarch64 GEMMs prefetch their weights.
  static void prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
  // Lane i = sum of v[i]'s lanes, ((0+1)+(2+3)), by two rounds of FADDP.
  static V lane_sums(const V *v) {
    return vpaddq_f32(vpaddq_f32(v[0], v[1]), vpaddq_f32(v[2], v[3]));
  }
};
#endif

} // namespace isa
} // namespace canao_rt

#endif // CANAO_UKERNELS_ISA_H
