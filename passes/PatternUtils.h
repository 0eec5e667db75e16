//===- PatternUtils.h - small matchers shared by canao passes --*- C++ -*-===//
#ifndef CANAO_PASSES_PATTERNUTILS_H
#define CANAO_PASSES_PATTERNUTILS_H

#include "Canao/CanaoOps.h"
#include "Canao/ConstantData.h"

#include <cstring>
#include <optional>

namespace canao {

/// The value of a float constant with one element (or a splat).
inline std::optional<double> scalarConstant(mlir::Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c || !c.getValue().getElementType().isF32())
    return std::nullopt;
  mlir::ElementsAttr attr = c.getValue();
  if (auto dense = llvm::dyn_cast<mlir::DenseElementsAttr>(attr);
      dense && dense.isSplat())
    return dense.getSplatValue<llvm::APFloat>().convertToDouble();
  if (attr.getNumElements() != 1)
    return std::nullopt;
  std::vector<char> bytes = constantBytes(attr);
  float f;
  std::memcpy(&f, bytes.data(), 4);
  return f;
}

/// The value of a one-element i32/i64 constant.
inline std::optional<int64_t> intScalarConstant(mlir::Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c || c.getValue().getNumElements() != 1)
    return std::nullopt;
  mlir::Type t = c.getValue().getElementType();
  std::vector<char> bytes = constantBytes(c.getValue());
  if (t.isInteger(64) && bytes.size() == 8) {
    int64_t x;
    std::memcpy(&x, bytes.data(), 8);
    return x;
  }
  if (t.isInteger(32) && bytes.size() == 4) {
    int32_t x;
    std::memcpy(&x, bytes.data(), 4);
    return x;
  }
  return std::nullopt;
}

/// The float contents of a constant, or empty.
inline std::vector<float> floatConstant(mlir::Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c || !c.getValue().getElementType().isF32())
    return {};
  std::vector<char> bytes = constantBytes(c.getValue());
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

/// A new f32 constant op holding `values` with `type`.
inline mlir::Value makeFloatConstant(mlir::OpBuilder &b, mlir::Location loc,
                                     mlir::RankedTensorType type,
                                     const std::vector<float> &values,
                                     llvm::StringRef name) {
  llvm::ArrayRef<char> bytes(reinterpret_cast<const char *>(values.data()),
                             values.size() * 4);
  return ConstantOp::create(b, loc, type, makeConstant(type, bytes, name));
}

} // namespace canao

#endif // CANAO_PASSES_PATTERNUTILS_H
