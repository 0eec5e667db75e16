//===- FuseElementwise.cpp - LP-Fusion of element-wise chains -------------===//
//
// Finds maximal chains of element-wise ops, converts each into the
// canonical rational form of Polynomial.h, simplifies it, and emits one
// canao.fused op whose body evaluates the simplified form.
//
//===----------------------------------------------------------------------===//
#include "passes/ElementwiseChain.h"
#include "passes/Passes.h"
#include "passes/PatternUtils.h"

#include "Canao/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

namespace canao {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace canao

using namespace mlir;
using namespace canao;
using poly::Algebra;
using poly::Func;
using poly::Rational;

namespace canao {

/// Emits scalar arith/math ops evaluating a rational form. Shared atoms are
/// emitted once; a monomial factor common to all terms is factored out
/// (0.5*x + 0.5*x*erf(..) -> x*(0.5 + 0.5*erf(..))).
class PolyEmitter {
public:
  PolyEmitter(OpBuilder &b, Location loc, const Algebra &alg,
              ArrayRef<Value> inputs)
      : b(b), loc(loc), alg(alg), inputs(inputs) {}

  Value emit(const Rational &r) {
    Value num = emit(r.num);
    if (r.isPolynomial())
      return num;
    return arith::DivFOp::create(b, loc, num, emit(r.den));
  }

private:
  Value constant(double c) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(c));
  }

  Value atom(int id) {
    if (auto it = atoms.find(id); it != atoms.end())
      return it->second;
    const Algebra::AtomInfo &a = alg.atoms()[id];
    Value v;
    if (a.isInput) {
      v = inputs[a.input];
      Type t = v.getType();
      if (t.isInteger(1))
        v = arith::UIToFPOp::create(b, loc, b.getF32Type(), v);
      else if (t.isInteger())
        v = arith::SIToFPOp::create(b, loc, b.getF32Type(), v);
    } else {
      Value x = emit(a.arg);
      switch (a.func) {
      case Func::Erf:
        v = math::ErfOp::create(b, loc, x);
        break;
      case Func::Tanh:
        v = math::TanhOp::create(b, loc, x);
        break;
      case Func::Sqrt:
        v = math::SqrtOp::create(b, loc, x);
        break;
      case Func::Rsqrt:
        v = math::RsqrtOp::create(b, loc, x);
        break;
      case Func::Exp:
        v = math::ExpOp::create(b, loc, x);
        break;
      case Func::Sigmoid: {
        Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
        v = arith::DivFOp::create(
            b, loc, constant(1), arith::AddFOp::create(b, loc, constant(1), e));
        break;
      }
      case Func::Relu:
        v = arith::MaximumFOp::create(b, loc, x, constant(0));
        break;
      }
    }
    atoms[id] = v;
    return v;
  }

  Value monomial(const poly::Monomial &m) {
    Value v;
    for (auto [id, power] : m)
      for (int i = 0; i < power; ++i) // x^k as k-1 multiplications
        v = v ? arith::MulFOp::create(b, loc, v, atom(id)).getResult()
              : atom(id);
    return v;
  }

  Value emit(const poly::Polynomial &p) {
    if (p.isConstant())
      return constant(p.constantValue());
    poly::Monomial common = p.commonFactor();
    poly::Polynomial rest = common.empty() ? p : p.dividedBy(common);
    Value sum;
    for (const auto &[m, c] : rest.terms) {
      Value term;
      bool negate = false;
      if (m.empty())
        term = constant(c);
      else if (c == 1 || c == -1) {
        term = monomial(m);
        negate = c == -1;
      } else {
        term = arith::MulFOp::create(b, loc, constant(c), monomial(m));
      }
      if (!sum)
        sum = negate ? arith::NegFOp::create(b, loc, term).getResult() : term;
      else if (negate)
        sum = arith::SubFOp::create(b, loc, sum, term);
      else
        sum = arith::AddFOp::create(b, loc, sum, term);
    }
    if (!common.empty())
      sum = arith::MulFOp::create(b, loc, monomial(common), sum);
    return sum;
  }

  OpBuilder &b;
  Location loc;
  const Algebra &alg;
  ArrayRef<Value> inputs;
  std::map<int, Value> atoms;
};

} // namespace canao

namespace {

struct FuseElementwisePass
    : canao::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    for (Operation *root : chainRoots(func.getBody().front())) {
      Chain chain = collectChain(root);
      // Lone ops become fused ops too: one representation for codegen and
      // for epilogue fusion (a residual add after a dense is one op).
      Algebra alg;
      Rational r;
      if (!toRational(chain, alg, r))
        continue;
      OpBuilder b(root);
      auto fused =
          FusedOp::create(b, root->getLoc(), root->getResult(0).getType(),
                          chain.leaves.getArrayRef());
      Block *body = b.createBlock(&fused.getBody());
      SmallVector<Value> args;
      for (Value leaf : chain.leaves)
        args.push_back(body->addArgument(
            cast<RankedTensorType>(leaf.getType()).getElementType(),
            root->getLoc()));
      PolyEmitter emitter(b, root->getLoc(), alg, args);
      Value result = emitter.emit(r);
      YieldOp::create(b, root->getLoc(), result);
      root->getResult(0).replaceAllUsesWith(fused.getResult());
      for (Operation *op : llvm::reverse(chain.ops))
        op->erase();
    }
  }
};

} // namespace
