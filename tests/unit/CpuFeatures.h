// What the CPU running the tests supports, for UkernelTest.cpp and
// BsrTest.cpp (built for the baseline ISA). Not for the files built with
// ISA flags: an inline function compiled there could be the copy the
// linker keeps (see UkernelIsa.h).
#ifndef CANAO_TESTS_UNIT_CPUFEATURES_H
#define CANAO_TESTS_UNIT_CPUFEATURES_H

namespace canao_test {

inline bool cpuHasAvx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

inline bool cpuHasAvx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

} // namespace canao_test

#endif // CANAO_TESTS_UNIT_CPUFEATURES_H
