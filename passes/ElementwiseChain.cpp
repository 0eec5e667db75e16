//===- ElementwiseChain.cpp - maximal element-wise chains as polynomials --===//
#include "passes/ElementwiseChain.h"
#include "passes/PatternUtils.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace canao;
using poly::Algebra;
using poly::Func;
using poly::Rational;

/// Ops LP-Fusion understands. Cast to f32 is a leaf conversion.
bool canao::isFusible(Operation *op) {
  if (op->getNumResults() != 1 ||
      !cast<RankedTensorType>(op->getResult(0).getType())
           .getElementType()
           .isF32())
    return false;
  if (auto pow = dyn_cast<PowOp>(op))
    return scalarConstant(pow.getRhs()).has_value();
  return isa<AddOp, SubOp, MulOp, DivOp, SqrtOp, ErfOp, TanhOp, ExpOp, NegOp,
             SigmoidOp, ReluOp, CastOp, GeluOp>(op);
}

/// Whether `producer` may be computed inside `consumer`'s loop: its only
/// user is the consumer and it has the same shape, so nothing is recomputed
/// and no intermediate another op needs is lost.
bool canao::absorbable(Operation *producer, Operation *consumer) {
  return producer && isFusible(producer) && isFusible(consumer) &&
         producer->hasOneUse() && *producer->user_begin() == consumer &&
         producer->getResult(0).getType() == consumer->getResult(0).getType();
}

static void collect(Operation *op, Chain &chain,
                    llvm::DenseSet<Operation *> &seen) {
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
Rational canao::geluErf(Algebra &alg, const Rational &x) {
  Rational phi = alg.add(
      alg.constant(1),
      alg.apply(Func::Erf, alg.mul(x, alg.constant(0.70710678118654752))));
  return alg.mul(alg.mul(alg.constant(0.5), x), phi);
}

Rational canao::geluTanh(Algebra &alg, const Rational &x) {
  Rational cube = alg.mul(x, alg.mul(x, x));
  Rational inner = alg.mul(alg.constant(0.79788456080286536),
                           alg.add(x, alg.mul(alg.constant(0.044715), cube)));
  Rational phi = alg.add(alg.constant(1), alg.apply(Func::Tanh, inner));
  return alg.mul(alg.mul(alg.constant(0.5), x), phi);
}

Chain canao::collectChain(Operation *root) {
  Chain chain;
  chain.root = root;
  llvm::DenseSet<Operation *> seen;
  collect(root, chain, seen);
  return chain;
}

SmallVector<Operation *> canao::chainRoots(Block &block) {
  // Walk in reverse so that every chain is collected from its root.
  SmallVector<Operation *> roots;
  for (Operation &op : llvm::reverse(block))
    if (isFusible(&op) &&
        !(op.hasOneUse() && absorbable(&op, *op.user_begin())))
      roots.push_back(&op);
  return roots;
}

bool canao::toRational(const Chain &chain, Algebra &alg, Rational &out) {
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
            .Case([&](GeluOp g) {
              return g.getApproximate() == "tanh" ? geluTanh(alg, arg(0))
                                                  : geluErf(alg, arg(0));
            })
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
