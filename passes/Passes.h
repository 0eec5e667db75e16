//===- Passes.h - canao passes ----------------------------------*- C++ -*-===//
#ifndef CANAO_PASSES_PASSES_H
#define CANAO_PASSES_PASSES_H

#include "Canao/CanaoDialect.h"
#include "Canao/CanaoOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace canao {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace canao

#endif // CANAO_PASSES_PASSES_H
