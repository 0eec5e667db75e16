//===- HostTensor.h - compile-time tensors for import-time folding -C++ -*-===//
//
// The exporter's shape plumbing (Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape) is evaluated while importing, because static result types need the
// values anyway. A HostTensor is either a zero-copy view of model bytes (a
// weight) or a small computed value held as doubles, which represent every
// int32, float32 and in-range int64 exactly.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_ONNX_HOSTTENSOR_H
#define CANAO_COMPILER_ONNX_HOSTTENSOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace canao {

enum class DType { F32, I64, I32, Bool };

const char *dtypeName(DType t);
size_t dtypeSize(DType t);

/// Largest tensor folded at import time; larger ones stay graph ops.
constexpr int64_t kFoldLimit = 1 << 16;

struct HostTensor {
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t> shape;
  /// Zero-copy little-endian bytes (weights), or empty.
  llvm::ArrayRef<char> raw;
  /// Values as doubles (computed tensors), or empty when `raw` is used.
  std::vector<double> values;

  int64_t numElements() const;
  bool small() const { return numElements() <= kFoldLimit; }
  /// Values as doubles; only for small tensors.
  std::vector<double> toDoubles() const;
  /// Row-major little-endian bytes in the dtype's storage format.
  std::vector<char> toBytes() const;
  /// Values as int64 (for shape-like operands).
  std::vector<int64_t> toInts() const;

  static HostTensor fromValues(DType dtype, llvm::ArrayRef<int64_t> shape,
                               std::vector<double> values);
};

/// Rounds `v` to what `dtype` can hold (float32 rounding, integer
/// truncation, bool normalization).
double roundTo(DType dtype, double v);

/// NumPy-broadcasting element-wise evaluation.
HostTensor evalElementwise(llvm::ArrayRef<const HostTensor *> inputs,
                           DType outType, llvm::ArrayRef<int64_t> outShape,
                           llvm::function_ref<double(const double *)> fn);

HostTensor evalGather(const HostTensor &data, const HostTensor &indices,
                      int64_t axis, llvm::ArrayRef<int64_t> outShape);
HostTensor evalSlice(const HostTensor &in, llvm::ArrayRef<int64_t> starts,
                     llvm::ArrayRef<int64_t> steps,
                     llvm::ArrayRef<int64_t> outShape);
HostTensor evalConcat(llvm::ArrayRef<const HostTensor *> inputs, int64_t axis,
                      llvm::ArrayRef<int64_t> outShape);
HostTensor evalTranspose(const HostTensor &in, llvm::ArrayRef<int64_t> perm);

} // namespace canao

#endif // CANAO_COMPILER_ONNX_HOSTTENSOR_H
