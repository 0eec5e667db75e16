//===- Tuner.h - measured choice of the GEMM tile for this host -*- C++ -*-===//
//
// `canaoc --tune FILE` builds the runtime's GEMM benchmark (the same
// microkernels and driver generated models call) with the target's flags,
// times every microkernel instance of the target's ISA, several k blocks and
// two prefetch spreads on the model's own GEMM shapes, then, with the chosen
// tile, the two fusion variants of the dense layers with a LayerNorm
// epilogue on the machine's cores (rows: each thread normalizes its own
// rows in the GEMM's pass; panels: a LayerNorm pass after a barrier), and
// the block-sparse kernels against the dense one (the cost factors of
// canao-sparse's model), and writes the results as a tuning file.
// `canaoc --tuning FILE` reuses it: the output is a function of the model,
// the options and the file, so CI can regenerate kernels byte for byte.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_TUNER_H
#define CANAO_COMPILER_TUNER_H

#include "Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <array>
#include <functional>
#include <optional>
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

/// The measured fusion variant of the dense layers with a LayerNorm epilogue
/// (canao-tile's ln-split).
struct LayerNormSplit {
  std::string split; ///< "rows" or "panels"
  int threads = 0;
  double panelsMs = 0, rowsMs = 0; ///< totals over the model's shapes
};

/// Measured time of the block-sparse kernels relative to the dense one,
/// fixed + perFlop x kept (canao-sparse's cost model; the table's without a
/// file).
struct SparseCosts {
  TargetDesc::SparseCost bsrN; ///< BSR-N on the dense tile
  std::vector<std::pair<int, TargetDesc::SparseCost>> bsrK; ///< per R
};

struct Tuning {
  std::string target;
  TuningCandidate chosen;
  std::optional<LayerNormSplit> layerNorm; ///< absent: the table's (rows)
  std::optional<SparseCosts> sparse;       ///< absent: the table's
  std::vector<std::string> shapes;         ///< "MxKxN"
  std::vector<TuningCandidate> candidates;
};

/// (M, K, N) of every canao.dense in `module` (only those with a LayerNorm
/// epilogue if `layerNormOnly`), unique, in first-use order.
std::vector<std::array<int64_t, 3>> gemmShapes(mlir::ModuleOp module,
                                               bool layerNormOnly = false);

/// Bytes of all dense weights in `module`.
int64_t denseWeightBytes(mlir::ModuleOp module);

/// Builds and runs the benchmark in a temporary directory. `files` are the
/// runtime headers (relative paths under runtime/) plus the benchmark
/// source; `step` reports progress. The LayerNorm variants are timed on
/// `threads` threads (skipped below 2, where both are the same code) with
/// `weightBytes` of weights in rotation, as in the model.
llvm::Expected<Tuning>
tuneGemm(const TargetDesc &target,
         const std::vector<std::array<int64_t, 3>> &shapes,
         const std::vector<std::array<int64_t, 3>> &layerNormShapes,
         int64_t weightBytes, int threads,
         const std::vector<std::pair<std::string, std::string>> &files,
         const std::string &benchSource,
         const std::function<void(const std::string &)> &step);

std::string tuningToJson(const Tuning &t);

/// A tuning file's parsed JSON (one-line errors for unreadable or not JSON).
llvm::Expected<llvm::json::Value> readTuningJson(const std::string &path);

/// `root` as the indented text tuning files are written in.
std::string jsonText(llvm::json::Object root);

/// Parses and validates a tuning file for `target`.
llvm::Expected<Tuning> readTuning(const std::string &path,
                                  const TargetDesc &target);

/// `target` with the tuned tile, k block, prefetch spread and sparse costs.
TargetDesc applyTuning(const TargetDesc &target, const Tuning &t);

} // namespace canao

#endif // CANAO_COMPILER_TUNER_H
