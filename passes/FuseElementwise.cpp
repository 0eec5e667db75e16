//===- FuseElementwise.cpp - LP-Fusion of element-wise chains -------------===//
//
// Finds maximal chains of element-wise ops, converts each into the
// canonical rational form of Polynomial.h, simplifies it, and emits one
// canao.fused op whose body evaluates the simplified form.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/PatternUtils.h"
#include "passes/Polynomial.h"

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

namespace {

/// Ops LP-Fusion understands. Cast to f32 is a leaf conversion.
bool isFusible(Operation *op) {
  if (op->getNumResults() != 1 ||
      !cast<RankedTensorType>(op->getResult(0).getType())
           .getElementType()
           .isF32())
    return false;
  if (auto pow = dyn_cast<PowOp>(op))
    return scalarConstant(pow.getRhs()).has_value();
  return isa<AddOp, SubOp, MulOp, DivOp, SqrtOp, ErfOp, TanhOp, ExpOp, NegOp,
             SigmoidOp, ReluOp, CastOp>(op);
}

/// Whether `producer` may be computed inside `consumer`'s loop: its only
/// user is the consumer and it has the same shape, so nothing is recomputed
/// and no intermediate another op needs is lost.
bool absorbable(Operation *producer, Operation *consumer) {
  return producer && isFusible(producer) && isFusible(consumer) &&
         producer->hasOneUse() && *producer->user_begin() == consumer &&
         producer->getResult(0).getType() == consumer->getResult(0).getType();
}

struct Chain {
  Operation *root;
  SmallVector<Operation *> ops; // topological order, root last
  llvm::SetVector<Value> leaves;
};

void collect(Operation *op, Chain &chain, llvm::DenseSet<Operation *> &seen) {
  if (!seen.insert(op).second)
    return;
  for (Value v : op->getOperands()) {
    Operation *def = v.getDefiningOp();
    if (absorbable(def, op))
      collect(def, chain, seen);
    else if (!scalarConstant(v))
      chain.leaves.insert(v);
  }
  chain.ops.push_back(op);
}

/// The chain as a rational function of its leaves; false if some op has no
/// algebraic form (e.g. pow by 1.7).
bool toRational(const Chain &chain, Algebra &alg, Rational &out) {
  llvm::DenseMap<Value, Rational> value;
  auto get = [&](Value v) -> Rational {
    if (auto it = value.find(v); it != value.end())
      return it->second;
    if (auto s = scalarConstant(v))
      return alg.constant(*s);
    ArrayRef<Value> leaves = chain.leaves.getArrayRef();
    return alg.input(llvm::find(leaves, v) - leaves.begin());
  };
  for (Operation *op : chain.ops) {
    auto arg = [&](int i) { return get(op->getOperand(i)); };
    std::optional<Rational> r =
        llvm::TypeSwitch<Operation *, std::optional<Rational>>(op)
            .Case([&](AddOp) { return alg.add(arg(0), arg(1)); })
            .Case([&](SubOp) { return alg.sub(arg(0), arg(1)); })
            .Case([&](MulOp) { return alg.mul(arg(0), arg(1)); })
            .Case([&](DivOp) { return alg.div(arg(0), arg(1)); })
            .Case([&](NegOp) { return alg.neg(arg(0)); })
            .Case([&](CastOp) { return arg(0); })
            .Case([&](SqrtOp) { return alg.apply(Func::Sqrt, arg(0)); })
            .Case([&](ErfOp) { return alg.apply(Func::Erf, arg(0)); })
            .Case([&](TanhOp) { return alg.apply(Func::Tanh, arg(0)); })
            .Case([&](ExpOp) { return alg.apply(Func::Exp, arg(0)); })
            .Case([&](SigmoidOp) { return alg.apply(Func::Sigmoid, arg(0)); })
            .Case([&](ReluOp) { return alg.apply(Func::Relu, arg(0)); })
            .Case([&](PowOp p) -> std::optional<Rational> {
              Rational res;
              if (!alg.pow(arg(0), *scalarConstant(p.getRhs()), res))
                return std::nullopt;
              return res;
            })
            .Default([](Operation *) { return std::nullopt; });
    if (!r)
      return false;
    value[op->getResult(0)] = *r;
  }
  out = value[chain.root->getResult(0)];
  return true;
}

} // namespace

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
    // Roots: fusible ops that no fusible consumer can absorb. Walk in
    // reverse so that every chain is collected from its root.
    SmallVector<Operation *> roots;
    for (Operation &op : llvm::reverse(func.getBody().front())) {
      if (!isFusible(&op))
        continue;
      bool absorbed = op.hasOneUse() && absorbable(&op, *op.user_begin());
      if (!absorbed)
        roots.push_back(&op);
    }
    for (Operation *root : roots) {
      Chain chain;
      chain.root = root;
      llvm::DenseSet<Operation *> seen;
      collect(root, chain, seen);
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
