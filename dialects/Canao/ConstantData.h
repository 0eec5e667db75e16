//===- ConstantData.h - raw bytes of canao constants ------------*- C++ -*-===//
//
// Weights are `dense_resource` blobs (zero-copy views of the model file) or,
// for small folded values, `dense` attributes. Passes and codegen read both
// through these helpers, as little-endian row-major bytes.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_DIALECT_CONSTANTDATA_H
#define CANAO_DIALECT_CONSTANTDATA_H

#include "mlir/IR/BuiltinAttributes.h"
#include <string>
#include <vector>

namespace canao {

/// Size in bytes of one element of `type` as stored (i1 is one byte).
size_t elementByteSize(mlir::Type type);

/// Row-major bytes of a constant, splats expanded. Empty on failure (for
/// example a resource whose blob was dropped).
std::vector<char> constantBytes(mlir::ElementsAttr attr);

/// A constant of `type` holding `bytes`. Small values become `dense`
/// attributes (readable in tests); large ones become a `dense_resource` blob
/// named after `nameHint`.
mlir::ElementsAttr makeConstant(mlir::ShapedType type,
                                llvm::ArrayRef<char> bytes,
                                llvm::StringRef nameHint);

/// The same bytes viewed with another shape (no copy for resources).
mlir::ElementsAttr reshapeConstant(mlir::ElementsAttr attr,
                                   mlir::ShapedType type);

/// Permutes row-major `bytes` of `shape`: result dim i = input dim perm[i].
std::vector<char> transposeBytes(llvm::ArrayRef<char> bytes,
                                 llvm::ArrayRef<int64_t> shape,
                                 llvm::ArrayRef<int64_t> perm,
                                 size_t elementSize);

} // namespace canao

#endif // CANAO_DIALECT_CONSTANTDATA_H
