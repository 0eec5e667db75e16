//===- RaiseLayerNorm.cpp - decomposed LayerNorm -> canao.layer_norm ------===//
#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "Canao/ConstantData.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace canao {
#define GEN_PASS_DEF_RAISELAYERNORM
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

/// mean over exactly the last axis, keepdims.
bool isLastAxisMean(ReduceMeanOp m) {
  int64_t rank = m.getInput().getType().getRank();
  return m.getKeepdims() && m.getAxes().size() == 1 &&
         m.getAxes()[0] == rank - 1;
}

/// One of the two operands of a commutative op defined by OpT; the other
/// operand is returned in `other`.
template <typename OpT> OpT operandOf(Operation *op, Value &other) {
  for (int i = 0; i < 2; ++i)
    if (auto def = op->getOperand(i).getDefiningOp<OpT>()) {
      other = op->getOperand(1 - i);
      return def;
    }
  return nullptr;
}

/// Matches x - mean(x) over the last axis; returns x.
Value matchCentered(Value v) {
  auto sub = v.getDefiningOp<SubOp>();
  if (!sub)
    return {};
  auto mean = sub.getRhs().getDefiningOp<ReduceMeanOp>();
  if (!mean || mean.getInput() != sub.getLhs() || !isLastAxisMean(mean))
    return {};
  return sub.getLhs();
}

/// (x - mean) / sqrt(mean((x - mean)^2) + eps) [* g] [+ b] -> layer_norm.
/// Rooted at the Div; the optional affine tail is absorbed when constant.
struct DecomposedLayerNorm : OpRewritePattern<DivOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DivOp div,
                                PatternRewriter &rewriter) const override {
    Value x = matchCentered(div.getLhs());
    auto sqrt = div.getRhs().getDefiningOp<SqrtOp>();
    if (!x || !sqrt)
      return failure();
    auto addEps = sqrt.getInput().getDefiningOp<AddOp>();
    if (!addEps)
      return failure();
    Value epsValue;
    auto var = operandOf<ReduceMeanOp>(addEps, epsValue);
    std::optional<double> eps =
        epsValue ? scalarConstant(epsValue) : std::nullopt;
    if (!var || !eps || !isLastAxisMean(var))
      return failure();
    // mean((x - mean)^2): Pow(d, 2) or d * d.
    Value sq = var.getInput(), d;
    if (auto pow = sq.getDefiningOp<PowOp>()) {
      auto two = scalarConstant(pow.getRhs());
      if (!two || *two != 2.0f)
        return failure();
      d = pow.getLhs();
    } else if (auto mul = sq.getDefiningOp<MulOp>()) {
      if (mul.getLhs() != mul.getRhs())
        return failure();
      d = mul.getLhs();
    } else {
      return failure();
    }
    if (matchCentered(d) != x)
      return failure();

    // Optional affine tail: * gamma, then + beta (constants over the last dim).
    auto type = cast<RankedTensorType>(x.getType());
    int64_t n = type.getShape().back();
    auto isVector = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      return v.getDefiningOp<ConstantOp>() && t.getNumElements() == n &&
             t.getShape().back() == n;
    };
    Operation *root = div;
    Value gamma, beta;
    if (div->hasOneUse())
      if (auto mul = dyn_cast<MulOp>(*div->user_begin())) {
        Value g = mul.getLhs() == div.getResult() ? mul.getRhs() : mul.getLhs();
        if (isVector(g) && mul.getType() == type) {
          gamma = g;
          root = mul;
        }
      }
    if (gamma && root->hasOneUse())
      if (auto add = dyn_cast<AddOp>(*root->user_begin())) {
        Value b =
            add.getLhs() == root->getResult(0) ? add.getRhs() : add.getLhs();
        if (isVector(b) && add.getType() == type) {
          beta = b;
          root = add;
        }
      }
    auto vecType = RankedTensorType::get({n}, type.getElementType());
    auto asVector = [&](Value v) -> Value {
      if (cast<RankedTensorType>(v.getType()) == vecType)
        return v;
      auto c = v.getDefiningOp<ConstantOp>();
      return ConstantOp::create(rewriter, c.getLoc(), vecType,
                                reshapeConstant(c.getValue(), vecType));
    };
    if (!gamma) {
      // A plain normalization: scale 1, no bias.
      gamma = ConstantOp::create(
          rewriter, div.getLoc(), vecType,
          DenseElementsAttr::get(vecType, rewriter.getF32FloatAttr(1.0f)));
    }
    rewriter.setInsertionPoint(root);
    auto ln =
        LayerNormOp::create(rewriter, root->getLoc(), type, x, asVector(gamma),
                            beta ? asVector(beta) : Value(),
                            rewriter.getI64IntegerAttr(type.getRank() - 1),
                            rewriter.getF32FloatAttr(*eps));
    rewriter.replaceOp(root, ln.getResult());
    return success();
  }
};

struct RaiseLayerNormPass
    : canao::impl::RaiseLayerNormBase<RaiseLayerNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposedLayerNorm>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
