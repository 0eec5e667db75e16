//===- Prune.h - canaoc prune: block magnitude pruning ----------*- C++ -*-===//
//
// `canaoc prune MODEL.onnx -o PRUNED.onnx --ratio F` zeroes the blocks of
// smallest L2 norm in the MatMul/Gemm weight matrices of a BERT encoder and
// writes a new ONNX model, so that block-sparse kernels have blocks to skip.
// Everything but the pruned initializers is kept as the input had it.
// docs/prune.md describes the block notation, the schemes and which
// matrices are candidates.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_PRUNE_H
#define CANAO_COMPILER_PRUNE_H

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace canao {

/// An RxC block on the [K, N] = [in_features, out_features] view of a
/// weight (the ONNX MatMul B operand): R consecutive inputs by C consecutive
/// outputs.
struct BlockShape {
  int rows = 16, cols = 1;
};

enum class PruneScheme {
  /// Whole RxC blocks, smallest L2 norm first, over the whole matrix.
  BSR,
  /// Block column-row (GRIM): the same number of lowest-norm strips in every
  /// block, columns (Rx1) if R >= C, else rows (1xC).
  BCR,
};

struct PruneOptions {
  std::string model, output;
  BlockShape block;
  PruneScheme scheme = PruneScheme::BSR;
  /// Target zero fraction per matrix, in [0, 1); required unless `list`.
  std::optional<double> ratio;
  /// (ECMAScript regex, ratio), in command-line order: the last pattern that
  /// matches a matrix's initializer or node name sets its ratio.
  std::vector<std::pair<std::string, double>> layerRatios;
  bool list = false, quiet = false;
};

/// Zeroes blocks of one matrix, `data` holding [K, N] row-major, or [N, K]
/// when `transposed`, so that its zero fraction is the nearest it can be to
/// `ratio`. Returns the nonzeros left.
int64_t pruneMatrix(float *data, int64_t K, int64_t N, bool transposed,
                    BlockShape block, PruneScheme scheme, double ratio);

/// Prunes (or, with `list`, describes) `o.model`; the report goes to `os`.
/// Errors are one line, without the `canaoc: error: ` prefix.
llvm::Error runPrune(const PruneOptions &o, llvm::raw_ostream &os);

/// `canaoc prune ARGS...`, with argv[0] = "prune". Returns the exit code.
int pruneMain(int argc, char **argv);

} // namespace canao

#endif // CANAO_COMPILER_PRUNE_H
