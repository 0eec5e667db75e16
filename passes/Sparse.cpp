//===- Sparse.cpp - block-sparse analysis and layout choice ---------------===//
//
// Block-pruning-aware lowering starts here: every constant dense weight is
// scanned for all-zero blocks of the shapes the target has kernels for, and
// an analytic cost model picks dense, BSR-N (1xNR: a dense panel with its
// zero k rows dropped) or BSR-K (Rx1: R consecutive k of one output). The
// choice is IR (`canao.sparse`, and the kernel in `canao.tile`), so
// `--emit=mlir` and `--report` show it and codegen reads it from one place.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "Canao/ConstantData.h"
#include "Canao/ShapeUtils.h"
#include "codegen/Target.h"

#include "canao/ukernels/bsr_pack.h"

#include <cstring>

namespace canao {
#define GEN_PASS_DEF_SPARSE
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

struct Candidate {
  std::string format = "dense", block, kernel;
  int64_t mr = 0, nr = 0, kc = 0, kept = 0;
  double cost = 1.0; // predicted time / dense time
};

/// The constant weight of `dense`, if this dense is its only user.
static ConstantOp soleConstantWeight(DenseOp dense) {
  auto c = dense.getWeight().getDefiningOp<ConstantOp>();
  if (!c || !c.getResult().hasOneUse())
    return {};
  auto t = dyn_cast<RankedTensorType>(c.getType());
  if (!t || t.getRank() != 2 || !t.hasStaticShape() ||
      !t.getElementType().isF32())
    return {};
  return c;
}

struct SparsePass : canao::impl::SparseBase<SparsePass> {
  using SparseBase::SparseBase;

  void runOnOperation() override {
    const TargetDesc *found = lookupTarget(target);
    if (!found) {
      getOperation().emitError("canao-sparse: unknown target '")
          << target << "'";
      return signalPassFailure();
    }
    // Measured costs (canaoc --tune's) replace the table's: "fixed:perflop"
    // for BSR-N, "R:fixed:perflop,..." for the BSR-K kernels.
    TargetDesc machine = *found;
    auto parseCost = [](StringRef text, TargetDesc::SparseCost &cost) {
      auto [f, p] = text.split(':');
      double fixed = 0, perFlop = 0;
      if (f.getAsDouble(fixed) || p.getAsDouble(perFlop) || fixed < 0 ||
          fixed >= 10 || perFlop <= 0 || perFlop >= 100)
        return false;
      cost = {fixed, perFlop};
      return true;
    };
    if (!bsrNCost.empty() && !parseCost(bsrNCost, machine.bsrNCost)) {
      getOperation().emitError("canao-sparse: bad bsr-n-cost '")
          << bsrNCost << "' (want fixed:perflop)";
      return signalPassFailure();
    }
    llvm::SmallVector<StringRef> entries;
    StringRef(bsrKCosts).split(entries, ',', -1, false);
    for (StringRef e : entries) {
      auto [r, rest] = e.split(':');
      int rows = 0;
      TargetDesc::SparseCost cost;
      bool known = false;
      if (!r.getAsInteger(10, rows) && parseCost(rest, cost))
        for (TargetDesc::BsrKKernel &k : machine.bsrKKernels)
          if (k.r == rows) {
            k.cost = cost;
            known = true;
          }
      if (!known) {
        getOperation().emitError("canao-sparse: bad bsr-k-costs entry '")
            << e << "' (want R:fixed:perflop for a BSR-K kernel of " << target
            << ")";
        return signalPassFailure();
      }
    }
    const TargetDesc *desc = &machine;
    if (minGain < 0 || minGain >= 1) {
      getOperation().emitError("canao-sparse: min-gain must be in [0, 1)");
      return signalPassFailure();
    }
    Builder b(&getContext());
    WalkResult r = getOperation().walk([&](DenseOp dense) {
      ConstantOp weight = soleConstantWeight(dense);
      auto out = dyn_cast<RankedTensorType>(dense.getType());
      auto tile = dense->getAttrOfType<DictionaryAttr>("canao.tile");
      if (!weight || !out || !out.hasStaticShape() || !tile)
        return WalkResult::advance();
      auto type = cast<RankedTensorType>(weight.getType());
      const int64_t K = type.getDimSize(0), N = type.getDimSize(1);
      const int64_t M = N ? out.getNumElements() / N : 0;
      std::vector<char> bytes = constantBytes(weight.getValue());
      if (M <= 0 || K <= 0 || N <= 0 ||
          static_cast<int64_t>(bytes.size()) != K * N * 4)
        return WalkResult::advance();
      std::vector<float> w(K * N);
      std::memcpy(w.data(), bytes.data(), bytes.size());
      int64_t nonzero = 0;
      for (float x : w)
        nonzero += x != 0.0f;
      const double density = double(nonzero) / double(K * N);

      // Dense: the work of the tile canao-tile chose, padded.
      auto tileInt = [&](StringRef key) {
        auto v = tile.getAs<IntegerAttr>(key);
        return v ? v.getInt() : 0;
      };
      const int64_t mr0 = tileInt("mr"), nr0 = tileInt("nr"),
                    kc0 = tileInt("kc");
      auto padded = [](int64_t v, int64_t to) {
        return (v + to - 1) / to * to;
      };
      const double denseWork =
          double(padded(M, mr0)) * double(K) * double(padded(N, nr0));
      Candidate best;
      // A candidate wins only with a clear predicted saving.
      double bestCost = 1.0 - minGain;
      Candidate seen; // the cheapest sparse layout, chosen or not
      seen.cost = 1e30;
      auto consider = [&](Candidate c) {
        if (c.cost < seen.cost)
          seen = c;
        if (c.cost < bestCost) {
          bestCost = c.cost;
          best = c;
        }
      };
      // OpenCL targets have no block-sparse kernels yet: dense.
      if (nonzero < K * N && !desc->gpu) {
        // BSR-N: every dense tile of the target, its panels' kept rows.
        for (auto [tr, tc] : desc->gemmTiles) {
          Candidate c;
          c.format = "bsr_n";
          c.block = "1x" + std::to_string(tc);
          c.mr = tr;
          c.nr = tc;
          c.kc = kc0 > 0 && kc0 < K ? kc0 : K;
          c.kept = canao_rt::bsr::n_rows(w.data(), K, N, tc);
          c.kernel = bsrNKernelName(*desc, tr, tc);
          c.cost = desc->bsrNCost.at(double(padded(M, tr)) * double(c.kept) *
                                     double(tc) / denseWork);
          consider(c);
        }
        // BSR-K: blocks of R consecutive k of one output (R divides K).
        for (const TargetDesc::BsrKKernel &k : desc->bsrKKernels) {
          if (K % k.r)
            continue;
          Candidate c;
          c.format = "bsr_k";
          c.block = std::to_string(k.r) + "x1";
          c.mr = k.mr;
          c.nr = desc->vectorBits / 32;
          // The k block: A's MR x kc tile stays in 3/4 of L1.
          int64_t kc = desc->l1Bytes * 3 / 4 / (4 * k.mr) / k.r * k.r;
          c.kc = kc >= K ? K : kc < k.r ? k.r : kc;
          c.kept = canao_rt::bsr::k_blocks_kept(w.data(), K, N, k.r);
          c.kernel = bsrKKernelName(*desc, k.r, k.mr);
          c.cost = k.cost.at(double(padded(M, k.mr)) * double(c.kept) *
                             double(k.r) / denseWork);
          consider(c);
        }
      }
      if (disableSparse)
        best = Candidate();
      SmallVector<NamedAttribute> fields = {
          b.getNamedAttr("format", b.getStringAttr(best.format)),
          b.getNamedAttr("density", b.getF64FloatAttr(density))};
      const Candidate &shown = best.format == "dense" ? seen : best;
      if (shown.cost < 1e29) {
        fields.push_back(b.getNamedAttr("block", b.getStringAttr(shown.block)));
        fields.push_back(
            b.getNamedAttr("kept", b.getI64IntegerAttr(shown.kept)));
        fields.push_back(b.getNamedAttr(
            "cost", b.getF64FloatAttr(std::round(shown.cost * 1e4) / 1e4)));
        if (best.format == "dense")
          fields.push_back(b.getNamedAttr(
              "best", b.getStringAttr(shown.format + " " + shown.block)));
      }
      dense->setAttr("canao.sparse", b.getDictionaryAttr(fields));
      if (best.format == "dense")
        return WalkResult::advance();
      // The sparse kernel replaces the dense one in the tile.
      NamedAttrList t(tile);
      t.set("kernel", b.getStringAttr(best.kernel));
      t.set("mr", b.getI64IntegerAttr(best.mr));
      t.set("nr", b.getI64IntegerAttr(best.nr));
      t.set("kc", b.getI64IntegerAttr(best.kc));
      if (best.format == "bsr_n") {
        GemmTile g = denseTile(*desc, K, best.mr, best.nr, best.kc);
        t.set("mc", b.getI64IntegerAttr(g.mc));
        t.set("a", b.getStringAttr(desc->readsADirectly(best.mr, best.nr)
                                       ? "direct"
                                       : "packed"));
      } else {
        // BSR-K reads A in place and splits outputs across threads; mc
        // (unused) stays a multiple of the tile.
        const int64_t mc = tileInt("mc") / best.mr * best.mr;
        t.set("mc", b.getI64IntegerAttr(mc < best.mr ? best.mr : mc));
        t.set("a", b.getStringAttr("direct"));
        t.set("split", b.getStringAttr("panels"));
      }
      dense->setAttr("canao.tile", t.getDictionary(&getContext()));
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
