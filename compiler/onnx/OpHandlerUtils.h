//===- OpHandlerUtils.h - what the ONNX op handlers share -------*- C++ -*-===//
//
// The handler table is split by op family across OnnxOpHandlers.cpp (the
// ops BERT exports use) and OnnxFamilyHandlers.cpp (the rest of the BERT
// family: comparisons and logic, min/max, reductions, cumsum, pad, ...).
// Both build on these helpers, so that folding and type rules are the same.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_ONNX_OPHANDLERUTILS_H
#define CANAO_COMPILER_ONNX_OPHANDLERUTILS_H

#include "onnx/ImporterState.h"

#include <functional>
#include <map>
#include <string>

namespace canao {
namespace handlers {

using Handler = std::function<llvm::Error(ImporterState &)>;
using HandlerTable = std::map<std::string, Handler>;

/// Collects inputs [0, n), failing on the first error.
llvm::Expected<llvm::SmallVector<Slot *>> inputs(ImporterState &st, int n);

bool allFoldable(llvm::ArrayRef<Slot *> slots);

llvm::Expected<llvm::SmallVector<int64_t>>
broadcastAll(ImporterState &st, llvm::ArrayRef<Slot *> slots);

mlir::RankedTensorType typeOf(ImporterState &st, llvm::ArrayRef<int64_t> shape,
                              DType dtype);

inline bool isInteger(DType t) { return t == DType::I64 || t == DType::I32; }

/// Builds one binary canao op with result type `type`.
using BinaryBuilder = std::function<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::Type, mlir::Value, mlir::Value)>;

template <typename OpT> BinaryBuilder builderOf() {
  return [](mlir::OpBuilder &b, mlir::Location loc, mlir::Type t, mlir::Value x,
            mlir::Value y) -> mlir::Value {
    return OpT::create(b, loc, t, x, y).getResult();
  };
}

enum class BinaryKind {
  Arith,   ///< same-type operands and result (integer results truncate)
  Compare, ///< same-type operands, bool result
  Logic,   ///< bool operands and result
};

/// `a OP b` as a new slot (not yet in the state): folded on the host when
/// both are small constants, else one canao op.
llvm::Expected<Slot>
applyBinary(ImporterState &st, const BinaryBuilder &build,
            const std::function<double(double, double)> &fold, BinaryKind kind,
            Slot &a, Slot &b);

/// A handler for a two-input op; `swap` feeds the inputs in reverse order
/// (Greater(a, b) is Less(b, a)).
Handler binaryHandler(BinaryBuilder build,
                      std::function<double(double, double)> fold,
                      BinaryKind kind, bool swap = false);

template <typename OpT>
Handler binary(std::function<double(double, double)> fold,
               BinaryKind kind = BinaryKind::Arith, bool swap = false) {
  return binaryHandler(builderOf<OpT>(), std::move(fold), kind, swap);
}

/// A one-input op on float32 (and, if `integers`, int32/int64; for a
/// logic op, bool) tensors.
using UnaryBuilder =
    std::function<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::Value)>;
Handler unaryHandler(UnaryBuilder build, std::function<double(double)> fold,
                     bool integers, bool logic = false);

template <typename OpT>
Handler unary(std::function<double(double)> fold, bool integers = false,
              bool logic = false) {
  return unaryHandler(
      [](mlir::OpBuilder &b, mlir::Location loc, mlir::Value v) {
        return OpT::create(b, loc, v.getType(), v).getResult();
      },
      std::move(fold), integers, logic);
}

/// `s` converted to `to` (folded for constants).
Slot castSlot(ImporterState &st, Slot &s, DType to);

/// A scalar constant slot.
Slot scalarSlot(DType dtype, double v);

/// A reshape of `a` to `shape` (views of constants stay constants).
llvm::Expected<Slot> reshapeSlot(ImporterState &st, Slot &a,
                                 llvm::ArrayRef<int64_t> shape);

/// Emits or folds a reshape of `a` to `shape` as output 0 of the node.
llvm::Error reshapeTo(ImporterState &st, Slot &a,
                      llvm::ArrayRef<int64_t> shape);

/// Axes given by attribute (before `inputSinceOpset`) or by input 1.
/// Unset when the node has neither.
llvm::Expected<std::optional<std::vector<int64_t>>>
axesOperand(ImporterState &st, int64_t inputSinceOpset);

void addFamilyHandlers(HandlerTable &table);

} // namespace handlers
} // namespace canao

#endif // CANAO_COMPILER_ONNX_OPHANDLERUTILS_H
