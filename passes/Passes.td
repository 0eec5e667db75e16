//===- Passes.td - canao passes ----------------------------*- tablegen -*-===//
#ifndef CANAO_PASSES
#define CANAO_PASSES

include "mlir/Pass/PassBase.td"

def RaiseDense : Pass<"canao-raise-dense", "mlir::func::FuncOp"> {
  let summary = "MatMul by a constant [K, N] weight (+ bias Add) -> canao.dense";
  let description = [{
    Matches `matmul(x, W)` with a constant 2-D `W`, and `add(matmul, b)` /
    `add(b, matmul)` with a constant bias broadcastable to [N] when the
    matmul has no other user. Gemm imports as matmul(+transpose folded)+add
    and is raised the same way.
  }];
  let dependentDialects = ["::canao::CanaoDialect"];
}

def RaiseLayerNorm : Pass<"canao-raise-layer-norm", "mlir::func::FuncOp"> {
  let summary = "The decomposed LayerNorm chain -> canao.layer_norm";
  let description = [{
    Matches `(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * g + b` as
    the exporter writes it before opset 17 (ReduceMean/Sub/Pow/ReduceMean/
    Add/Sqrt/Div/Mul/Add), over the last axis only, with constant eps, g, b.
  }];
  let dependentDialects = ["::canao::CanaoDialect"];
}

def FuseElementwise : Pass<"canao-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "LP-Fusion: maximal element-wise chains -> one canao.fused";
  let description = [{
    Each maximal chain of element-wise ops of one shape, whose intermediates
    have no other user, is held as a rational polynomial of its inputs,
    simplified (constant folding, commutativity, associativity,
    distributivity, x^2 -> x*x, /c -> *(1/c), 1/sqrt -> rsqrt) and emitted
    as one canao.fused op. Producers of a smaller (broadcast) shape are not
    pulled in: they would be recomputed per output element.
  }];
  let dependentDialects = ["::canao::CanaoDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def FuseEpilogue : Pass<"canao-fuse-epilogue", "mlir::func::FuncOp"> {
  let summary = "Fold element-wise consumers and LayerNorm into canao.dense";
  let description = [{
    A canao.fused op that consumes a dense result (the dense has no other
    user, same shape) becomes the dense op's epilogue; a layer_norm over the
    last dim of such a dense result becomes its row-wise LayerNorm. So
    bias + GELU and bias + residual + LayerNorm run on the GEMM's output row.
  }];
  let dependentDialects = ["::canao::CanaoDialect"];
}

#endif // CANAO_PASSES
