//===- CanaoOps.td - canao graph-level ops -----------------*- tablegen -*-===//
//
// The `canao` dialect holds a model after import: value-semantic tensor ops
// with static shapes. Shape plumbing (Shape, Gather on shapes, Concat of dims)
// never reaches this level: the importer folds it while inferring shapes.
// Later passes raise these ops to named compute ops (dense, layer_norm,
// attention) and fuse element-wise chains; codegen consumes the result.
//
//===----------------------------------------------------------------------===//

#ifndef CANAO_OPS
#define CANAO_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Canao_Dialect : Dialect {
  let name = "canao";
  let summary = "Graph-level ops of the canao BERT compiler";
  let description = [{
    Static-shape tensor ops imported from ONNX. Element-wise binary ops follow
    NumPy broadcasting; every op's result type is fully static.
  }];
  let cppNamespace = "::canao";
  let hasConstantMaterializer = 1;
  // Bodies of fused ops are scalar arith/math ops.
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

class Canao_Op<string mnemonic, list<Trait> traits = []>
    : Op<Canao_Dialect, mnemonic, !listconcat(traits, [Pure])>;

// Element types the code generator supports.
def Canao_ElementType : AnyTypeOf<[F32, I64, I32, I1]>;
def Canao_Tensor : StaticShapeTensorOf<[F32, I64, I32, I1]>;
def Canao_FloatTensor : StaticShapeTensorOf<[F32]>;
def Canao_IndexTensor : StaticShapeTensorOf<[I64, I32]>;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Canao_ConstantOp : Canao_Op<"constant", [ConstantLike]> {
  let summary = "A constant tensor (weights live in dense_resource blobs)";
  let description = [{
    Large weights are `dense_resource` attributes that reference the model
    file's bytes, so importing never copies a weight element by element.
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Canao_Tensor:$result);
  // `canao.constant dense<...> : tensor<...>`: the type is the value's.
  let hasCustomAssemblyFormat = 1;
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Element-wise ops (NumPy broadcasting)
//===----------------------------------------------------------------------===//

class Canao_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Canao_Op<mnemonic, traits> {
  let arguments = (ins Canao_Tensor:$lhs, Canao_Tensor:$rhs);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Canao_AddOp : Canao_BinaryOp<"add", [Commutative]> {
  let summary = "Element-wise addition";
}
def Canao_SubOp : Canao_BinaryOp<"sub"> { let summary = "Element-wise subtraction"; }
def Canao_MulOp : Canao_BinaryOp<"mul", [Commutative]> {
  let summary = "Element-wise multiplication";
}
def Canao_DivOp : Canao_BinaryOp<"div"> { let summary = "Element-wise division"; }
def Canao_PowOp : Canao_BinaryOp<"pow"> { let summary = "Element-wise power"; }
def Canao_EqualOp : Canao_BinaryOp<"equal", [Commutative]> {
  let summary = "Element-wise equality; the result is i1";
}

def Canao_MinOp : Canao_BinaryOp<"min", [Commutative]> {
  let summary = "Element-wise minimum (NaN if either operand is NaN)";
}
def Canao_MaxOp : Canao_BinaryOp<"max", [Commutative]> {
  let summary = "Element-wise maximum (NaN if either operand is NaN)";
}
// Greater and GreaterOrEqual import as these with the operands swapped.
def Canao_LessOp : Canao_BinaryOp<"less"> {
  let summary = "Element-wise lhs < rhs; the result is i1";
}
def Canao_LessEqualOp : Canao_BinaryOp<"less_equal"> {
  let summary = "Element-wise lhs <= rhs; the result is i1";
}
def Canao_AndOp : Canao_BinaryOp<"and", [Commutative]> {
  let summary = "Element-wise logical and of i1 tensors";
}
def Canao_OrOp : Canao_BinaryOp<"or", [Commutative]> {
  let summary = "Element-wise logical or of i1 tensors";
}
def Canao_XorOp : Canao_BinaryOp<"xor", [Commutative]> {
  let summary = "Element-wise logical exclusive or of i1 tensors";
}

def Canao_WhereOp : Canao_Op<"where"> {
  let summary = "Element-wise select: cond ? lhs : rhs, with broadcasting";
  let arguments = (ins StaticShapeTensorOf<[I1]>:$condition, Canao_Tensor:$lhs,
                       Canao_Tensor:$rhs);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

class Canao_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Canao_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultType])> {
  let arguments = (ins Canao_Tensor:$input);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Canao_SqrtOp : Canao_UnaryOp<"sqrt"> { let summary = "Square root"; }
def Canao_ErfOp : Canao_UnaryOp<"erf"> { let summary = "Gauss error function"; }
def Canao_TanhOp : Canao_UnaryOp<"tanh"> { let summary = "Hyperbolic tangent"; }
def Canao_ReluOp : Canao_UnaryOp<"relu"> { let summary = "max(x, 0)"; }
def Canao_ExpOp : Canao_UnaryOp<"exp"> { let summary = "Exponential"; }
def Canao_NegOp : Canao_UnaryOp<"neg"> { let summary = "Negation"; }
def Canao_SigmoidOp : Canao_UnaryOp<"sigmoid"> { let summary = "1 / (1 + exp(-x))"; }

def Canao_AbsOp : Canao_UnaryOp<"abs"> { let summary = "Absolute value"; }
def Canao_LogOp : Canao_UnaryOp<"log"> { let summary = "Natural logarithm"; }
def Canao_FloorOp : Canao_UnaryOp<"floor"> { let summary = "Round toward -inf"; }
def Canao_CeilOp : Canao_UnaryOp<"ceil"> { let summary = "Round toward +inf"; }
def Canao_NotOp : Canao_UnaryOp<"not"> {
  let summary = "Logical not of an i1 tensor";
  let hasVerifier = 1;
}

def Canao_GeluOp : Canao_Op<"gelu", [SameOperandsAndResultType]> {
  let summary = "GELU: x * Phi(x), exact (erf) or tanh-approximated";
  let description = [{
    `approximate = "none"`: 0.5 x (1 + erf(x / sqrt(2)));
    `approximate = "tanh"`: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
  }];
  let arguments = (ins Canao_FloatTensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs Canao_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Canao_CastOp : Canao_Op<"cast"> {
  let summary = "Element type conversion";
  let arguments = (ins Canao_Tensor:$input);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Canao_ReshapeOp : Canao_Op<"reshape"> {
  let summary = "Reshape to the (static) result type; no data movement";
  let arguments = (ins Canao_Tensor:$input);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Canao_TransposeOp : Canao_Op<"transpose"> {
  let summary = "Permute dimensions: result dim i = input dim perm[i]";
  let arguments = (ins Canao_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$input $perm attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Canao_ExpandOp : Canao_Op<"expand"> {
  let summary = "Broadcast the input to the result shape";
  let arguments = (ins Canao_Tensor:$input);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

def Canao_SliceOp : Canao_Op<"slice"> {
  let summary = "Strided slice; per-dimension start and step, size from the result";
  let arguments = (ins Canao_Tensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$steps);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = [{
    $input `starts` $starts `steps` $steps attr-dict `:` type($input) `to` type($result)
  }];
  let hasVerifier = 1;
}

def Canao_ConcatOp : Canao_Op<"concat"> {
  let summary = "Concatenate along an axis";
  let arguments = (ins Variadic<Canao_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
  let hasVerifier = 1;
}

def Canao_GatherOp : Canao_Op<"gather"> {
  let summary = "Gather slices of data along an axis (embedding lookup)";
  let description = [{
    Indices outside `[-dim, dim)` are a run-time error reported through the
    context's status, never an out-of-bounds read.
  }];
  let arguments = (ins Canao_Tensor:$data, Canao_IndexTensor:$indices,
                       I64Attr:$axis);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = [{
    $data `[` $indices `]` attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Canao_MatMulOp : Canao_Op<"matmul"> {
  let summary = "NumPy matmul: batched over leading dims, with broadcasting";
  let arguments = (ins Canao_FloatTensor:$lhs, Canao_FloatTensor:$rhs);
  let results = (outs Canao_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Canao_ReduceMeanOp : Canao_Op<"reduce_mean"> {
  let summary = "Mean over the given axes";
  let arguments = (ins Canao_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       BoolAttr:$keepdims);
  let results = (outs Canao_FloatTensor:$result);
  let assemblyFormat = "$input $axes attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

// Sum, max and min keep the input's element type (integers too).
class Canao_ReduceOp<string mnemonic, string what>
    : Canao_Op<mnemonic> {
  let summary = what # " over the given axes";
  let arguments = (ins Canao_Tensor:$input, DenseI64ArrayAttr:$axes,
                       BoolAttr:$keepdims);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$input $axes attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}
def Canao_ReduceSumOp : Canao_ReduceOp<"reduce_sum", "Sum">;
def Canao_ReduceMaxOp : Canao_ReduceOp<"reduce_max", "Maximum">;
def Canao_ReduceMinOp : Canao_ReduceOp<"reduce_min", "Minimum">;

def Canao_ArgMaxOp : Canao_Op<"arg_max"> {
  let summary = "Index (i64) of the largest (or, with `min`, smallest) element";
  let description = [{
    Along `axis`; ties go to the first index, or the last with
    `select_last_index`. `keepdims` keeps the reduced dim as size 1.
  }];
  let arguments = (ins Canao_Tensor:$input, I64Attr:$axis, BoolAttr:$keepdims,
                       BoolAttr:$select_last_index, BoolAttr:$min);
  let results = (outs StaticShapeTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

def Canao_CumSumOp : Canao_Op<"cumsum", [SameOperandsAndResultType]> {
  let summary = "Running sum along an axis";
  let description = [{
    `exclusive` leaves the current element out of its own sum; `reverse`
    sums from the end of the axis.
  }];
  let arguments = (ins Canao_Tensor:$input, I64Attr:$axis, BoolAttr:$exclusive,
                       BoolAttr:$reverse);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Canao_PadOp : Canao_Op<"pad"> {
  let summary = "Pad (or, with negative pads, crop) every dimension";
  let description = [{
    `pads` holds the begin pads of every dim, then the end pads (ONNX
    order). `mode` is "constant" (fill with `value`), "reflect" (mirror
    without repeating the edge) or "edge" (repeat the edge).
  }];
  let arguments = (ins Canao_Tensor:$input, DenseI64ArrayAttr:$pads,
                       StrAttr:$mode, F64Attr:$value);
  let results = (outs Canao_Tensor:$result);
  let assemblyFormat = "$input $pads attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

def Canao_SoftmaxOp : Canao_Op<"softmax", [SameOperandsAndResultType]> {
  let summary = "Softmax along one axis";
  let arguments = (ins Canao_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Canao_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Canao_LayerNormOp : Canao_Op<"layer_norm"> {
  let summary = "Layer normalization over the dims from `axis` on";
  let arguments = (ins Canao_FloatTensor:$input, Canao_FloatTensor:$scale,
                       Optional<Canao_FloatTensor>:$bias, I64Attr:$axis,
                       F32Attr:$epsilon);
  let results = (outs Canao_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused ops (produced by raising and LP-Fusion)
//===----------------------------------------------------------------------===//

def Canao_YieldOp : Op<Canao_Dialect, "yield", [Pure, Terminator,
    ParentOneOf<["FusedOp", "DenseOp"]>]> {
  let summary = "Yields the scalar result of a fused element-wise body";
  let arguments = (ins AnyType:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Canao_FusedOp : Canao_Op<"fused"> {
  let summary = "A chain of element-wise ops as one loop";
  let description = [{
    The body computes one result element from one element of each input
    (inputs broadcast to the result shape, NumPy style). Bodies use `arith`
    and `math` ops on scalars; LP-Fusion writes them from the simplified
    polynomial form of the chain.
  }];
  let arguments = (ins Variadic<Canao_Tensor>:$inputs);
  let results = (outs Canao_Tensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $inputs `)` attr-dict `:` functional-type($inputs, results) $body
  }];
  let hasVerifier = 1;
}

def Canao_DenseOp : Canao_Op<"dense", [AttrSizedOperandSegments]> {
  let summary = "input x weight + bias, then a fused epilogue";
  let description = [{
    `result = layer_norm?(epilogue?(input @ weight + bias, extra...))`.
    `weight` is [K, N]; `bias` is [N]. The optional epilogue region gets the
    accumulator and one element of each `extra` input (broadcast to the
    result) and yields the new value; with `ln_scale` the row is then layer-
    normalized over the last dim. Everything after the GEMM runs on the row
    while it is in cache.
  }];
  let arguments = (ins Canao_FloatTensor:$input, Canao_FloatTensor:$weight,
                       Optional<Canao_FloatTensor>:$bias,
                       Variadic<Canao_Tensor>:$extra,
                       Optional<Canao_FloatTensor>:$ln_scale,
                       Optional<Canao_FloatTensor>:$ln_bias,
                       OptionalAttr<F32Attr>:$ln_epsilon);
  let results = (outs Canao_FloatTensor:$result);
  let regions = (region AnyRegion:$epilogue);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? (`extra` `(` $extra^ `)`)?
    (`layer_norm` `(` $ln_scale^ `,` $ln_bias `)`)? attr-dict `:`
    functional-type(operands, results) $epilogue
  }];
  let hasVerifier = 1;
}

def Canao_AttentionOp : Canao_Op<"attention", [AttrSizedOperandSegments]> {
  let summary = "Multi-head self-attention with head split/merge in indexing";
  let description = [{
    `qkv` is either three [B, S, D] tensors (Q, K, V) or one packed
    [B, S, 3D] tensor (Q, K, V side by side, from one merged GEMM). Heads
    are `num_heads` slices of width D / num_heads. Per (batch, head):
    softmax(scale * Q K^T + mask) V, written to [B, S, D] with heads merged.
    The optional additive `mask` broadcasts to [B, num_heads, S, S]. The
    B x H x S x S score tensor is never materialized.
  }];
  let arguments = (ins Variadic<Canao_FloatTensor>:$qkv,
                       Optional<Canao_FloatTensor>:$mask,
                       I64Attr:$num_heads, F32Attr:$scale);
  let results = (outs Canao_FloatTensor:$result);
  let assemblyFormat = [{
    `(` $qkv `)` (`mask` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Canao_EmbeddingOp : Canao_Op<"embedding", [AttrSizedOperandSegments]> {
  let summary = "Sum of table lookups and addends, then LayerNorm";
  let description = [{
    `result[b, s] = layer_norm(sum_i tables[i][indices[i][b, s]] +
    sum_j addends[j][b, s])` over the last dim. Token ids outside a table
    are a run-time error, as for canao.gather.

    With `position_table = t` and `padding_idx = P` (RoBERTa, XLM-R, MPNet),
    `indices[t]` are the token ids [B, S] and table t is read at their
    padding-aware position: P where the id is P, else P plus the number of
    non-P ids in the row up to and including this one (Hugging Face's
    `create_position_ids_from_input_ids`).
  }];
  let arguments = (ins Variadic<Canao_FloatTensor>:$tables,
                       Variadic<Canao_IndexTensor>:$indices,
                       Variadic<Canao_FloatTensor>:$addends,
                       Canao_FloatTensor:$ln_scale, Canao_FloatTensor:$ln_bias,
                       F32Attr:$ln_epsilon,
                       OptionalAttr<I64Attr>:$position_table,
                       OptionalAttr<I64Attr>:$padding_idx);
  let results = (outs Canao_FloatTensor:$result);
  let assemblyFormat = [{
    `tables` `(` $tables `)` `indices` `(` $indices `)` `addends` `(` $addends `)`
    `layer_norm` `(` $ln_scale `,` $ln_bias `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // CANAO_OPS
