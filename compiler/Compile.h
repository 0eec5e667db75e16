//===- Compile.h - the phases of `canaoc MODEL -o OUT`, in order ----------===//
//
// canaoc's main and the importer's fuzz target (tests/fuzz/FuzzImport.cpp)
// run a model through the same functions, so that a phase added here is
// fuzzed too:
//
//   importVerified      ONNX -> canao dialect, verified
//   buildCanaoPipeline  raising and fusion (passes/Pipeline.h)
//   addTargetPasses     canao-tile and canao-sparse for the target
//   planKernels         kernels, arena and weight layout, within a budget
//   weightsChecksum     the blob's checksum, for the generated code
//   emitCppModel        the C++ or OpenCL renderer (codegen)
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_COMPILE_H
#define CANAO_COMPILER_COMPILE_H

#include "KernelPlan.h"
#include "Target.h"
#include "onnx/OnnxImporter.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace canao {

/// Imports `model` and verifies the result: IR that does not verify is an
/// internal error (the passes may assume verified IR).
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importVerified(mlir::MLIRContext &context, OnnxModel &model,
               const ImportOptions &options);

struct TargetPassOptions {
  /// Every dense takes the target's tile and sparse costs as given (they
  /// came from a tuning file) instead of the table's choice per op shape.
  bool tuned = false;
  /// How residual + LayerNorm epilogues split across threads ("rows" or
  /// "panels"; a tuning file's choice).
  std::string lnSplit = "rows";
  /// Keep every weight dense (canaoc --dense).
  bool denseOnly = false;
};

/// The target's decisions as IR: canao-tile (canao.tile on every dense and
/// attention) and canao-sparse (each constant weight's layout).
void addTargetPasses(mlir::PassManager &pm, const TargetDesc &target,
                     const TargetPassOptions &options);

/// The kernel plan of a lowered module. Refused, before a byte of the blob
/// exists, when its weights and arena together exceed `maxBytes`: folding
/// (a transposed or splatted weight) can make the blob larger than the file.
llvm::Expected<KernelPlan>
planKernels(mlir::ModuleOp module, const TargetDesc *target, uint64_t maxBytes);

/// The weight blob's payload checksum (canao_rt::checksum64), from a first
/// pass over the constants; the generated code checks the file against it.
llvm::Expected<uint64_t> weightsChecksum(const KernelPlan &plan);

} // namespace canao

#endif // CANAO_COMPILER_COMPILE_H
