//===- ShapeUtils.h - static shape helpers shared by import and codegen ---===//
#ifndef CANAO_DIALECT_SHAPEUTILS_H
#define CANAO_DIALECT_SHAPEUTILS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <optional>
#include <string>

namespace canao {

/// NumPy broadcasting of two static shapes; nullopt if they are incompatible.
inline std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  llvm::SmallVector<int64_t> out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Number of elements of a static shape.
inline int64_t numElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Row-major strides of `shape` seen from a broadcast result of rank
/// `outRank`: broadcast (size-1 or missing) dimensions get stride 0.
inline llvm::SmallVector<int64_t>
broadcastStrides(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> out) {
  llvm::SmallVector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    int64_t o = i + static_cast<int64_t>(out.size() - shape.size());
    strides[o] = (shape[i] == 1 && out[o] != 1) ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/// "1x128" style rendering of a static shape ("scalar" for rank 0).
inline std::string describeShape(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s.empty() ? "scalar" : s;
}

} // namespace canao

#endif // CANAO_DIALECT_SHAPEUTILS_H
