//===- RaiseEmbedding.cpp - lookups + adds + LayerNorm -> canao.embedding -===//
#include "passes/Passes.h"
#include "passes/PatternUtils.h"

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
        ln.getBias(), ln.getEpsilonAttr(), IntegerAttr(), IntegerAttr());
    return success();
  }
};

/// Strips a cast, if any.
Value uncast(Value v) {
  auto c = v.getDefiningOp<CastOp>();
  return c ? c.getInput() : v;
}

/// HF's create_position_ids_from_input_ids as exported:
/// add(cast(mul(cumsum(m, last), m)), P) with m = cast(not(equal(ids, P))).
/// Returns ids and P.
std::optional<std::pair<Value, int64_t>> matchPaddedPositions(Value idx) {
  auto add = idx.getDefiningOp<AddOp>();
  if (!add)
    return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    auto p = intScalarConstant(add->getOperand(side));
    auto mul = uncast(add->getOperand(1 - side)).getDefiningOp<MulOp>();
    if (!p || !mul)
      continue;
    for (int i = 0; i < 2; ++i) {
      auto scan = mul->getOperand(i).getDefiningOp<CumSumOp>();
      Value m = mul->getOperand(1 - i);
      if (!scan || scan.getInput() != m || scan.getExclusive() ||
          scan.getReverse() || scan.getAxis() != scan.getType().getRank() - 1)
        continue;
      auto notOp = uncast(m).getDefiningOp<NotOp>();
      auto eq = notOp ? notOp.getInput().getDefiningOp<EqualOp>() : EqualOp();
      if (!eq)
        continue;
      for (int e = 0; e < 2; ++e)
        if (intScalarConstant(eq->getOperand(e)) == p &&
            eq->getOperand(1 - e).getType() == idx.getType())
          return std::make_pair(eq->getOperand(1 - e), *p);
    }
  }
  return std::nullopt;
}

/// Folds a padding-aware position-id computation into the embedding, which
/// counts a row's non-padding ids itself (7 small integer kernels fewer).
struct PaddedPositionsPattern : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getPositionTable())
      return failure();
    ArrayRef<int64_t> out = op.getType().getShape();
    for (auto [t, idx] : llvm::enumerate(op.getIndices())) {
      auto match = matchPaddedPositions(idx);
      if (!match || out.size() != 3 ||
          cast<RankedTensorType>(idx.getType()).getShape() != out.drop_back())
        continue;
      int64_t rows =
          cast<RankedTensorType>(op.getTables()[t].getType()).getDimSize(0);
      if (match->second < 0 || match->second + out[1] >= rows)
        continue;
      SmallVector<Value> indices(op.getIndices());
      indices[t] = match->first;
      rewriter.replaceOpWithNewOp<EmbeddingOp>(
          op, op.getType(), op.getTables(), indices, op.getAddends(),
          op.getLnScale(), op.getLnBias(), op.getLnEpsilonAttr(),
          rewriter.getI64IntegerAttr(t),
          rewriter.getI64IntegerAttr(match->second));
      return success();
    }
    return failure();
  }
};

struct RaiseEmbeddingPass
    : canao::impl::RaiseEmbeddingBase<RaiseEmbeddingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<EmbeddingPattern, PaddedPositionsPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
