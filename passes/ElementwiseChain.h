//===- ElementwiseChain.h - maximal element-wise chains ---------*- C++ -*-===//
//
// Shared by LP-Fusion (which emits a chain's simplified polynomial as one
// fused op) and GELU raising (which recognizes a chain's polynomial).
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_PASSES_ELEMENTWISECHAIN_H
#define CANAO_PASSES_ELEMENTWISECHAIN_H

#include "passes/Polynomial.h"

#include "Canao/CanaoOps.h"

#include "llvm/ADT/SetVector.h"

namespace canao {

/// Element-wise f32 ops LP-Fusion understands (cast to f32 is a leaf
/// conversion; pow only by a scalar constant).
bool isFusible(mlir::Operation *op);

/// Whether `producer` may be computed inside `consumer`'s loop: both are
/// fusible, the consumer is the producer's only user, and they have the same
/// type (no recomputation of a broadcast producer, no lost intermediate).
bool absorbable(mlir::Operation *producer, mlir::Operation *consumer);

struct Chain {
  mlir::Operation *root = nullptr;
  llvm::SmallVector<mlir::Operation *> ops; ///< topological, root last
  llvm::SetVector<mlir::Value> leaves;      ///< inputs from outside
};

/// Roots (fusible ops no fusible consumer absorbs), last op first.
llvm::SmallVector<mlir::Operation *> chainRoots(mlir::Block &block);

/// The maximal chain ending at `root`.
Chain collectChain(mlir::Operation *root);

/// The chain as a rational function of its leaves (input i = leaves[i]);
/// false if some op has no algebraic form (e.g. pow by 1.7).
bool toRational(const Chain &chain, poly::Algebra &alg, poly::Rational &out);

/// The two GELU forms as polynomials of `x` (what canao.gelu expands to).
poly::Rational geluErf(poly::Algebra &alg, const poly::Rational &x);
poly::Rational geluTanh(poly::Algebra &alg, const poly::Rational &x);

} // namespace canao

#endif // CANAO_PASSES_ELEMENTWISECHAIN_H
