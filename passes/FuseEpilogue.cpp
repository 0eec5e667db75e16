//===- FuseEpilogue.cpp - element-wise and LayerNorm into canao.dense -----===//
#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace canao {
#define GEN_PASS_DEF_FUSEEPILOGUE
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

/// dense -> fused (sole user, same shape): the fused body becomes the
/// dense epilogue; its other inputs become the dense's `extra` operands.
bool absorbFused(DenseOp dense) {
  if (!dense->hasOneUse() || !dense.getEpilogue().empty() || dense.getLnScale())
    return false;
  auto fused = dyn_cast<FusedOp>(*dense->user_begin());
  if (!fused || fused.getType() != dense.getType())
    return false;
  // The dense result may feed the body more than once; it is one argument.
  int accIndex = -1;
  SmallVector<Value> extra;
  for (auto [i, v] : llvm::enumerate(fused.getInputs())) {
    if (v == dense.getResult()) {
      if (accIndex >= 0)
        return false;
      accIndex = i;
    } else {
      extra.push_back(v);
    }
  }
  OpBuilder b(fused);
  auto merged = DenseOp::create(
      b, fused.getLoc(), fused.getType(), dense.getInput(), dense.getWeight(),
      dense.getBias(), extra, Value(), Value(), FloatAttr());
  Block &old = fused.getBody().front();
  Block *body = b.createBlock(&merged.getEpilogue());
  IRMapping map;
  map.map(
      old.getArgument(accIndex),
      body->addArgument(old.getArgument(accIndex).getType(), fused.getLoc()));
  for (auto [i, arg] : llvm::enumerate(old.getArguments()))
    if (static_cast<int>(i) != accIndex)
      map.map(arg, body->addArgument(arg.getType(), fused.getLoc()));
  for (Operation &op : old)
    b.clone(op, map);
  fused.getResult().replaceAllUsesWith(merged.getResult());
  fused->erase();
  dense->erase();
  return true;
}

/// dense -> layer_norm over the last dim (sole user): row-wise LN epilogue.
bool absorbLayerNorm(DenseOp dense) {
  if (!dense->hasOneUse() || dense.getLnScale())
    return false;
  auto ln = dyn_cast<LayerNormOp>(*dense->user_begin());
  int64_t rank = dense.getType().getRank();
  int64_t n = dense.getType().getShape().back();
  auto isVec = [&](Value v) {
    return v && cast<RankedTensorType>(v.getType()).getShape() ==
                    ArrayRef<int64_t>{n};
  };
  if (!ln || ln.getAxis() != static_cast<uint64_t>(rank - 1) ||
      !isVec(ln.getScale()) || !isVec(ln.getBias()))
    return false;
  OpBuilder b(ln);
  auto merged =
      DenseOp::create(b, ln.getLoc(), ln.getType(), dense.getInput(),
                      dense.getWeight(), dense.getBias(), dense.getExtra(),
                      ln.getScale(), ln.getBias(), ln.getEpsilonAttr());
  merged.getEpilogue().takeBody(dense.getEpilogue());
  ln.getResult().replaceAllUsesWith(merged.getResult());
  ln->erase();
  dense->erase();
  return true;
}

struct FuseEpiloguePass : canao::impl::FuseEpilogueBase<FuseEpiloguePass> {
  void runOnOperation() override {
    SmallVector<DenseOp> denses;
    getOperation().walk([&](DenseOp d) { denses.push_back(d); });
    for (DenseOp d : denses)
      absorbFused(d);
    SmallVector<DenseOp> again;
    getOperation().walk([&](DenseOp d) { again.push_back(d); });
    for (DenseOp d : again)
      absorbLayerNorm(d);
  }
};

} // namespace
