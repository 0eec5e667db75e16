//===- FoldAttentionScale.cpp - 1/sqrt(d) into the Q projection -----------===//
#include "passes/Passes.h"
#include "passes/PatternUtils.h"

namespace canao {
#define GEN_PASS_DEF_FOLDATTENTIONSCALE
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

struct FoldAttentionScalePass
    : canao::impl::FoldAttentionScaleBase<FoldAttentionScalePass> {
  void runOnOperation() override {
    getOperation().walk([](AttentionOp att) {
      float scale = att.getScale().convertToFloat();
      if (scale == 1.0f || att.getQkv().size() != 3)
        return;
      auto q = att.getQkv()[0].getDefiningOp<DenseOp>();
      // Q must feed only this attention, and only as Q.
      if (!q || !q->hasOneUse() || !q.getEpilogue().empty() || q.getLnScale() ||
          !q.getBias() || att.getQkv()[1] == q.getResult() ||
          att.getQkv()[2] == q.getResult())
        return;
      std::vector<float> w = floatConstant(q.getWeight()),
                         b = floatConstant(q.getBias());
      if (w.empty() || b.empty())
        return;
      // (x W + b) * s == x (s W) + s b: exact up to one rounding per weight.
      for (float &x : w)
        x *= scale;
      for (float &x : b)
        x *= scale;
      OpBuilder builder(q);
      Value sw = makeFloatConstant(builder, q.getLoc(), q.getWeight().getType(),
                                   w, "q_weight_scaled");
      Value sb = makeFloatConstant(builder, q.getLoc(), q.getBias().getType(),
                                   b, "q_bias_scaled");
      q.getWeightMutable().assign(sw);
      q.getBiasMutable().assign(sb);
      att.setScaleAttr(builder.getF32FloatAttr(1.0f));
    });
  }
};

} // namespace
