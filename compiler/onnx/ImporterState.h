//===- ImporterState.h - state shared by the ONNX op handlers --*- C++ -*-===//
#ifndef CANAO_COMPILER_ONNX_IMPORTERSTATE_H
#define CANAO_COMPILER_ONNX_IMPORTERSTATE_H

#include "onnx/HostTensor.h"
#include "onnx/OnnxModel.h"

#include "Canao/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <map>
#include <optional>
#include <set>

namespace onnx {
class AttributeProto;
} // namespace onnx

namespace canao {

/// One ONNX value: its static type, and a runtime SSA value and/or a
/// compile-time value.
struct Slot {
  std::string name;
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t> shape;
  mlir::Value value;
  std::optional<HostTensor> constant;

  /// True when the value is known at compile time and small enough to fold.
  bool foldable() const { return constant && constant->small(); }
};

/// A slot for an SSA value (its type gives shape and dtype).
Slot valueSlot(mlir::Value v);
/// A slot for a compile-time value.
Slot constantSlot(HostTensor t);

struct ImporterState {
  ImporterState(mlir::MLIRContext &ctx, OnnxModel &model)
      : b(&ctx), model(model) {}

  mlir::OpBuilder b;
  OnnxModel &model;
  mlir::func::FuncOp func;
  std::map<std::string, Slot> slots;
  std::map<std::string, const onnx::TensorProto *> initializers;
  const onnx::NodeProto *node = nullptr;
  mlir::Location loc = b.getUnknownLoc();

  mlir::Type elementType(DType t);
  mlir::RankedTensorType tensorType(const Slot &s);

  /// An error about the current node: "node 'NAME' (OP): MSG".
  llvm::Error nodeError(const llvm::Twine &msg) const;

  llvm::Expected<Slot *> input(int i);
  bool hasInput(int i) const;
  llvm::Expected<const HostTensor *> constantInput(int i);
  llvm::Expected<std::vector<int64_t>> constantInts(int i);

  void setOutput(int i, Slot slot);
  void setOutput(int i, mlir::Value v);
  void setOutput(int i, HostTensor t);

  /// The SSA value of a slot, materializing a constant if needed.
  mlir::Value value(Slot &s);

  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t intAttr(llvm::StringRef name, int64_t dflt) const;
  float floatAttr(llvm::StringRef name, float dflt) const;
  std::optional<std::vector<int64_t>> intsAttr(llvm::StringRef name) const;
  llvm::Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank);

  int64_t opset() const { return model.opset(); }
};

/// Dispatches the current node (`st.node`) to its op handler.
llvm::Error importNode(ImporterState &st);

} // namespace canao

#endif // CANAO_COMPILER_ONNX_IMPORTERSTATE_H
