//===- RaiseDense.cpp - matmul (+ bias) by a constant -> canao.dense ------===//
#include "passes/Passes.h"

#include "Canao/ConstantData.h"
#include "Canao/ShapeUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace canao {
#define GEN_PASS_DEF_RAISEDENSE
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

/// A constant [K, N] weight.
bool isWeight(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getRank() == 2 && v.getDefiningOp<ConstantOp>();
}

/// A constant with N elements along the last dim and 1 elsewhere, as [N].
Value asBias(PatternRewriter &rewriter, Value v, int64_t n) {
  auto c = v.getDefiningOp<ConstantOp>();
  auto t = cast<RankedTensorType>(v.getType());
  if (!c || t.getRank() < 1 || t.getShape().back() != n ||
      numElements(t.getShape()) != n)
    return {};
  if (t.getRank() == 1)
    return v;
  auto type = RankedTensorType::get({n}, t.getElementType());
  return ConstantOp::create(rewriter, c.getLoc(), type,
                            reshapeConstant(c.getValue(), type));
}

/// add(matmul(x, W), b) or add(b, matmul(x, W)) -> dense(x, W, b).
struct DenseWithBias : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (int i = 0; i < 2; ++i) {
      auto mm = add->getOperand(i).getDefiningOp<MatMulOp>();
      if (!mm || !mm->hasOneUse() || !isWeight(mm.getRhs()) ||
          add.getType() != mm.getType())
        continue;
      int64_t n = mm.getType().getShape().back();
      Value bias = asBias(rewriter, add->getOperand(1 - i), n);
      if (!bias)
        continue;
      rewriter.replaceOpWithNewOp<DenseOp>(add, add.getType(), mm.getLhs(),
                                           mm.getRhs(), bias, ValueRange{},
                                           Value(), Value(), FloatAttr());
      return success();
    }
    return failure();
  }
};

/// matmul(x, W) with no bias -> dense(x, W).
struct DenseNoBias : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp mm,
                                PatternRewriter &rewriter) const override {
    if (!isWeight(mm.getRhs()))
      return failure();
    // Leave the bias form (add of a constant) to DenseWithBias.
    if (mm->hasOneUse())
      if (auto add = dyn_cast<AddOp>(*mm->user_begin()))
        for (Value v : add->getOperands())
          if (v != mm.getResult() && v.getDefiningOp<ConstantOp>())
            return failure();
    rewriter.replaceOpWithNewOp<DenseOp>(mm, mm.getType(), mm.getLhs(),
                                         mm.getRhs(), Value(), ValueRange{},
                                         Value(), Value(), FloatAttr());
    return success();
  }
};

struct RaiseDensePass : canao::impl::RaiseDenseBase<RaiseDensePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DenseWithBias>(&getContext(), /*benefit=*/2);
    patterns.add<DenseNoBias>(&getContext(), /*benefit=*/1);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
