//===- CostModel.cpp - FLOPs and bytes of a kernel ------------------------===//
#include "CostModel.h"

#include "Canao/CanaoOps.h"
#include "Canao/ConstantData.h"
#include "Canao/ShapeUtils.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace canao;

static int64_t elems(Value v) {
  return numElements(cast<RankedTensorType>(v.getType()).getShape());
}

static int64_t bytesOf(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return numElements(t.getShape()) * elementByteSize(t.getElementType());
}

/// Scalar ops in a fused body (per element).
static int64_t bodyOps(Region &r) {
  if (r.empty())
    return 0;
  int64_t n = 0;
  for (Operation &op : r.front())
    if (!isa<YieldOp>(op))
      ++n;
  return n;
}

KernelCost canao::kernelCost(Operation *op) {
  KernelCost c;
  for (Value v : op->getOperands())
    c.bytes += bytesOf(v);
  c.bytes += bytesOf(op->getResult(0));
  int64_t out = elems(op->getResult(0));
  c.flops =
      llvm::TypeSwitch<Operation *, int64_t>(op)
          .Case([&](DenseOp d) {
            int64_t k = d.getWeight().getType().getShape()[0];
            return 2 * out * k + out * (d.getBias() ? 1 : 0) +
                   out * bodyOps(d.getEpilogue()) +
                   (d.getLnScale() ? 8 * out : 0);
          })
          .Case([&](MatMulOp m) {
            return 2 * out * m.getLhs().getType().getShape().back();
          })
          .Case([&](AttentionOp a) {
            auto s = a.getType().getShape();
            int64_t b = s[0], seq = s[1], d = s[2];
            // QK^T and PV (2 * 2 * S * S * d per batch) + softmax.
            return 4 * b * seq * seq * d + 5 * b * a.getNumHeads() * seq * seq;
          })
          .Case([&](FusedOp f) { return out * bodyOps(f.getBody()); })
          .Case([&](EmbeddingOp e) {
            return out * static_cast<int64_t>(e.getTables().size() +
                                              e.getAddends().size() + 8);
          })
          .Case([&](LayerNormOp) { return 8 * out; })
          .Case([&](SoftmaxOp) { return 5 * out; })
          .Case([&](ReduceMeanOp r) { return elems(r.getInput()); })
          .Case<GatherOp, TransposeOp, SliceOp, ConcatOp, ExpandOp, CastOp>(
              [](Operation *) { return int64_t(0); })
          .Default([&](Operation *) { return out; });
  return c;
}
