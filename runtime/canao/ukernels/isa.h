// canao runtime: one traits struct per instruction set.
//
// Microkernels are templates over these traits, so a new ISA (NEON is the
// next one) is one more struct here and one more named instance per
// microkernel, not a new kernel. Each struct gives the vector type, its
// lane count, register count and the handful of operations the kernels use.
#ifndef CANAO_UKERNELS_ISA_H
#define CANAO_UKERNELS_ISA_H

#include <cstdint>
#include <cstring>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
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

} // namespace isa
} // namespace canao_rt

#endif // CANAO_UKERNELS_ISA_H
