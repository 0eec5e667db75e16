//===- RaiseGelu.cpp - element-wise chains equal to GELU -> canao.gelu ----===//
#include "passes/ElementwiseChain.h"
#include "passes/Passes.h"

#include <cmath>

namespace canao {
#define GEN_PASS_DEF_RAISEGELU
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;

namespace {

/// Whether `r` (a function of input 0 only) equals `ref` at sample points.
/// Two polynomials of erf/tanh atoms that agree at 17 points across
/// [-6, 6] to 1e-6 are the same function for our purposes; the erf and
/// tanh GELUs differ by up to 2e-3 there, so they are told apart.
bool sameFunction(const poly::Algebra &alg, const poly::Rational &r,
                  const poly::Rational &ref) {
  for (int i = -8; i <= 8; ++i) {
    double x = 0.75 * i + 0.1;
    double a = alg.eval(r, {x}), b = alg.eval(ref, {x});
    if (!(std::fabs(a - b) <= 1e-6 * (1 + std::fabs(b))))
      return false;
  }
  return true;
}

struct RaiseGeluPass : canao::impl::RaiseGeluBase<RaiseGeluPass> {
  void runOnOperation() override {
    for (Operation *root : chainRoots(getOperation().getBody().front())) {
      Chain chain = collectChain(root);
      if (chain.leaves.size() != 1 || chain.ops.size() < 3 ||
          llvm::any_of(chain.ops,
                       [](Operation *op) { return isa<GeluOp, CastOp>(op); }))
        continue;
      poly::Algebra alg;
      poly::Rational r;
      if (!toRational(chain, alg, r))
        continue;
      poly::Rational x = alg.input(0);
      StringRef kind;
      if (sameFunction(alg, r, geluErf(alg, x)))
        kind = "none";
      else if (sameFunction(alg, r, geluTanh(alg, x)))
        kind = "tanh";
      else
        continue;
      OpBuilder b(root);
      auto gelu =
          GeluOp::create(b, root->getLoc(), root->getResult(0).getType(),
                         chain.leaves[0], b.getStringAttr(kind));
      root->getResult(0).replaceAllUsesWith(gelu.getResult());
      for (Operation *op : llvm::reverse(chain.ops))
        op->erase();
    }
  }
};

} // namespace
