//===- MergeQkv.cpp - Q, K, V projections as one GEMM ---------------------===//
#include "passes/Passes.h"
#include "passes/PatternUtils.h"

namespace canao {
#define GEN_PASS_DEF_MERGEQKV
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

struct MergeQkvPass : canao::impl::MergeQkvBase<MergeQkvPass> {
  void runOnOperation() override {
    getOperation().walk([](AttentionOp att) {
      if (att.getQkv().size() != 3)
        return;
      SmallVector<DenseOp> proj;
      for (Value v : att.getQkv()) {
        auto d = v.getDefiningOp<DenseOp>();
        if (!d || !d->hasOneUse() || !d.getEpilogue().empty() ||
            d.getLnScale() || !d.getBias() ||
            d.getInput() != att.getQkv()[0].getDefiningOp<DenseOp>().getInput())
          return;
        proj.push_back(d);
      }
      if (proj[0] == proj[1] || proj[1] == proj[2] || proj[0] == proj[2])
        return;
      int64_t k = proj[0].getWeight().getType().getShape()[0];
      int64_t n = proj[0].getWeight().getType().getShape()[1];
      std::vector<std::vector<float>> w, b;
      for (DenseOp d : proj) {
        w.push_back(floatConstant(d.getWeight()));
        b.push_back(floatConstant(d.getBias()));
        if (w.back().size() != static_cast<size_t>(k * n) ||
            b.back().size() != static_cast<size_t>(n))
          return;
      }
      // Row r of the merged weight is [Wq row r | Wk row r | Wv row r].
      std::vector<float> mw(k * 3 * n), mb(3 * n);
      for (int64_t r = 0; r < k; ++r)
        for (int p = 0; p < 3; ++p)
          std::copy_n(w[p].begin() + r * n, n, mw.begin() + (r * 3 + p) * n);
      for (int p = 0; p < 3; ++p)
        std::copy(b[p].begin(), b[p].end(), mb.begin() + p * n);
      // At the attention, every operand (input, constants) dominates.
      OpBuilder builder(att);
      Location loc = proj[0].getLoc();
      auto f32 = builder.getF32Type();
      Value weight = makeFloatConstant(builder, loc,
                                       RankedTensorType::get({k, 3 * n}, f32),
                                       mw, "qkv_weight");
      Value bias = makeFloatConstant(
          builder, loc, RankedTensorType::get({3 * n}, f32), mb, "qkv_bias");
      SmallVector<int64_t> shape(proj[0].getType().getShape());
      shape.back() *= 3;
      auto merged = DenseOp::create(
          builder, loc, RankedTensorType::get(shape, f32), proj[0].getInput(),
          weight, bias, ValueRange{}, Value(), Value(), FloatAttr());
      auto packed = AttentionOp::create(
          builder, att.getLoc(), att.getType(), ValueRange{merged.getResult()},
          att.getMask(), att.getNumHeadsAttr(), att.getScaleAttr());
      att.getResult().replaceAllUsesWith(packed.getResult());
      att->erase();
      for (DenseOp d : proj)
        d->erase();
    });
  }
};

} // namespace
