//===- CanaoOps.cpp - canao op verifiers and folders ----------------------===//
#include "Canao/CanaoOps.h"
#include "Canao/ConstantData.h"
#include "Canao/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace canao;

#define GET_OP_CLASSES
#include "Canao/CanaoOps.cpp.inc"

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}
static Type elementOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

/// Checks that `result` has the broadcast shape of `operands`.
static LogicalResult verifyBroadcast(Operation *op, ValueRange operands,
                                     Value result) {
  SmallVector<int64_t> shape(shapeOf(operands.front()));
  for (Value v : operands.drop_front()) {
    auto b = broadcastShapes(shape, shapeOf(v));
    if (!b)
      return op->emitOpError("operand shapes are not broadcast-compatible");
    shape = *b;
  }
  if (ArrayRef<int64_t>(shape) != shapeOf(result))
    return op->emitOpError("result shape must be the broadcast of the operand "
                           "shapes");
  return success();
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType())
    return emitOpError("value type does not match the result type");
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

ParseResult ConstantOp::parse(OpAsmParser &parser, OperationState &result) {
  ElementsAttr value;
  if (parser.parseOptionalAttrDict(result.attributes) ||
      parser.parseAttribute(value))
    return failure();
  result.addAttribute("value", value);
  result.addTypes(value.getType());
  return success();
}

void ConstantOp::print(OpAsmPrinter &p) {
  p.printOptionalAttrDict((*this)->getAttrs(), {"value"});
  p << ' ';
  p.printAttribute(getValue());
}

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

static LogicalResult verifyBinary(Operation *op, bool boolResult) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  Value result = op->getResult(0);
  if (elementOf(lhs) != elementOf(rhs))
    return op->emitOpError("operands must have the same element type");
  Type expected =
      boolResult ? IntegerType::get(op->getContext(), 1) : elementOf(lhs);
  if (elementOf(result) != expected)
    return op->emitOpError("result element type must be ") << expected;
  return verifyBroadcast(op, op->getOperands(), result);
}

LogicalResult AddOp::verify() { return verifyBinary(*this, false); }
LogicalResult SubOp::verify() { return verifyBinary(*this, false); }
LogicalResult MulOp::verify() { return verifyBinary(*this, false); }
LogicalResult DivOp::verify() { return verifyBinary(*this, false); }
LogicalResult PowOp::verify() { return verifyBinary(*this, false); }
LogicalResult EqualOp::verify() { return verifyBinary(*this, true); }
LogicalResult MinOp::verify() { return verifyBinary(*this, false); }
LogicalResult MaxOp::verify() { return verifyBinary(*this, false); }
LogicalResult LessOp::verify() { return verifyBinary(*this, true); }
LogicalResult LessEqualOp::verify() { return verifyBinary(*this, true); }

static LogicalResult verifyLogical(Operation *op) {
  if (failed(verifyBinary(op, true)))
    return failure();
  if (!elementOf(op->getOperand(0)).isInteger(1))
    return op->emitOpError("operands must be i1");
  return success();
}
LogicalResult AndOp::verify() { return verifyLogical(*this); }
LogicalResult OrOp::verify() { return verifyLogical(*this); }
LogicalResult XorOp::verify() { return verifyLogical(*this); }

LogicalResult NotOp::verify() {
  if (!elementOf(getInput()).isInteger(1))
    return emitOpError("operand must be i1");
  return success();
}

LogicalResult WhereOp::verify() {
  if (elementOf(getLhs()) != elementOf(getRhs()) ||
      elementOf(getLhs()) != elementOf(getResult()))
    return emitOpError("branches and result must have one element type");
  return verifyBroadcast(*this, getOperands(), getResult());
}

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\"");
  return success();
}

LogicalResult CastOp::verify() {
  if (shapeOf(getInput()) != shapeOf(getResult()))
    return emitOpError("cast must not change the shape");
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  if (numElements(shapeOf(getInput())) != numElements(shapeOf(getResult())))
    return emitOpError("reshape must preserve the number of elements");
  if (elementOf(getInput()) != elementOf(getResult()))
    return emitOpError("reshape must preserve the element type");
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) -> reshape(x)
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  // Reshaping a constant only changes its type: reuse the same bytes.
  if (auto constant = dyn_cast_if_present<ElementsAttr>(adaptor.getInput()))
    return reshapeConstant(constant, getType());
  return {};
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> perm = getPerm(), in = shapeOf(getInput()),
                    out = shapeOf(getResult());
  if (perm.size() != in.size() || out.size() != in.size())
    return emitOpError("perm, input and result must have the same rank");
  SmallVector<bool> seen(perm.size(), false);
  for (auto [i, p] : llvm::enumerate(perm)) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[p])
      return emitOpError("perm must be a permutation of [0, rank)");
    seen[p] = true;
    if (out[i] != in[p])
      return emitOpError("result dim ") << i << " must equal input dim " << p;
  }
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  bool identity = true;
  for (auto [i, p] : llvm::enumerate(perm))
    identity &= static_cast<int64_t>(i) == p;
  if (identity)
    return getInput();
  // transpose(transpose(x)) is one transpose with the composed perm.
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    SmallVector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(inner.getPerm()[p]);
    getInputMutable().assign(inner.getInput());
    setPerm(composed);
    return getResult();
  }
  // Transposing a weight at compile time (Gemm with transB, for example)
  // costs one pass over its bytes and nothing at run time.
  auto constant = dyn_cast_if_present<ElementsAttr>(adaptor.getInput());
  if (!constant)
    return {};
  std::vector<char> bytes = constantBytes(constant);
  if (bytes.empty() && constant.getNumElements() != 0)
    return {};
  std::vector<char> permuted =
      transposeBytes(bytes, shapeOf(getInput()), perm,
                     elementByteSize(getType().getElementType()));
  return makeConstant(getType(), permuted, "transposed");
}

LogicalResult ExpandOp::verify() {
  auto b = broadcastShapes(shapeOf(getInput()), shapeOf(getResult()));
  if (!b || ArrayRef<int64_t>(*b) != shapeOf(getResult()))
    return emitOpError("input must broadcast to the result shape");
  return success();
}

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput()), out = shapeOf(getResult());
  if (getStarts().size() != in.size() || getSteps().size() != in.size() ||
      out.size() != in.size())
    return emitOpError("starts, steps, input and result must have one rank");
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t start = getStarts()[i], step = getSteps()[i];
    if (step == 0 || start < 0 || start >= std::max<int64_t>(in[i], 1))
      return emitOpError("invalid start or step in dim ") << i;
    int64_t last = start + (out[i] - 1) * step;
    if (out[i] > 0 && (last < 0 || last >= in[i]))
      return emitOpError("slice reads outside the input in dim ") << i;
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  ArrayRef<int64_t> out = shapeOf(getResult());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= static_cast<int64_t>(out.size()))
    return emitOpError("axis out of range");
  int64_t sum = 0;
  for (Value v : getInputs()) {
    ArrayRef<int64_t> in = shapeOf(v);
    if (in.size() != out.size())
      return emitOpError("inputs must have the result's rank");
    for (size_t i = 0; i < in.size(); ++i)
      if (static_cast<int64_t>(i) != axis && in[i] != out[i])
        return emitOpError("inputs differ from the result outside the axis");
    sum += in[axis];
  }
  if (sum != out[axis])
    return emitOpError("result size along the axis must be the inputs' sum");
  return success();
}

LogicalResult GatherOp::verify() {
  ArrayRef<int64_t> data = shapeOf(getData()), idx = shapeOf(getIndices()),
                    out = shapeOf(getResult());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= static_cast<int64_t>(data.size()))
    return emitOpError("axis out of range");
  SmallVector<int64_t> expected(data.begin(), data.begin() + axis);
  expected.append(idx.begin(), idx.end());
  expected.append(data.begin() + axis + 1, data.end());
  if (ArrayRef<int64_t>(expected) != out)
    return emitOpError("result shape must be data[:axis] + indices + "
                       "data[axis+1:]");
  return success();
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::verify() {
  ArrayRef<int64_t> a = shapeOf(getLhs()), b = shapeOf(getRhs()),
                    c = shapeOf(getResult());
  if (a.size() < 2 || b.size() < 2)
    return emitOpError("operands must have rank >= 2 (the importer expands "
                       "vectors)");
  if (a.back() != b[b.size() - 2])
    return emitOpError("contraction dims differ: ")
           << a.back() << " vs " << b[b.size() - 2];
  auto batch = broadcastShapes(a.drop_back(2), b.drop_back(2));
  if (!batch)
    return emitOpError("batch dims are not broadcast-compatible");
  SmallVector<int64_t> expected(*batch);
  expected.push_back(a[a.size() - 2]);
  expected.push_back(b.back());
  if (ArrayRef<int64_t>(expected) != c)
    return emitOpError("result shape does not match the operands");
  return success();
}

static LogicalResult verifyReduce(Operation *op, ArrayRef<int64_t> axes,
                                  bool keepdims) {
  ArrayRef<int64_t> in = shapeOf(op->getOperand(0));
  SmallVector<bool> reduced(in.size(), false);
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= static_cast<int64_t>(in.size()) || reduced[axis])
      return op->emitOpError("axes must be distinct and in [0, rank)");
    reduced[axis] = true;
  }
  SmallVector<int64_t> expected;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!reduced[i])
      expected.push_back(in[i]);
    else if (keepdims)
      expected.push_back(1);
  }
  if (ArrayRef<int64_t>(expected) != shapeOf(op->getResult(0)))
    return op->emitOpError("result shape does not match axes and keepdims");
  if (elementOf(op->getOperand(0)) != elementOf(op->getResult(0)))
    return op->emitOpError("result must have the input's element type");
  return success();
}

LogicalResult ReduceMeanOp::verify() {
  return verifyReduce(*this, getAxes(), getKeepdims());
}
LogicalResult ReduceSumOp::verify() {
  return verifyReduce(*this, getAxes(), getKeepdims());
}
LogicalResult ReduceMaxOp::verify() {
  return verifyReduce(*this, getAxes(), getKeepdims());
}
LogicalResult ReduceMinOp::verify() {
  return verifyReduce(*this, getAxes(), getKeepdims());
}

LogicalResult ArgMaxOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= static_cast<int64_t>(in.size()))
    return emitOpError("axis out of range");
  SmallVector<int64_t> expected(in);
  if (getKeepdims())
    expected[axis] = 1;
  else
    expected.erase(expected.begin() + axis);
  if (ArrayRef<int64_t>(expected) != shapeOf(getResult()))
    return emitOpError("result shape does not match axis and keepdims");
  return success();
}

LogicalResult CumSumOp::verify() {
  int64_t axis = getAxis();
  if (axis < 0 || axis >= static_cast<int64_t>(shapeOf(getInput()).size()))
    return emitOpError("axis out of range");
  return success();
}

LogicalResult PadOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput()), out = shapeOf(getResult()),
                    pads = getPads();
  size_t rank = in.size();
  if (pads.size() != 2 * rank || out.size() != rank)
    return emitOpError("pads must hold 2 x rank values");
  if (getMode() != "constant" && getMode() != "reflect" && getMode() != "edge")
    return emitOpError("mode must be constant, reflect or edge");
  if (elementOf(getInput()) != elementOf(getResult()))
    return emitOpError("result must have the input's element type");
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] != in[d] + pads[d] + pads[rank + d])
      return emitOpError("result dim ") << d << " must be the padded size";
    if (getMode() != "constant" && out[d] > 0 && in[d] == 0)
      return emitOpError("cannot ") << getMode() << "-pad an empty dim";
  }
  return success();
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = shapeOf(getInput()).size();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError("axis out of range");
  return success();
}

LogicalResult LayerNormOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= static_cast<int64_t>(in.size()))
    return emitOpError("axis out of range");
  ArrayRef<int64_t> normalized = in.drop_front(axis);
  auto check = [&](Value v) {
    auto b = broadcastShapes(normalized, shapeOf(v));
    return b && ArrayRef<int64_t>(*b) == normalized;
  };
  if (!check(getScale()) || (getBias() && !check(getBias())))
    return emitOpError("scale and bias must broadcast to the normalized dims");
  if (shapeOf(getResult()) != in)
    return emitOpError("result must have the input's shape");
  return success();
}

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

/// The body takes one scalar per value in `inputs` (plus `leading` scalars
/// first) and yields one scalar of the result's element type.
static LogicalResult verifyScalarBody(Operation *op, Region &body,
                                      ValueRange inputs, Type result,
                                      unsigned leading) {
  if (body.empty())
    return success();
  Block &block = body.front();
  if (block.getNumArguments() != inputs.size() + leading)
    return op->emitOpError("body must take ")
           << inputs.size() + leading << " scalar arguments";
  for (auto [i, v] : llvm::enumerate(inputs))
    if (block.getArgument(i + leading).getType() != elementOf(v))
      return op->emitOpError("body argument ")
             << i + leading << " must be the element type of its input";
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValue().getType() != result)
    return op->emitOpError("body must yield a ") << result;
  return success();
}

LogicalResult FusedOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  if (failed(verifyBroadcast(*this, getInputs(), getResult())))
    return failure();
  if (getBody().empty())
    return emitOpError("needs a body");
  return verifyScalarBody(*this, getBody(), getInputs(), elementOf(getResult()),
                          0);
}

LogicalResult DenseOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput()), w = shapeOf(getWeight()),
                    out = shapeOf(getResult());
  if (in.size() < 2 || w.size() != 2 || in.back() != w[0])
    return emitOpError("needs input [..., K] and weight [K, N]");
  SmallVector<int64_t> expected(in.drop_back());
  expected.push_back(w[1]);
  if (ArrayRef<int64_t>(expected) != out)
    return emitOpError("result must be [..., N]");
  if (getBias() && shapeOf(getBias()) != ArrayRef<int64_t>{w[1]})
    return emitOpError("bias must be [N]");
  for (Value e : getExtra()) {
    auto b = broadcastShapes(shapeOf(e), out);
    if (!b || ArrayRef<int64_t>(*b) != out)
      return emitOpError("extra inputs must broadcast to the result");
  }
  if (!getExtra().empty() && getEpilogue().empty())
    return emitOpError("extra inputs need an epilogue body");
  if (getLnScale()) {
    if (!getLnEpsilon())
      return emitOpError("layer_norm needs ln_epsilon");
    if (shapeOf(getLnScale()) != ArrayRef<int64_t>{w[1]} ||
        shapeOf(getLnBias()) != ArrayRef<int64_t>{w[1]})
      return emitOpError("layer_norm scale and bias must be [N]");
  }
  return verifyScalarBody(*this, getEpilogue(), getExtra(),
                          elementOf(getResult()), 1);
}

LogicalResult AttentionOp::verify() {
  ArrayRef<int64_t> out = shapeOf(getResult());
  if (out.size() != 3)
    return emitOpError("result must be [B, S, D]");
  int64_t d = out[2], heads = getNumHeads();
  if (heads <= 0 || d % heads != 0)
    return emitOpError("D = ") << d << " is not divisible by num_heads";
  if (getQkv().size() == 3) {
    for (Value v : getQkv())
      if (shapeOf(v) != out)
        return emitOpError("q, k and v must have the result's shape");
  } else if (getQkv().size() == 1) {
    SmallVector<int64_t> packed(out);
    packed[2] *= 3;
    if (shapeOf(getQkv()[0]) != ArrayRef<int64_t>(packed))
      return emitOpError("packed qkv must be [B, S, 3D]");
  } else {
    return emitOpError("takes q, k, v or one packed qkv");
  }
  if (getMask()) {
    SmallVector<int64_t> scores = {out[0], heads, out[1], out[1]};
    auto b = broadcastShapes(shapeOf(getMask()), scores);
    if (!b || ArrayRef<int64_t>(*b) != ArrayRef<int64_t>(scores))
      return emitOpError("mask must broadcast to [B, heads, S, S]");
  }
  return success();
}

LogicalResult EmbeddingOp::verify() {
  ArrayRef<int64_t> out = shapeOf(getResult());
  if (getTables().size() != getIndices().size() || getTables().empty())
    return emitOpError("needs one index tensor per table");
  int64_t d = out.back();
  for (auto [t, i] : llvm::zip(getTables(), getIndices())) {
    ArrayRef<int64_t> ts = shapeOf(t);
    auto b = broadcastShapes(shapeOf(i), out.drop_back());
    if (ts.size() != 2 || ts[1] != d || !b ||
        ArrayRef<int64_t>(*b) != out.drop_back() ||
        shapeOf(i).size() + 1 != out.size())
      return emitOpError("tables must be [V, D] and indices must broadcast "
                         "to the result's leading shape");
  }
  for (Value a : getAddends()) {
    auto b = broadcastShapes(shapeOf(a), out);
    if (!b || ArrayRef<int64_t>(*b) != out)
      return emitOpError("addends must broadcast to the result");
  }
  if (shapeOf(getLnScale()) != ArrayRef<int64_t>{d} ||
      shapeOf(getLnBias()) != ArrayRef<int64_t>{d})
    return emitOpError("layer_norm scale and bias must be [D]");
  if (getPositionTable().has_value() != getPaddingIdx().has_value())
    return emitOpError("position_table and padding_idx go together");
  if (auto t = getPositionTable()) {
    if (*t >= getTables().size())
      return emitOpError("position_table out of range");
    // Positions run from P to P + S: every one must be a row of the table.
    int64_t seq = out[out.size() - 2], rows = shapeOf(getTables()[*t])[0];
    if (shapeOf(getIndices()[*t]) != out.drop_back() || out.size() != 3)
      return emitOpError("position ids need token ids of the result's [B, S]");
    if (*getPaddingIdx() < 0 || *getPaddingIdx() + seq >= rows)
      return emitOpError("padding-aware positions up to ")
             << *getPaddingIdx() + seq << " do not fit a table of " << rows
             << " rows";
  }
  return success();
}
