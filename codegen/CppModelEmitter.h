//===- CppModelEmitter.h - a KernelPlan as a C++ project -------*- C++ -*-===//
#ifndef CANAO_CODEGEN_CPPMODELEMITTER_H
#define CANAO_CODEGEN_CPPMODELEMITTER_H

#include "KernelPlan.h"
#include "Target.h"

#include <string>
#include <vector>

namespace canao {

struct GeneratedFile {
  std::string path; ///< relative to the output directory
  std::string contents;
};

struct CppEmitOptions {
  std::string name;      ///< C identifier prefixing the API
  std::string modelFile; ///< for banners (file name only)
  std::string compilerVersion;
  std::string summary; ///< one line: shapes, kernels, arena
  bool embedWeights = false;
  const TargetDesc *target = nullptr; ///< required
  uint64_t weightsChecksum = 0;
  int defaultThreads = 1; ///< a new context's threads (canaoc --threads)
};

/// NAME.h, NAME.cpp, NAME_run.cpp and CMakeLists.txt. The weight blob and
/// the runtime headers are written by the caller.
llvm::Expected<std::vector<GeneratedFile>>
emitCppModel(const KernelPlan &plan, const CppEmitOptions &options);

/// `s` made into a C identifier.
std::string cIdentifier(llvm::StringRef s);

} // namespace canao

#endif // CANAO_CODEGEN_CPPMODELEMITTER_H
