//===- RaiseEmbedding.cpp - lookups + adds + LayerNorm -> canao.embedding -===//
#include "passes/Passes.h"

#include "Canao/ShapeUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace canao {
#define GEN_PASS_DEF_RAISEEMBEDDING
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

struct Leaves {
  SmallVector<Value> tables, indices, addends;
  SmallVector<Operation *> ops; // adds and gathers absorbed
};

/// Collects the leaves of an add tree whose inner adds have one use.
bool collect(Value v, RankedTensorType type, Leaves &out, bool root) {
  Operation *def = v.getDefiningOp();
  if (auto add = dyn_cast_or_null<AddOp>(def);
      add && (root || add->hasOneUse()) && add.getType() == type) {
    out.ops.push_back(add);
    return collect(add.getLhs(), type, out, false) &&
           collect(add.getRhs(), type, out, false);
  }
  // A lookup may broadcast (position ids [1, S] against a batch of B).
  auto broadcasts = [&](Type t) {
    auto b =
        broadcastShapes(cast<RankedTensorType>(t).getShape(), type.getShape());
    return b && ArrayRef<int64_t>(*b) == type.getShape() &&
           cast<RankedTensorType>(t).getRank() == type.getRank();
  };
  if (auto g = dyn_cast_or_null<GatherOp>(def);
      g && g->hasOneUse() && g.getAxis() == 0 && broadcasts(g.getType()) &&
      g.getData().getDefiningOp<ConstantOp>() &&
      g.getData().getType().getRank() == 2) {
    out.tables.push_back(g.getData());
    out.indices.push_back(g.getIndices());
    out.ops.push_back(g);
    return true;
  }
  auto t = cast<RankedTensorType>(v.getType());
  auto b = broadcastShapes(t.getShape(), type.getShape());
  if (!v.getDefiningOp<ConstantOp>() || !t.getElementType().isF32() || !b ||
      ArrayRef<int64_t>(*b) != type.getShape())
    return false;
  out.addends.push_back(v);
  return true;
}

struct EmbeddingPattern : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp ln,
                                PatternRewriter &rewriter) const override {
    auto type = ln.getType();
    int64_t d = type.getShape().back();
    if (ln.getAxis() != static_cast<uint64_t>(type.getRank() - 1) ||
        !ln.getBias() ||
        ln.getScale().getType().getShape() != ArrayRef<int64_t>{d} ||
        ln.getBias().getType().getShape() != ArrayRef<int64_t>{d})
      return failure();
    Leaves leaves;
    if (!collect(ln.getInput(), type, leaves, true) || leaves.tables.empty())
      return failure();
    rewriter.replaceOpWithNewOp<EmbeddingOp>(
        ln, type, leaves.tables, leaves.indices, leaves.addends, ln.getScale(),
        ln.getBias(), ln.getEpsilonAttr());
    return success();
  }
};

struct RaiseEmbeddingPass
    : canao::impl::RaiseEmbeddingBase<RaiseEmbeddingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<EmbeddingPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
