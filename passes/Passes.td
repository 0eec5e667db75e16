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

def RaiseGelu : Pass<"canao-raise-gelu", "mlir::func::FuncOp"> {
  let summary = "Element-wise chains equal to GELU (erf or tanh) -> canao.gelu";
  let description = [{
    Recognition is algebraic, so every operand order and grouping the
    exporter writes is found: each maximal element-wise chain with a single
    input is turned into its polynomial and compared, at sample points, with
    0.5x(1 + erf(x/sqrt2)) and 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))).
    A chain that matches within 1e-6 (relative) is replaced by canao.gelu.
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

def RaiseAttention : Pass<"canao-raise-attention", "mlir::func::FuncOp"> {
  let summary = "Head split, QK^T, scale, mask, softmax, .V, merge -> canao.attention";
  let description = [{
    Matches the exporter's multi-head attention: Q, K, V of shape [B, S, D]
    reshaped to [B, S, H, d] and transposed to heads-first (K to [B, H, d,
    S]), scores = matmul(Q, K^T), divided (or multiplied) by a constant
    scale, plus an optional additive mask broadcastable to [B, 1|H, 1|S, S],
    softmax over the last axis, matmul with V, transposed and reshaped back
    to [B, S, D]. The head split and merge disappear into the attention
    op's indexing: no transpose kernel remains.
  }];
  let dependentDialects = ["::canao::CanaoDialect"];
}

def FoldAttentionScale : Pass<"canao-fold-attention-scale", "mlir::func::FuncOp"> {
  let summary = "Fold the attention scale 1/sqrt(d) into the Q weights";
  let description = [{
    When Q comes from a canao.dense with constant weight and bias, used only
    by the attention, the scale multiplies the weight and bias at compile
    time and the attention's scale becomes 1.
  }];
  let dependentDialects = ["::canao::CanaoDialect"];
}

def MergeQkv : Pass<"canao-merge-qkv", "mlir::func::FuncOp"> {
  let summary = "Q, K and V projections -> one GEMM over concatenated weights";
  let description = [{
    Three canao.dense ops with one input, constant [D, D] weights and [D]
    biases, used only by one attention, become one dense with a [D, 3D]
    weight; the attention reads the packed [B, S, 3D] result.
  }];
  let dependentDialects = ["::canao::CanaoDialect"];
}

def RaiseEmbedding : Pass<"canao-raise-embedding", "mlir::func::FuncOp"> {
  let summary = "Sum of embedding lookups + LayerNorm -> canao.embedding";
  let description = [{
    A layer_norm over the last dim whose input is a tree of adds whose
    leaves are gathers (axis 0) from constant [V, D] tables, or constants
    broadcastable to the result (e.g. position embeddings the exporter
    already folded), becomes one canao.embedding op.
  }];
  let dependentDialects = ["::canao::CanaoDialect"];
}

def Tile : Pass<"canao-tile", "mlir::func::FuncOp"> {
  let summary = "Register and cache tiles for each GEMM and attention, per target";
  let description = [{
    Reads the target description (one table entry per target:
    codegen/Target.cpp) and attaches `canao.tile` to every canao.dense and
    canao.attention: the runtime microkernel (`f32_gemm_<mr>x<nr>_<isa>`),
    the register tile mr x nr, the k block kc (at most the op's K), the row
    block mc (so a packed mc x kc block of the activations stays in 3/4 of
    L2), pf (log2 of the tiles that prefetch the next weight panel) and
    split (`rows` for a dense with a LayerNorm epilogue, whose threads then
    own whole rows; `panels` otherwise).
    Codegen packs the weights into nr-wide panels and emits the calls from
    these attributes alone. `mr`, `nr`, `kc` override the table (canaoc
    --tuning); an override must name a tile the target has a microkernel
    for. `l2` replaces the table's L2 size (canaoc passes the compiling
    machine's for --target host); `pf` the prefetch spread and `ln-split`
    the LayerNorm dense split (a tuning file's).
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"generic\"",
           "target name: generic, x86-avx2, x86-avx512 or host">,
    Option<"mr", "mr", "int64_t", /*default=*/"0",
           "register tile rows (0: the target's)">,
    Option<"nr", "nr", "int64_t", /*default=*/"0",
           "register tile columns (0: the target's)">,
    Option<"kc", "kc", "int64_t", /*default=*/"0",
           "k block (0: the target's)">,
    Option<"l2", "l2", "int64_t", /*default=*/"0",
           "L2 bytes per core (0: the target's)">,
    Option<"pf", "pf", "int64_t", /*default=*/"-1",
           "log2 of the tiles that prefetch the next panel (-1: the target's)">,
    Option<"lnSplit", "ln-split", "std::string", /*default=*/"\"rows\"",
           "how threads split a dense with a LayerNorm epilogue: rows or "
           "panels (a tuning file's)">,
  ];
  let dependentDialects = ["::canao::CanaoDialect"];
}

def Sparse : Pass<"canao-sparse", "mlir::func::FuncOp"> {
  let summary = "Block-sparse analysis: dense, BSR-N(1xNR) or BSR-K(Rx1) per weight";
  let description = [{
    Runs after canao-tile. For every canao.dense whose weight is a constant
    used by it alone, counts the all-zero blocks of every shape the
    target has a kernel for: 1xNR rows of each NR-wide panel (BSR-N, one
    per dense tile) and Rx1 column segments (BSR-K, the target's
    bsrKKernels). The weight needs no annotation: any tool's zeros count.
    An analytic cost model (work kept x the kernel's measured cost per
    nonzero FLOP relative to dense plus a fixed part, codegen/Target.cpp)
    picks the cheapest
    layout; a sparse one only if it predicts at least `min-gain` less time
    than dense, so zeros that leave no empty block keep the dense kernel.
    Records `canao.sparse = {format, block, kept, density, cost}` (cost:
    predicted time / dense) on every analysed dense and, for a sparse
    choice, the kernel in its `canao.tile`.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"generic\"",
           "target name: generic, x86-avx2, x86-avx512 or host">,
    Option<"minGain", "min-gain", "double", /*default=*/"0.05",
           "least predicted saving (fraction of dense time) for a sparse layout">,
    Option<"disableSparse", "dense-only", "bool", /*default=*/"false",
           "analyse and report, but keep every weight dense">,
    Option<"bsrNCost", "bsr-n-cost", "std::string", /*default=*/"\"\"",
           "BSR-N time vs dense as fixed:perflop (fixed + perflop x work "
           "kept; empty: the target table's; a tuning file's)">,
    Option<"bsrKCosts", "bsr-k-costs", "std::string", /*default=*/"\"\"",
           "R:fixed:perflop,... for the BSR-K kernels (empty: the table's)">,
  ];
  let dependentDialects = ["::canao::CanaoDialect"];
}

#endif // CANAO_PASSES
