//===- OnnxOpHandlers.cpp - one handler per ONNX op family ----------------===//
//
// Each handler infers the static result type, folds the node on the host when
// all inputs are small compile-time values, and otherwise emits canao ops.
//
//===----------------------------------------------------------------------===//
#include "onnx/OpHandlerUtils.h"

#include "Canao/CanaoOps.h"
#include "Canao/ShapeUtils.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <functional>
#include <numeric>

using namespace mlir;
using namespace canao;
using namespace canao::handlers;

//===----------------------------------------------------------------------===//
// Shared helpers (OpHandlerUtils.h)
//===----------------------------------------------------------------------===//

llvm::Expected<SmallVector<Slot *>> handlers::inputs(ImporterState &st, int n) {
  SmallVector<Slot *> out;
  for (int i = 0; i < n; ++i) {
    auto s = st.input(i);
    if (!s)
      return s.takeError();
    out.push_back(*s);
  }
  return out;
}

bool handlers::allFoldable(llvm::ArrayRef<Slot *> slots) {
  return llvm::all_of(slots, [](Slot *s) { return s->foldable(); });
}

llvm::Expected<SmallVector<int64_t>>
handlers::broadcastAll(ImporterState &st, llvm::ArrayRef<Slot *> slots) {
  SmallVector<int64_t> shape(slots.front()->shape);
  for (Slot *s : slots.drop_front()) {
    auto b = broadcastShapes(shape, s->shape);
    if (!b)
      return st.nodeError("shapes " + describeShape(shape) + " and " +
                          describeShape(s->shape) + " do not broadcast");
    shape = *b;
    if (auto n = checkedNumElements(shape, "broadcast result"); !n)
      return st.nodeError(llvm::toString(n.takeError()));
  }
  return shape;
}

RankedTensorType handlers::typeOf(ImporterState &st,
                                  llvm::ArrayRef<int64_t> shape, DType dtype) {
  return RankedTensorType::get(shape, st.elementType(dtype));
}

Slot handlers::scalarSlot(DType dtype, double v) {
  return constantSlot(HostTensor::fromValues(dtype, {}, {roundTo(dtype, v)}));
}

llvm::Expected<Slot>
handlers::applyBinary(ImporterState &st, const BinaryBuilder &build,
                      const std::function<double(double, double)> &fold,
                      BinaryKind kind, Slot &a, Slot &b) {
  if (a.dtype != b.dtype)
    return st.nodeError(std::string("operand types ") + dtypeName(a.dtype) +
                        " and " + dtypeName(b.dtype) + " differ");
  if (kind == BinaryKind::Logic && a.dtype != DType::Bool)
    return st.nodeError(std::string("expects bool operands, got ") +
                        dtypeName(a.dtype));
  SmallVector<Slot *> both = {&a, &b};
  auto shape = broadcastAll(st, both);
  if (!shape)
    return shape.takeError();
  DType out = kind == BinaryKind::Arith ? a.dtype : DType::Bool;
  // Small operands can broadcast to a huge result: fold only small ones.
  if (allFoldable(both) && numElements(*shape) <= kFoldLimit) {
    bool truncate = kind == BinaryKind::Arith && isInteger(a.dtype);
    std::vector<const HostTensor *> ts = {&*a.constant, &*b.constant};
    return constantSlot(evalElementwise(ts, out, *shape, [&](const double *v) {
      // Integer Div truncates, like C.
      double r = fold(v[0], v[1]);
      return truncate ? std::trunc(r) : r;
    }));
  }
  return valueSlot(
      build(st.b, st.loc, typeOf(st, *shape, out), st.value(a), st.value(b)));
}

Handler handlers::binaryHandler(BinaryBuilder build,
                                std::function<double(double, double)> fold,
                                BinaryKind kind, bool swap) {
  return [build, fold, kind, swap](ImporterState &st) -> llvm::Error {
    auto in = inputs(st, 2);
    if (!in)
      return in.takeError();
    Slot *a = (*in)[swap ? 1 : 0], *b = (*in)[swap ? 0 : 1];
    auto r = applyBinary(st, build, fold, kind, *a, *b);
    if (!r)
      return r.takeError();
    st.setOutput(0, std::move(*r));
    return llvm::Error::success();
  };
}

Handler handlers::unaryHandler(UnaryBuilder build,
                               std::function<double(double)> fold,
                               bool integers, bool logic) {
  return [build, fold, integers, logic](ImporterState &st) -> llvm::Error {
    auto a = st.input(0);
    if (!a)
      return a.takeError();
    DType t = (*a)->dtype;
    if (logic ? t != DType::Bool
              : !(t == DType::F32 || (integers && isInteger(t))))
      return st.nodeError(std::string("expects a ") +
                          (logic      ? "bool"
                           : integers ? "float32 or integer"
                                      : "float32") +
                          " input, got " + dtypeName(t));
    if ((*a)->foldable()) {
      std::vector<const HostTensor *> ts = {&*(*a)->constant};
      st.setOutput(0, evalElementwise(ts, t, (*a)->shape, [&](const double *v) {
                     return fold(v[0]);
                   }));
      return llvm::Error::success();
    }
    st.setOutput(0, build(st.b, st.loc, st.value(**a)));
    return llvm::Error::success();
  };
}

Slot handlers::castSlot(ImporterState &st, Slot &s, DType to) {
  if (s.dtype == to)
    return s;
  if (s.foldable()) {
    std::vector<const HostTensor *> ts = {&*s.constant};
    return constantSlot(
        evalElementwise(ts, to, s.shape, [](const double *v) { return v[0]; }));
  }
  return valueSlot(
      CastOp::create(st.b, st.loc, typeOf(st, s.shape, to), st.value(s)));
}

llvm::Expected<Slot> handlers::reshapeSlot(ImporterState &st, Slot &a,
                                           llvm::ArrayRef<int64_t> shape) {
  if (numElements(shape) != numElements(a.shape))
    return st.nodeError("cannot reshape " + describeShape(a.shape) + " to " +
                        describeShape(shape));
  if (a.constant) {
    Slot s = a;
    s.shape.assign(shape.begin(), shape.end());
    s.constant->shape = s.shape;
    s.value = nullptr;
    return s;
  }
  Value v = st.value(a);
  if (llvm::ArrayRef<int64_t>(a.shape) == shape)
    return valueSlot(v);
  return valueSlot(
      ReshapeOp::create(st.b, st.loc, typeOf(st, shape, a.dtype), v));
}

llvm::Error handlers::reshapeTo(ImporterState &st, Slot &a,
                                llvm::ArrayRef<int64_t> shape) {
  auto r = reshapeSlot(st, a, shape);
  if (!r)
    return r.takeError();
  st.setOutput(0, std::move(*r));
  return llvm::Error::success();
}

llvm::Expected<std::optional<std::vector<int64_t>>>
handlers::axesOperand(ImporterState &st, int64_t inputSinceOpset) {
  if (st.opset() < inputSinceOpset)
    return st.intsAttr("axes");
  if (!st.hasInput(1))
    return std::optional<std::vector<int64_t>>();
  auto v = st.constantInts(1);
  if (!v)
    return v.takeError();
  return std::optional<std::vector<int64_t>>(*v);
}

namespace {

/// Gelu (opset 20): approximate = "none" | "tanh".
llvm::Error importGelu(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  if ((*a)->dtype != DType::F32)
    return st.nodeError("expects a float32 input");
  std::string approx = "none";
  if (const auto *attr = st.attr("approximate"))
    approx = attr->s();
  if (approx != "none" && approx != "tanh")
    return st.nodeError("approximate must be \"none\" or \"tanh\", got \"" +
                        approx + "\"");
  Value v = st.value(**a);
  st.setOutput(0, GeluOp::create(st.b, st.loc, v.getType(), v,
                                 st.b.getStringAttr(approx))
                      .getResult());
  return llvm::Error::success();
}

llvm::Error importWhere(ImporterState &st) {
  auto in = inputs(st, 3);
  if (!in)
    return in.takeError();
  Slot *c = (*in)[0], *x = (*in)[1], *y = (*in)[2];
  if (c->dtype != DType::Bool || x->dtype != y->dtype)
    return st.nodeError("needs a bool condition and branches of one type");
  auto shape = broadcastAll(st, *in);
  if (!shape)
    return shape.takeError();
  if (allFoldable(*in) && numElements(*shape) <= kFoldLimit) {
    std::vector<const HostTensor *> ts = {&*c->constant, &*x->constant,
                                          &*y->constant};
    st.setOutput(0, evalElementwise(ts, x->dtype, *shape, [](const double *v) {
                   return v[0] != 0 ? v[1] : v[2];
                 }));
    return llvm::Error::success();
  }
  st.setOutput(0, WhereOp::create(st.b, st.loc, typeOf(st, *shape, x->dtype),
                                  st.value(*c), st.value(*x), st.value(*y))
                      .getResult());
  return llvm::Error::success();
}

llvm::Error importCast(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  DType to;
  switch (st.intAttr("to", 0)) {
  case onnx::TensorProto::FLOAT:
    to = DType::F32;
    break;
  case onnx::TensorProto::INT64:
    to = DType::I64;
    break;
  case onnx::TensorProto::INT32:
    to = DType::I32;
    break;
  case onnx::TensorProto::BOOL:
    to = DType::Bool;
    break;
  default:
    return st.nodeError("casts to data type " +
                        llvm::Twine(st.intAttr("to", 0)) +
                        ", which canaoc does not support");
  }
  if ((*a)->foldable()) {
    std::vector<const HostTensor *> ts = {&*(*a)->constant};
    st.setOutput(0, evalElementwise(ts, to, (*a)->shape,
                                    [](const double *v) { return v[0]; }));
    return llvm::Error::success();
  }
  if (to == (*a)->dtype) {
    st.setOutput(0, **a);
    return llvm::Error::success();
  }
  st.setOutput(0, CastOp::create(st.b, st.loc, typeOf(st, (*a)->shape, to),
                                 st.value(**a))
                      .getResult());
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Constants and shape queries
//===----------------------------------------------------------------------===//

llvm::Error importConstant(ImporterState &st) {
  const onnx::AttributeProto *a = nullptr;
  for (const char *n :
       {"value", "value_float", "value_int", "value_floats", "value_ints"})
    if ((a = st.attr(n)))
      break;
  if (!a)
    return st.nodeError("has no supported value attribute");
  if (a->name() == "value") {
    auto t = st.model.tensor(a->t());
    if (!t)
      return t.takeError();
    st.setOutput(0, std::move(*t));
  } else if (a->name() == "value_float") {
    st.setOutput(0, HostTensor::fromValues(DType::F32, {}, {a->f()}));
  } else if (a->name() == "value_int") {
    st.setOutput(0, HostTensor::fromValues(DType::I64, {},
                                           {static_cast<double>(a->i())}));
  } else if (a->name() == "value_floats") {
    std::vector<double> v(a->floats().begin(), a->floats().end());
    int64_t n = v.size();
    st.setOutput(0, HostTensor::fromValues(DType::F32, {n}, std::move(v)));
  } else {
    std::vector<double> v(a->ints().begin(), a->ints().end());
    int64_t n = v.size();
    st.setOutput(0, HostTensor::fromValues(DType::I64, {n}, std::move(v)));
  }
  return llvm::Error::success();
}

llvm::Error importShape(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  int64_t rank = (*a)->shape.size();
  int64_t start = st.intAttr("start", 0), end = st.intAttr("end", rank);
  start = std::clamp(start < 0 ? start + rank : start, int64_t(0), rank);
  end = std::clamp(end < 0 ? end + rank : end, int64_t(0), rank);
  std::vector<double> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back((*a)->shape[i]);
  int64_t n = dims.size();
  st.setOutput(0, HostTensor::fromValues(DType::I64, {n}, std::move(dims)));
  return llvm::Error::success();
}

llvm::Error importSize(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  st.setOutput(
      0, HostTensor::fromValues(
             DType::I64, {}, {static_cast<double>(numElements((*a)->shape))}));
  return llvm::Error::success();
}

llvm::Error importConstantOfShape(ImporterState &st) {
  auto shape = st.constantInts(0);
  if (!shape)
    return shape.takeError();
  auto n = checkedNumElements(*shape, "ConstantOfShape result");
  if (!n)
    return n.takeError();
  HostTensor fill = HostTensor::fromValues(DType::F32, {}, {0.0});
  if (const auto *a = st.attr("value")) {
    auto t = st.model.tensor(a->t());
    if (!t)
      return t.takeError();
    fill = std::move(*t);
  }
  if (*n > kFoldLimit)
    return st.nodeError("result is too large to build at compile time");
  if (fill.numElements() != 1)
    return st.nodeError("value must hold one element");
  double v = fill.toDoubles()[0];
  st.setOutput(0, HostTensor::fromValues(fill.dtype, *shape,
                                         std::vector<double>(*n, v)));
  return llvm::Error::success();
}

llvm::Error importRange(ImporterState &st) {
  auto in = inputs(st, 3);
  if (!in)
    return in.takeError();
  for (int i = 0; i < 3; ++i)
    if (auto c = st.constantInput(i); !c)
      return c.takeError();
  if (!allFoldable(*in))
    return st.nodeError("start, limit and delta are too large to fold");
  for (int i = 0; i < 3; ++i)
    if ((*in)[i]->constant->numElements() != 1)
      return st.nodeError("start, limit and delta must be scalars");
  double start = (*in)[0]->constant->toDoubles()[0];
  double limit = (*in)[1]->constant->toDoubles()[0];
  double delta = (*in)[2]->constant->toDoubles()[0];
  if (delta == 0)
    return st.nodeError("delta is zero");
  double count = std::max(0.0, std::ceil((limit - start) / delta));
  if (count > kFoldLimit)
    return st.nodeError("range is too long");
  std::vector<double> v;
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i)
    v.push_back(start + i * delta);
  int64_t n = v.size();
  st.setOutput(0, HostTensor::fromValues((*in)[0]->dtype, {n}, std::move(v)));
  return llvm::Error::success();
}

llvm::Error importIdentity(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  st.setOutput(0, **a);
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

llvm::Error importReshape(ImporterState &st) {
  auto a = st.input(0);
  auto spec = st.constantInts(1);
  if (!a)
    return a.takeError();
  if (!spec)
    return spec.takeError();
  bool allowZero = st.intAttr("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t inferred = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(*spec)) {
    if (d == 0 && !allowZero) {
      if (i >= (*a)->shape.size())
        return st.nodeError("shape copies dim " + llvm::Twine(i) +
                            ", which the input lacks");
      d = (*a)->shape[i];
    }
    if (d == -1) {
      if (inferred >= 0)
        return st.nodeError("shape has more than one -1");
      inferred = i;
      shape.push_back(1);
      continue;
    }
    if (d < 0)
      return st.nodeError("shape has a negative dimension");
    // The product is compared with the input's size below; past 2^32 it
    // can only be wrong (and would overflow).
    if (d != 0 && known > kMaxTensorElements / d)
      return st.nodeError("shape " + describeShape(*spec) +
                          " has absurd dimensions (more than 2^32 elements)");
    shape.push_back(d);
    known *= d;
  }
  if (inferred >= 0) {
    if (known == 0 || numElements((*a)->shape) % known != 0)
      return st.nodeError("cannot infer -1 when reshaping " +
                          describeShape((*a)->shape));
    shape[inferred] = numElements((*a)->shape) / known;
  }
  return reshapeTo(st, **a, shape);
}

llvm::Error importUnsqueeze(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  std::vector<int64_t> axes;
  if (st.opset() >= 13) {
    auto v = st.constantInts(1);
    if (!v)
      return v.takeError();
    axes = *v;
  } else {
    axes = st.intsAttr("axes").value_or(std::vector<int64_t>{});
  }
  int64_t outRank = (*a)->shape.size() + axes.size();
  SmallVector<bool> isNew(outRank, false);
  for (int64_t ax : axes) {
    auto n = st.normalizeAxis(ax, outRank);
    if (!n)
      return n.takeError();
    if (isNew[*n])
      return st.nodeError("axes name axis " + llvm::Twine(*n) + " twice");
    isNew[*n] = true;
  }
  SmallVector<int64_t> shape;
  size_t j = 0;
  for (int64_t i = 0; i < outRank; ++i)
    shape.push_back(isNew[i] ? 1 : (*a)->shape[j++]);
  return reshapeTo(st, **a, shape);
}

llvm::Error importSqueeze(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  std::optional<std::vector<int64_t>> axes;
  if (st.opset() >= 13) {
    if (st.hasInput(1)) {
      auto v = st.constantInts(1);
      if (!v)
        return v.takeError();
      axes = *v;
    }
  } else {
    axes = st.intsAttr("axes");
  }
  int64_t rank = (*a)->shape.size();
  SmallVector<bool> drop(rank, false);
  if (axes) {
    for (int64_t ax : *axes) {
      auto n = st.normalizeAxis(ax, rank);
      if (!n)
        return n.takeError();
      if ((*a)->shape[*n] != 1)
        return st.nodeError("squeezes dim " + llvm::Twine(*n) +
                            ", which is not 1");
      drop[*n] = true;
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      drop[i] = (*a)->shape[i] == 1;
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i])
      shape.push_back((*a)->shape[i]);
  return reshapeTo(st, **a, shape);
}

llvm::Error importFlatten(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  int64_t rank = (*a)->shape.size();
  int64_t axis = st.intAttr("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return st.nodeError("axis out of range");
  llvm::ArrayRef<int64_t> s((*a)->shape);
  SmallVector<int64_t> shape = {numElements(s.take_front(axis)),
                                numElements(s.drop_front(axis))};
  return reshapeTo(st, **a, shape);
}

llvm::Error importTranspose(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  int64_t rank = (*a)->shape.size();
  std::vector<int64_t> perm(rank);
  std::iota(perm.rbegin(), perm.rend(), 0);
  if (auto p = st.intsAttr("perm"))
    perm = *p;
  if (static_cast<int64_t>(perm.size()) != rank)
    return st.nodeError("perm has the wrong length");
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  for (int64_t &p : perm) {
    auto n = st.normalizeAxis(p, rank);
    if (!n || seen[*n])
      return n ? st.nodeError("perm is not a permutation") : n.takeError();
    p = *n;
    seen[p] = true;
    shape.push_back((*a)->shape[p]);
  }
  if ((*a)->foldable()) {
    st.setOutput(0, evalTranspose(*(*a)->constant, perm));
    return llvm::Error::success();
  }
  st.setOutput(
      0, TransposeOp::create(st.b, st.loc, typeOf(st, shape, (*a)->dtype),
                             st.value(**a), st.b.getDenseI64ArrayAttr(perm))
             .getResult());
  return llvm::Error::success();
}

llvm::Error importExpand(ImporterState &st) {
  auto a = st.input(0);
  auto target = st.constantInts(1);
  if (!a)
    return a.takeError();
  if (!target)
    return target.takeError();
  auto shape = broadcastShapes((*a)->shape, *target);
  if (!shape)
    return st.nodeError("cannot expand " + describeShape((*a)->shape) + " to " +
                        describeShape(*target));
  if (auto n = checkedNumElements(*shape, "Expand result"); !n)
    return n.takeError();
  if ((*a)->foldable() && numElements(*shape) <= kFoldLimit) {
    std::vector<const HostTensor *> ts = {&*(*a)->constant};
    st.setOutput(0, evalElementwise(ts, (*a)->dtype, *shape,
                                    [](const double *v) { return v[0]; }));
    return llvm::Error::success();
  }
  Value v = st.value(**a);
  if (llvm::ArrayRef<int64_t>(*shape) == llvm::ArrayRef<int64_t>((*a)->shape)) {
    st.setOutput(0, v);
    return llvm::Error::success();
  }
  st.setOutput(
      0, ExpandOp::create(st.b, st.loc, typeOf(st, *shape, (*a)->dtype), v)
             .getResult());
  return llvm::Error::success();
}

llvm::Error importSlice(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  int64_t rank = (*a)->shape.size();
  std::vector<int64_t> starts, ends, axes, steps;
  if (st.opset() >= 10) {
    auto s = st.constantInts(1), e = st.constantInts(2);
    if (!s)
      return s.takeError();
    if (!e)
      return e.takeError();
    starts = *s;
    ends = *e;
    if (st.hasInput(3)) {
      auto v = st.constantInts(3);
      if (!v)
        return v.takeError();
      axes = *v;
    }
    if (st.hasInput(4)) {
      auto v = st.constantInts(4);
      if (!v)
        return v.takeError();
      steps = *v;
    }
  } else {
    starts = st.intsAttr("starts").value_or(std::vector<int64_t>{});
    ends = st.intsAttr("ends").value_or(std::vector<int64_t>{});
    axes = st.intsAttr("axes").value_or(std::vector<int64_t>{});
  }
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return st.nodeError("starts, ends, axes and steps differ in length");
  SmallVector<int64_t> outStart(rank, 0), outStep(rank, 1);
  SmallVector<int64_t> shape((*a)->shape);
  for (size_t k = 0; k < starts.size(); ++k) {
    auto axis = st.normalizeAxis(axes[k], rank);
    if (!axis)
      return axis.takeError();
    int64_t d = (*a)->shape[*axis], s = starts[k], e = ends[k], step = steps[k];
    if (step == 0)
      return st.nodeError("step is zero");
    if (s < 0)
      s += d;
    if (e < 0)
      e += d;
    int64_t size;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      size = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      size = s > e ? (s - e - step - 1) / -step : 0;
    }
    // An empty slice of shape plumbing folds; a run-time one cannot run.
    if (size == 0 && !(*a)->foldable())
      return st.nodeError("produces an empty tensor, which canaoc does not "
                          "support");
    outStart[*axis] = s;
    outStep[*axis] = step;
    shape[*axis] = size;
  }
  if ((*a)->foldable()) {
    st.setOutput(0, evalSlice(*(*a)->constant, outStart, outStep, shape));
    return llvm::Error::success();
  }
  st.setOutput(0, SliceOp::create(st.b, st.loc, typeOf(st, shape, (*a)->dtype),
                                  st.value(**a),
                                  st.b.getDenseI64ArrayAttr(outStart),
                                  st.b.getDenseI64ArrayAttr(outStep))
                      .getResult());
  return llvm::Error::success();
}

llvm::Error importConcat(ImporterState &st) {
  auto in = inputs(st, st.node->input_size());
  if (!in)
    return in.takeError();
  if (in->empty())
    return st.nodeError("has no inputs");
  int64_t rank = (*in)[0]->shape.size();
  auto axis = st.normalizeAxis(st.intAttr("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  SmallVector<int64_t> shape((*in)[0]->shape);
  shape[*axis] = 0;
  for (Slot *s : *in) {
    if (static_cast<int64_t>(s->shape.size()) != rank ||
        s->dtype != (*in)[0]->dtype)
      return st.nodeError("inputs differ in rank or type");
    for (int64_t i = 0; i < rank; ++i)
      if (i != *axis && s->shape[i] != (*in)[0]->shape[i])
        return st.nodeError("inputs differ outside the concat axis");
    shape[*axis] += s->shape[*axis];
  }
  if (allFoldable(*in) && numElements(shape) <= kFoldLimit) {
    std::vector<const HostTensor *> ts;
    for (Slot *s : *in)
      ts.push_back(&*s->constant);
    st.setOutput(0, evalConcat(ts, *axis, shape));
    return llvm::Error::success();
  }
  SmallVector<Value> values;
  for (Slot *s : *in)
    if (numElements(s->shape) != 0) // an empty part adds nothing
      values.push_back(st.value(*s));
  if (values.size() == 1) {
    st.setOutput(0, values[0]);
    return llvm::Error::success();
  }
  st.setOutput(0, ConcatOp::create(st.b, st.loc,
                                   typeOf(st, shape, (*in)[0]->dtype), values,
                                   st.b.getI64IntegerAttr(*axis))
                      .getResult());
  return llvm::Error::success();
}

llvm::Error importGather(ImporterState &st) {
  auto in = inputs(st, 2);
  if (!in)
    return in.takeError();
  Slot *data = (*in)[0], *idx = (*in)[1];
  if (idx->dtype != DType::I64 && idx->dtype != DType::I32)
    return st.nodeError("indices must be int64 or int32");
  int64_t rank = data->shape.size();
  auto axis = st.normalizeAxis(st.intAttr("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  int64_t dim = data->shape[*axis];
  if (idx->foldable())
    for (int64_t i : idx->constant->toInts())
      if (i < -dim || i >= dim)
        return st.nodeError("index " + llvm::Twine(i) +
                            " is out of range for a dimension of size " +
                            llvm::Twine(dim));
  SmallVector<int64_t> shape(data->shape.begin(), data->shape.begin() + *axis);
  shape.append(idx->shape.begin(), idx->shape.end());
  shape.append(data->shape.begin() + *axis + 1, data->shape.end());
  if (allFoldable(*in) && numElements(shape) <= kFoldLimit) {
    st.setOutput(0, evalGather(*data->constant, *idx->constant, *axis, shape));
    return llvm::Error::success();
  }
  st.setOutput(0, GatherOp::create(st.b, st.loc, typeOf(st, shape, data->dtype),
                                   st.value(*data), st.value(*idx),
                                   st.b.getI64IntegerAttr(*axis))
                      .getResult());
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

llvm::Expected<Value> matmul(ImporterState &st, Value a, Value b) {
  auto ta = cast<RankedTensorType>(a.getType()),
       tb = cast<RankedTensorType>(b.getType());
  if (!ta.getElementType().isF32() || !tb.getElementType().isF32())
    return st.nodeError("expects float32 operands");
  SmallVector<int64_t> sa(ta.getShape()), sb(tb.getShape());
  bool vecA = sa.size() == 1, vecB = sb.size() == 1;
  // ONNX (NumPy) matmul promotes vectors to matrices and drops the dim after.
  if (vecA)
    sa.insert(sa.begin(), 1);
  if (vecB)
    sb.push_back(1);
  if (sa.size() < 2 || sb.size() < 2 || sa.back() != sb[sb.size() - 2])
    return st.nodeError("cannot multiply " + describeShape(ta.getShape()) +
                        " by " + describeShape(tb.getShape()));
  auto batch = broadcastShapes(llvm::ArrayRef<int64_t>(sa).drop_back(2),
                               llvm::ArrayRef<int64_t>(sb).drop_back(2));
  if (!batch)
    return st.nodeError("batch dims do not broadcast");
  auto reshape = [&](Value v, llvm::ArrayRef<int64_t> s) -> Value {
    auto t = RankedTensorType::get(s, st.b.getF32Type());
    return v.getType() == t ? v : ReshapeOp::create(st.b, st.loc, t, v);
  };
  a = reshape(a, sa);
  b = reshape(b, sb);
  SmallVector<int64_t> shape(*batch);
  shape.push_back(sa[sa.size() - 2]);
  shape.push_back(sb.back());
  Value r = MatMulOp::create(
      st.b, st.loc, RankedTensorType::get(shape, st.b.getF32Type()), a, b);
  SmallVector<int64_t> final(*batch);
  if (!vecA)
    final.push_back(sa[sa.size() - 2]);
  if (!vecB)
    final.push_back(sb.back());
  return reshape(r, final);
}

llvm::Error importMatMul(ImporterState &st) {
  auto in = inputs(st, 2);
  if (!in)
    return in.takeError();
  auto r = matmul(st, st.value(*(*in)[0]), st.value(*(*in)[1]));
  if (!r)
    return r.takeError();
  st.setOutput(0, *r);
  return llvm::Error::success();
}

Value scaled(ImporterState &st, Value v, float factor) {
  if (factor == 1.0f)
    return v;
  auto scalarType = RankedTensorType::get({}, st.b.getF32Type());
  Value c = ConstantOp::create(
      st.b, st.loc, scalarType,
      DenseElementsAttr::get(scalarType, llvm::ArrayRef<float>(factor)));
  return MulOp::create(st.b, st.loc, v.getType(), v, c);
}

llvm::Error importGemm(ImporterState &st) {
  auto in = inputs(st, 2);
  if (!in)
    return in.takeError();
  Value a = st.value(*(*in)[0]), b = st.value(*(*in)[1]);
  if ((*in)[0]->shape.size() != 2 || (*in)[1]->shape.size() != 2)
    return st.nodeError("expects 2-D operands");
  auto transposed = [&](Value v) -> Value {
    auto t = cast<RankedTensorType>(v.getType());
    auto type = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)},
                                      t.getElementType());
    return TransposeOp::create(st.b, st.loc, type, v,
                               st.b.getDenseI64ArrayAttr({1, 0}));
  };
  if (st.intAttr("transA", 0))
    a = transposed(a);
  if (st.intAttr("transB", 0))
    b = transposed(b);
  auto r = matmul(st, a, b);
  if (!r)
    return r.takeError();
  Value out = scaled(st, *r, st.floatAttr("alpha", 1.0f));
  if (st.hasInput(2)) {
    auto c = st.input(2);
    if (!c)
      return c.takeError();
    auto shape = broadcastShapes(
        cast<RankedTensorType>(out.getType()).getShape(), (*c)->shape);
    if (!shape || llvm::ArrayRef<int64_t>(*shape) !=
                      cast<RankedTensorType>(out.getType()).getShape())
      return st.nodeError("C does not broadcast to the result");
    Value cv = scaled(st, st.value(**c), st.floatAttr("beta", 1.0f));
    out = AddOp::create(st.b, st.loc, out.getType(), out, cv);
  }
  st.setOutput(0, out);
  return llvm::Error::success();
}

llvm::Error importSoftmax(ImporterState &st) {
  auto a = st.input(0);
  if (!a)
    return a.takeError();
  if ((*a)->dtype != DType::F32)
    return st.nodeError("expects a float32 input");
  int64_t rank = (*a)->shape.size();
  auto axis =
      st.normalizeAxis(st.intAttr("axis", st.opset() >= 13 ? -1 : 1), rank);
  if (!axis)
    return axis.takeError();
  Value v = st.value(**a);
  auto type = cast<RankedTensorType>(v.getType());
  if (st.opset() >= 13 || *axis == rank - 1) {
    st.setOutput(0, SoftmaxOp::create(st.b, st.loc, type, v,
                                      st.b.getI64IntegerAttr(*axis))
                        .getResult());
    return llvm::Error::success();
  }
  // Before opset 13, Softmax normalizes over all dims from `axis` on.
  llvm::ArrayRef<int64_t> s((*a)->shape);
  auto flat = RankedTensorType::get(
      {numElements(s.take_front(*axis)), numElements(s.drop_front(*axis))},
      st.b.getF32Type());
  Value r = ReshapeOp::create(st.b, st.loc, flat, v);
  r = SoftmaxOp::create(st.b, st.loc, flat, r, st.b.getI64IntegerAttr(1));
  st.setOutput(0, ReshapeOp::create(st.b, st.loc, type, r).getResult());
  return llvm::Error::success();
}

const HandlerTable &handlerTable() {
  static const HandlerTable table = [] {
    HandlerTable t = {
        {"Add", binary<AddOp>([](double a, double b) { return a + b; })},
        {"Sub", binary<SubOp>([](double a, double b) { return a - b; })},
        {"Mul", binary<MulOp>([](double a, double b) { return a * b; })},
        {"Div", binary<DivOp>([](double a, double b) { return a / b; })},
        {"Equal",
         binary<EqualOp>([](double a, double b) { return a == b ? 1.0 : 0.0; },
                         BinaryKind::Compare)},
        {"Where", importWhere},
        {"Gelu", importGelu},
        {"Sqrt", unary<SqrtOp>([](double x) { return std::sqrt(x); })},
        {"Erf", unary<ErfOp>([](double x) { return std::erf(x); })},
        {"Tanh", unary<TanhOp>([](double x) { return std::tanh(x); })},
        {"Relu", unary<ReluOp>([](double x) { return x > 0 ? x : 0; }, true)},
        {"Exp", unary<ExpOp>([](double x) { return std::exp(x); })},
        {"Neg", unary<NegOp>([](double x) { return -x; }, true)},
        {"Sigmoid",
         unary<SigmoidOp>([](double x) { return 1 / (1 + std::exp(-x)); })},
        {"Cast", importCast},
        {"Constant", importConstant},
        {"Shape", importShape},
        {"Size", importSize},
        {"ConstantOfShape", importConstantOfShape},
        {"Range", importRange},
        {"Identity", importIdentity},
        {"Dropout", importIdentity}, // inference: Dropout is the identity
        {"Reshape", importReshape},
        {"Unsqueeze", importUnsqueeze},
        {"Squeeze", importSqueeze},
        {"Flatten", importFlatten},
        {"Transpose", importTranspose},
        {"Expand", importExpand},
        {"Slice", importSlice},
        {"Concat", importConcat},
        {"Gather", importGather},
        {"MatMul", importMatMul},
        {"Gemm", importGemm},
        {"Softmax", importSoftmax},
    };
    addFamilyHandlers(t);
    return t;
  }();
  return table;
}

} // namespace

llvm::Error canao::importNode(ImporterState &st) {
  const onnx::NodeProto &node = *st.node;
  bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
  auto it = handlerTable().find(node.op_type());
  if (!defaultDomain || it == handlerTable().end()) {
    std::string op =
        defaultDomain ? node.op_type() : node.domain() + "." + node.op_type();
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "unsupported op '" + op + "' (node '" +
                                       node.name() + "', opset " +
                                       std::to_string(st.opset()) + ")");
  }
  return it->second(st);
}
