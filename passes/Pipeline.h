//===- Pipeline.h - the canao pass pipeline ---------------------*- C++ -*-===//
#ifndef CANAO_PASSES_PIPELINE_H
#define CANAO_PASSES_PIPELINE_H

#include "mlir/Pass/PassManager.h"

#include <set>
#include <string>
#include <vector>

namespace canao {

/// The passes canaoc runs between import and codegen, in order:
/// canonicalize + CSE (op folders: reshape chains, compile-time transposes
/// of weights), raising, LP-Fusion, epilogue fusion, canonicalize + CSE.
/// Passes named in `disabled` are left out (canaoc --disable-pass=NAME).
void buildCanaoPipeline(mlir::OpPassManager &pm,
                        const std::set<std::string> &disabled);

/// The names of the passes `disabled` may name, in pipeline order.
const std::vector<std::string> &pipelinePassNames();

/// Registers `canao-pipeline` (and later the individual passes) for
/// canao-opt.
void registerAllCanaoPasses();

} // namespace canao

#endif // CANAO_PASSES_PIPELINE_H
