//===- OnnxImporter.h - ONNX graph to canao dialect -------------*- C++ -*-===//
#ifndef CANAO_COMPILER_ONNX_ONNXIMPORTER_H
#define CANAO_COMPILER_ONNX_ONNXIMPORTER_H

#include "onnx/HostTensor.h"
#include "onnx/OnnxModel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace canao {

struct ImportOptions {
  /// --shape NAME=D0xD1: static shapes for inputs with symbolic dims.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// --freeze NAME=FILE.npy: inputs that become compile-time constants.
  std::map<std::string, HostTensor> frozen;
  /// --max-memory: the most bytes the weights together, or any one
  /// run-time tensor, may need; 0 means no limit. Checked before anything
  /// that large is allocated.
  uint64_t maxBytes = 0;
  /// Receives informational notes (defaults that were applied).
  std::function<void(const std::string &)> note;
};

/// Imports the main graph of `model` as `func.func @main` in a new module.
/// `model` must outlive the module: weights are views of its bytes.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxModel(mlir::MLIRContext &context, OnnxModel &model,
                const ImportOptions &options);

} // namespace canao

#endif // CANAO_COMPILER_ONNX_ONNXIMPORTER_H
