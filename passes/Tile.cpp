//===- Tile.cpp - register and cache tiles per target ---------------------===//
//
// The tiling decision as IR: each canao.dense and canao.attention gets a
// `canao.tile` dictionary {kernel, mr, nr, kc, mc, pf, split} from the target
// table
// (or canaoc --tuning overrides), so `--emit=mlir` shows what codegen will
// do and codegen reads its tiles from one place.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "codegen/Target.h"

namespace canao {
#define GEN_PASS_DEF_TILE
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

struct TilePass : canao::impl::TileBase<TilePass> {
  using TileBase::TileBase;

  void runOnOperation() override {
    const TargetDesc *found = lookupTarget(target);
    if (!found) {
      getOperation().emitError("canao-tile: unknown target '") << target << "'";
      return signalPassFailure();
    }
    TargetDesc machine = *found;
    if (l2 > 0)
      machine.l2Bytes = l2;
    if (pf >= 0)
      machine.prefetchTilesLog2 = static_cast<int>(pf);
    if (lnSplit != "rows" && lnSplit != "panels") {
      getOperation().emitError("canao-tile: ln-split must be rows or panels, "
                               "not '")
          << lnSplit << "'";
      return signalPassFailure();
    }
    const TargetDesc *desc = &machine;
    GemmTile t = defaultTile(*desc, mr, nr, kc);
    if (t.kernel.empty()) {
      getOperation().emitError("canao-tile: target ")
          << desc->name << " has no microkernel with a " << t.mr << "x" << t.nr
          << " tile";
      return signalPassFailure();
    }
    // Attention's per-head products have their own tile (K = head dim);
    // tuning overrides are measured on dense shapes and apply to dense.
    GemmTile at = attentionTile(*desc);
    at.directA = desc->readsADirectly(at.mr, at.nr);
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    auto attr = [&](const GemmTile &t, bool withBlocks) {
      SmallVector<NamedAttribute> fields = {
          b.getNamedAttr("kernel", b.getStringAttr(t.kernel)),
          b.getNamedAttr("mr", b.getI64IntegerAttr(t.mr)),
          b.getNamedAttr("nr", b.getI64IntegerAttr(t.nr))};
      if (withBlocks) {
        fields.push_back(b.getNamedAttr("kc", b.getI64IntegerAttr(t.kc)));
        fields.push_back(b.getNamedAttr("mc", b.getI64IntegerAttr(t.mc)));
        fields.push_back(b.getNamedAttr("pf", b.getI64IntegerAttr(t.pf)));
        fields.push_back(b.getNamedAttr(
            "split", b.getStringAttr(t.splitRows ? "rows" : "panels")));
      }
      fields.push_back(b.getNamedAttr(
          "a", b.getStringAttr(t.directA ? "direct" : "packed")));
      return b.getDictionaryAttr(fields);
    };
    getOperation().walk([&](Operation *op) {
      if (auto dense = dyn_cast<DenseOp>(op)) {
        auto w = dyn_cast<RankedTensorType>(dense.getWeight().getType());
        auto out = dyn_cast<RankedTensorType>(dense.getType());
        const bool known = w && w.hasStaticShape() && out &&
                           out.hasStaticShape() && out.getRank() >= 1;
        const int64_t k = known ? w.getShape()[0] : 0;
        int64_t rows = mr, cols = nr;
        // Without a tuning override, the tile that pads the least work.
        if (known && !mr && !nr && out.getShape().back() > 0) {
          const int64_t n = out.getShape().back();
          auto [r, c] = denseRegisterTile(*desc, out.getNumElements() / n, n);
          rows = r;
          cols = c;
        }
        GemmTile tile = denseTile(*desc, k, rows, cols, kc);
        // A LayerNorm epilogue needs whole rows: with rows split across
        // threads it runs on each thread's own rows as soon as they are
        // final, with no barrier and no pass over rows another core wrote
        // (BERT-mini, 2 threads: -4%). Without one, the panel split keeps a
        // W slice in L1 across all row tiles and reads each weight on one
        // core only. canaoc --tune measures both for the LayerNorm layers.
        tile.splitRows = dense.getLnScale() && lnSplit == "rows";
        tile.directA = desc->readsADirectly(tile.mr, tile.nr);
        op->setAttr("canao.tile", attr(tile, true));
      } else if (isa<AttentionOp>(op))
        op->setAttr("canao.tile", attr(at, false));
    });
  }
};

} // namespace
