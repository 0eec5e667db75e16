//===- EmitSupport.h - what the kernel emitters share ----------*- C++ -*-===//
//
// Loop nests with compile-time trip counts, operand naming, and the
// rendering of fused arith/math bodies as scalar or vector C++. Used by
// KernelEmitter.cpp (element-wise and data-movement families) and
// GemmEmitter.cpp (dense and attention, built on runtime microkernels).
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_CODEGEN_EMITSUPPORT_H
#define CANAO_CODEGEN_EMITSUPPORT_H

#include "KernelEmitter.h"

#include "Canao/CanaoOps.h"
#include "Canao/ShapeUtils.h"

#include "mlir/IR/Block.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>
#include <vector>

namespace canao {
namespace emit {

using llvm::ArrayRef;
using llvm::SmallVector;
using mlir::Value;

struct Access {
  std::string ptr;
  int64_t base = 0;
  SmallVector<int64_t> strides; // one per loop dim
};

inline SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

inline ArrayRef<int64_t> shapeOf(Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType()).getShape();
}

/// The offset of flattened row `m` of `lead` in an operand with broadcast
/// strides `st` (one per lead dim), as a C (C++ and OpenCL) expression.
std::string rowOffset(ArrayRef<int64_t> lead, ArrayRef<int64_t> st);

/// Emits loops over `shape` and calls `body` with one offset expression per
/// access. Unit dims are dropped and dims contiguous for all accesses merged.
class LoopNest {
public:
  LoopNest(ArrayRef<int64_t> shape, std::vector<Access> accesses)
      : accesses_(std::move(accesses)) {
    SmallVector<int64_t> dims;
    std::vector<SmallVector<int64_t>> strides(accesses_.size());
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1)
        continue;
      bool merge = !dims.empty();
      for (size_t a = 0; a < accesses_.size() && merge; ++a)
        merge = strides[a].back() == accesses_[a].strides[d] * shape[d];
      if (merge) {
        dims.back() *= shape[d];
        for (size_t a = 0; a < accesses_.size(); ++a)
          strides[a].back() = accesses_[a].strides[d];
        continue;
      }
      dims.push_back(shape[d]);
      for (size_t a = 0; a < accesses_.size(); ++a)
        strides[a].push_back(accesses_[a].strides[d]);
    }
    dims_ = dims;
    for (size_t a = 0; a < accesses_.size(); ++a)
      accesses_[a].strides = strides[a];
  }

  std::string
  render(llvm::function_ref<std::string(ArrayRef<std::string>)> body,
         int indent = 1) const {
    std::string out;
    for (size_t d = 0; d < dims_.size(); ++d)
      out += pad(indent + d) + "for (int64_t i" + std::to_string(d) +
             " = 0; i" + std::to_string(d) + " < " + std::to_string(dims_[d]) +
             "; ++i" + std::to_string(d) + ") {\n";
    SmallVector<std::string> offsets;
    for (const Access &a : accesses_) {
      std::string e;
      if (a.base)
        e = std::to_string(a.base);
      for (size_t d = 0; d < dims_.size(); ++d) {
        if (a.strides[d] == 0)
          continue;
        if (!e.empty())
          e += " + ";
        e += "i" + std::to_string(d);
        if (a.strides[d] != 1)
          e += " * " + std::to_string(a.strides[d]);
      }
      offsets.push_back(e.empty() ? "0" : e);
    }
    out += pad(indent + dims_.size()) + body(offsets) + "\n";
    for (size_t d = dims_.size(); d-- > 0;)
      out += pad(indent + d) + "}\n";
    return out;
  }

  /// The offset of each access for the linear element index `m` instead
  /// of loop counters (one OpenCL work-item per element), over the same
  /// merged dims.
  SmallVector<std::string> flatOffsets() const {
    SmallVector<std::string> offsets;
    for (const Access &a : accesses_)
      offsets.push_back((a.base ? std::to_string(a.base) + " + " : "") +
                        rowOffset(dims_, a.strides));
    return offsets;
  }

  static std::string pad(size_t n) { return std::string(2 * n, ' '); }

private:
  SmallVector<int64_t> dims_;
  std::vector<Access> accesses_;
};

inline std::string in(int i) { return "in" + std::to_string(i); }

/// The accesses of an element-wise kernel: each of `inputs` as in0..inN,
/// broadcast to `out`, then `out` itself (row-major), for LoopNest.
inline std::vector<Access> broadcastAccesses(mlir::ValueRange inputs,
                                             ArrayRef<int64_t> out) {
  std::vector<Access> acc;
  for (auto [i, v] : llvm::enumerate(inputs))
    acc.push_back({in(i), 0, broadcastStrides(shapeOf(v), out)});
  acc.push_back({"out", 0, rowMajorStrides(out)});
  return acc;
}

/// `inN[offset]` for every input access of a broadcastAccesses nest (all
/// offsets but the last, which is out's).
inline SmallVector<std::string> inputElements(ArrayRef<std::string> off) {
  SmallVector<std::string> args;
  for (size_t i = 0; i + 1 < off.size(); ++i)
    args.push_back(in(i) + "[" + off[i] + "]");
  return args;
}

/// The input access of a slice (starts as the base, steps in the strides)
/// and of a transpose (the input's strides permuted), over the result.
inline Access sliceSource(SliceOp op) {
  SmallVector<int64_t> inStrides = rowMajorStrides(shapeOf(op.getInput()));
  Access a{"in0", 0, {}};
  for (size_t d = 0; d < inStrides.size(); ++d) {
    a.base += op.getStarts()[d] * inStrides[d];
    a.strides.push_back(op.getSteps()[d] * inStrides[d]);
  }
  return a;
}
inline Access transposeSource(TransposeOp op) {
  SmallVector<int64_t> inStrides = rowMajorStrides(shapeOf(op.getInput()));
  Access a{"in0", 0, {}};
  for (int64_t p : op.getPerm())
    a.strides.push_back(inStrides[p]);
  return a;
}

/// C++ statements for a fused body (arith/math ops), given the expression of
/// each block argument. `result` is the expression of the yielded value;
/// temporaries are declared in `stmts`.
struct RenderedBody {
  std::string stmts;
  std::string result;
};

/// The language a scalar body is rendered in: the C++ kernels, or the
/// OpenCL C ones (same expressions, C99 spellings).
enum class Lang { Cpp, OpenCL };

/// The OpenCL C element type (float, long, int, uchar for i1).
std::string clType(mlir::Type t);

/// The expression of one element of a single element-wise op (canao.add,
/// canao.cast, ...) from its operands' element expressions; nullopt for ops
/// that are not element-wise.
std::optional<std::string> elementExpr(mlir::Operation *op,
                                       ArrayRef<std::string> a, Lang lang);

/// Scalar floats.
llvm::Expected<RenderedBody> renderScalarBody(mlir::Block &block,
                                              ArrayRef<std::string> args,
                                              const std::string &indent,
                                              Lang lang = Lang::Cpp);

/// Values of vector type `vecType` (a GCC vector-extension float type
/// declared by the kernel); transcendental ops call canao/ukernels/vmath.h.
/// Fails for ops with no vector form (the caller then uses the scalar one).
llvm::Expected<RenderedBody> renderVectorBody(mlir::Block &block,
                                              ArrayRef<std::string> args,
                                              const std::string &indent,
                                              const std::string &vecType);

/// `typedef float vf ...;`: the target's vector type, for kernels that call
/// the runtime's row kernels or vmath.
std::string vecTypedef(const TargetDesc &target);

llvm::Expected<std::string> emitDense(DenseOp op, const TargetDesc &target);

/// Operand numbers of a canao.dense kernel: input 0, weight 1, then
/// [bias], extra..., [ln_scale, ln_bias]; -1 where absent.
struct DenseOperands {
  int bias = -1, firstExtra = 2, lnScale = -1, lnBias = -1;
};
DenseOperands denseOperands(DenseOp op);

/// A layer_norm's row length and how its kernel indexes scale and bias
/// within a row ("j" per element, "0" for a scalar; bias "" when absent).
struct LayerNormIndexing {
  int64_t n = 0;
  std::string scale, bias;
};
llvm::Expected<LayerNormIndexing> layerNormIndexing(LayerNormOp op);

// Reductions, scans and pads (ReductionEmitter.cpp).
std::string emitReduce(mlir::Operation *op);
std::string emitArgMax(ArgMaxOp op);
std::string emitCumSum(CumSumOp op);
std::string emitPad(PadOp op);
llvm::Expected<std::string> emitAttention(AttentionOp op,
                                          const TargetDesc &target);

} // namespace emit
} // namespace canao

#endif // CANAO_CODEGEN_EMITSUPPORT_H
