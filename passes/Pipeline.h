//===- Pipeline.h - the canao pass pipeline ---------------------*- C++ -*-===//
#ifndef CANAO_PASSES_PIPELINE_H
#define CANAO_PASSES_PIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace canao {

/// The passes canaoc runs between import and codegen, in order. Today:
/// canonicalization (op folders: reshape chains, compile-time transposes of
/// weights, identity casts) and CSE. Raising and fusion passes come next.
void buildCanaoPipeline(mlir::OpPassManager &pm);

/// Registers `canao-pipeline` (and later the individual passes) for
/// canao-opt.
void registerCanaoPasses();

} // namespace canao

#endif // CANAO_PASSES_PIPELINE_H
