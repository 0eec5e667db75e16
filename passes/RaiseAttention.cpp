//===- RaiseAttention.cpp - the exporter's attention -> canao.attention ---===//
#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "Canao/ShapeUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace canao {
#define GEN_PASS_DEF_RAISEATTENTION
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

/// transpose(reshape(x : [B,S,D] -> [B,S,H,d]), perm) -> x, H.
Value matchHeadSplit(Value v, ArrayRef<int64_t> perm, int64_t &heads) {
  auto t = v.getDefiningOp<TransposeOp>();
  if (!t || t.getPerm() != perm)
    return {};
  auto r = t.getInput().getDefiningOp<ReshapeOp>();
  if (!r)
    return {};
  ArrayRef<int64_t> in = r.getInput().getType().getShape(),
                    split = r.getType().getShape();
  if (in.size() != 3 || split.size() != 4 || split[0] != in[0] ||
      split[1] != in[1] || split[2] * split[3] != in[2])
    return {};
  heads = split[2];
  return r.getInput();
}

/// reshape(transpose(o : [B,H,S,d], [0,2,1,3]) : [B,S,H,d] -> [B,S,H*d]),
/// rooted at the merge reshape.
struct AttentionPattern : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp merge,
                                PatternRewriter &rewriter) const override {
    auto t = merge.getInput().getDefiningOp<TransposeOp>();
    if (!t || t.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3})
      return failure();
    ArrayRef<int64_t> o = t.getInput().getType().getShape();
    if (o.size() != 4 || merge.getType().getShape() !=
                             ArrayRef<int64_t>{o[0], o[2], o[1] * o[3]})
      return failure();
    auto pv = t.getInput().getDefiningOp<MatMulOp>();
    if (!pv)
      return failure();
    auto softmax = pv.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax || softmax.getAxis() != 3)
      return failure();
    // scores [* or / scale] [+ mask]
    Value scores = softmax.getInput(), mask;
    if (auto add = scores.getDefiningOp<AddOp>()) {
      // The scores side is the matmul, possibly scaled; the other is the mask.
      for (int i = 0; i < 2 && !mask; ++i) {
        Operation *def = add->getOperand(i).getDefiningOp();
        if (isa_and_present<MatMulOp, DivOp, MulOp>(def)) {
          mask = add->getOperand(1 - i);
          scores = add->getOperand(i);
        }
      }
      if (!mask)
        return failure();
    }
    double scale = 1.0;
    if (auto div = scores.getDefiningOp<DivOp>()) {
      auto c = scalarConstant(div.getRhs());
      if (!c || *c == 0)
        return failure();
      scale = 1.0 / *c;
      scores = div.getLhs();
    } else if (auto mul = scores.getDefiningOp<MulOp>()) {
      Value other;
      for (int i = 0; i < 2; ++i)
        if (auto c = scalarConstant(mul->getOperand(i))) {
          scale = *c;
          other = mul->getOperand(1 - i);
        }
      if (!other)
        return failure();
      scores = other;
    }
    auto qk = scores.getDefiningOp<MatMulOp>();
    if (!qk)
      return failure();
    int64_t hq = 0, hk = 0, hv = 0;
    Value q = matchHeadSplit(qk.getLhs(), {0, 2, 1, 3}, hq);
    Value k = matchHeadSplit(qk.getRhs(), {0, 2, 3, 1}, hk);
    Value v = matchHeadSplit(pv.getRhs(), {0, 2, 1, 3}, hv);
    if (!q || !k || !v || hq != hk || hq != hv ||
        q.getType() != merge.getType() || k.getType() != q.getType() ||
        v.getType() != q.getType())
      return failure();
    if (mask) {
      ArrayRef<int64_t> out = merge.getType().getShape();
      SmallVector<int64_t> s = {out[0], hq, out[1], out[1]};
      auto b =
          broadcastShapes(cast<RankedTensorType>(mask.getType()).getShape(), s);
      if (!b || ArrayRef<int64_t>(*b) != ArrayRef<int64_t>(s))
        return failure();
    }
    rewriter.replaceOpWithNewOp<AttentionOp>(
        merge, merge.getType(), ValueRange{q, k, v}, mask,
        rewriter.getI64IntegerAttr(hq),
        rewriter.getF32FloatAttr(static_cast<float>(scale)));
    return success();
  }
};

struct RaiseAttentionPass
    : canao::impl::RaiseAttentionBase<RaiseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AttentionPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
