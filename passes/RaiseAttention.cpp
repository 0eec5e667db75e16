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

/// Whether `v` is the attention scores: a matmul, possibly scaled and with
/// terms added (the side of an add to keep peeling).
bool reachesMatMul(Value v) {
  for (int depth = 0; depth < 8; ++depth) {
    Operation *def = v.getDefiningOp();
    if (isa_and_present<MatMulOp>(def))
      return true;
    if (!isa_and_present<AddOp, DivOp, MulOp>(def))
      return false;
    // An add continues on whichever side is the scores; scale ops on lhs
    // or on the non-constant side.
    if (auto add = dyn_cast<AddOp>(def)) {
      if (reachesMatMul(add.getRhs()))
        return true;
      v = add.getLhs();
    } else if (scalarConstant(def->getOperand(0))) {
      v = def->getOperand(1);
    } else {
      v = def->getOperand(0);
    }
  }
  return false;
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
    // scores [* or / scale] [+ mask] [+ bias ...]: every addend on the way
    // from the softmax to the scaled matmul is summed into one mask (a
    // relative position bias, MPNet's, plus the padding mask).
    Value scores = softmax.getInput();
    SmallVector<Value> addends;
    while (auto add = scores.getDefiningOp<AddOp>()) {
      int side = reachesMatMul(add.getLhs())   ? 0
                 : reachesMatMul(add.getRhs()) ? 1
                                               : -1;
      if (side < 0)
        return failure();
      addends.push_back(add->getOperand(1 - side));
      scores = add->getOperand(side);
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
    ArrayRef<int64_t> out = merge.getType().getShape();
    SmallVector<int64_t> full = {out[0], hq, out[1], out[1]};
    for (Value a : addends) {
      auto b =
          broadcastShapes(cast<RankedTensorType>(a.getType()).getShape(), full);
      if (!b || ArrayRef<int64_t>(*b) != ArrayRef<int64_t>(full))
        return failure();
    }
    // The addends are summed outermost first, as the graph added them
    // (layers share them, so CSE leaves one sum for the whole encoder).
    Value mask;
    for (Value a : llvm::reverse(addends)) {
      if (!mask) {
        mask = a;
        continue;
      }
      auto shape =
          *broadcastShapes(cast<RankedTensorType>(mask.getType()).getShape(),
                           cast<RankedTensorType>(a.getType()).getShape());
      mask = AddOp::create(rewriter, merge.getLoc(),
                           RankedTensorType::get(shape, rewriter.getF32Type()),
                           mask, a);
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
