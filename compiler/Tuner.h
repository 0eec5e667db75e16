//===- Tuner.h - measured choice of the GEMM tile for this host -*- C++ -*-===//
//
// `canaoc --tune FILE` builds the runtime's GEMM benchmark (the same
// microkernels and driver generated models call) with the target's flags,
// times every microkernel instance of the target's ISA, several k blocks and
// two prefetch spreads on the model's own GEMM shapes, and writes the
// fastest as a tuning file.
// `canaoc --tuning FILE` reuses it: the output is a function of the model,
// the options and the file, so CI can regenerate kernels byte for byte.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_TUNER_H
#define CANAO_COMPILER_TUNER_H

#include "Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace canao {

struct TuningCandidate {
  std::string kernel;
  int rows = 0, cols = 0;
  int64_t depth = 0;
  int pf = 0;    ///< log2 of the tiles that prefetch the next panel
  double ms = 0; ///< total over the model's GEMM shapes, 1 thread
};

struct Tuning {
  std::string target;
  TuningCandidate chosen;
  std::vector<std::string> shapes; ///< "MxKxN"
  std::vector<TuningCandidate> candidates;
};

/// (M, K, N) of every canao.dense in `module`, unique, in first-use order.
std::vector<std::array<int64_t, 3>> gemmShapes(mlir::ModuleOp module);

/// Builds and runs the benchmark in a temporary directory. `files` are the
/// runtime headers (relative paths under runtime/) plus the benchmark
/// source; `step` reports progress.
llvm::Expected<Tuning>
tuneGemm(const TargetDesc &target,
         const std::vector<std::array<int64_t, 3>> &shapes,
         const std::vector<std::pair<std::string, std::string>> &files,
         const std::string &benchSource,
         const std::function<void(const std::string &)> &step);

std::string tuningToJson(const Tuning &t);

/// Parses and validates a tuning file for `target`.
llvm::Expected<Tuning> readTuning(const std::string &path,
                                  const TargetDesc &target);

/// `target` with the tuned tile, k block and prefetch spread.
TargetDesc applyTuning(const TargetDesc &target, const Tuning &t);

} // namespace canao

#endif // CANAO_COMPILER_TUNER_H
