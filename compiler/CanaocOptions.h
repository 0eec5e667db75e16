//===- CanaocOptions.h - canaoc's command line ----------------------------===//
//
// The options of `canaoc MODEL -o OUT` (the prune subcommand has its own,
// Prune.h), parsed and checked before any file is read, and MLIR's own
// --mlir-* options, which llvm::cl parses.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_CANAOCOPTIONS_H
#define CANAO_COMPILER_CANAOCOPTIONS_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace canao {
namespace canaoc {

/// What the command line asks for.
struct Options {
  std::string model, outDir, name, emit = "cpp", report;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::map<std::string, std::string> frozen; // input -> .npy path
  std::set<std::string> disabledPasses;
  std::string target = "generic";
  bool targetGiven = false;
  std::string tuneOut, tuningIn;
  std::string depfile;
  std::vector<const char *> mlirArgs; // --mlir-*, for llvm::cl
  int threads = 1;
  /// --max-memory: weights, the arena and any one tensor (default 8 GiB,
  /// past any BERT-family model: BERT-large needs 1.4 GB).
  uint64_t maxMemory = uint64_t(8) << 30;
  bool check = false; // --check: compare with outDir, write nothing
  bool embedWeights = false, quiet = false, verbose = false, denseOnly = false;
};

/// Prints "canaoc: error: MSG" (one line on stderr) and returns 1.
int error(const std::string &msg);

/// "512M", "8G", "1048576": bytes (K, M, G are powers of 1024), or nullopt.
std::optional<uint64_t> parseBytes(llvm::StringRef v);

/// Parses and checks argv into `o`. Returns -1 to continue, or an exit code
/// (0 after --help or --version).
int parseArgs(int argc, char **argv, Options &o);

/// The --mlir-* options (mlir-opt's: --mlir-print-ir-after=PASS,
/// --mlir-print-ir-after-all, --mlir-timing, ...), registered from MLIR and
/// parsed by llvm::cl. Returns -1 to continue, or an exit code.
int parseMlirOptions(const char *argv0, const Options &o);

/// MLIR's pass-manager options (IR printing, timing) on `pm`. Returns -1 to
/// continue, or an exit code.
int applyMlirOptions(mlir::PassManager &pm, const Options &o);

} // namespace canaoc
} // namespace canao

#endif // CANAO_COMPILER_CANAOCOPTIONS_H
