//===- OutputCheck.h - canaoc --check: is OUTDIR what canaoc writes? ------===//
//
// CI jobs commit generated kernels and regenerate them to prove the
// committed copy is current. canaoc writes a fresh output into a temporary
// directory and compares it here with OUTDIR, file by file, byte for byte.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_OUTPUTCHECK_H
#define CANAO_COMPILER_OUTPUTCHECK_H

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace canao {

/// Compares the fresh output in `fresh` with `outDir` and prints, to `os`,
/// the files that differ, are missing from outDir or are extra in it, and a
/// short unified diff of the first differing text file. Files outDir may
/// leave out without being stale (a notes line says so): the weight blob
/// `weightsFile` (its checksum is in the generated source) and the copied
/// runtime/ directory, when outDir has none. Returns the number of
/// differences; -1 if outDir is not a readable directory.
int compareOutputDirs(const std::string &fresh, const std::string &outDir,
                      const std::string &weightsFile, llvm::raw_ostream &os);

} // namespace canao

#endif // CANAO_COMPILER_OUTPUTCHECK_H
