//===- OnnxFamilyHandlers.cpp - ops of the wider BERT family --------------===//
//
// What RoBERTa, MobileBERT, ELECTRA and MPNet exports use beyond BERT's
// ops: comparisons and logic (padding-aware position ids), min/max/clip,
// log/abs (relative position buckets), reductions, cumsum, pad (the
// trigram embedding), split, tile, trilu, argmax and the einsum forms
// exporters write for attention. Several lower to existing canao ops
// (Greater is Less with its operands swapped, Tile is reshape + expand,
// Trilu a select with a constant mask, Einsum transposes around a matmul).
//
//===----------------------------------------------------------------------===//
#include "onnx/OpHandlerUtils.h"

#include "Canao/CanaoOps.h"
#include "Canao/ShapeUtils.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace canao;
using namespace canao::handlers;

namespace {

double nanMin(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
}
double nanMax(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
}

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

/// Min/Max: any number of inputs, folded pairwise from the left.
Handler variadic(BinaryBuilder build, double (*fold)(double, double)) {
  return [build, fold](ImporterState &st) -> llvm::Error {
    int n = st.node->input_size();
    if (n == 0)
      return st.nodeError("needs at least one input");
    auto in = inputs(st, n);
    if (!in)
      return in.takeError();
    Slot acc = *(*in)[0];
    if (acc.dtype == DType::Bool)
      return st.nodeError("expects float32 or integer inputs");
    for (int i = 1; i < n; ++i) {
      auto r = applyBinary(st, build, fold, BinaryKind::Arith, acc, *(*in)[i]);
      if (!r)
        return r.takeError();
      acc = std::move(*r);
    }
    st.setOutput(0, std::move(acc));
    return llvm::Error::success();
  };
}

/// Clip(x, min, max): max(x, min) then min(., max); bounds from inputs
/// (opset 11+) or attributes.
llvm::Error importClip(ImporterState &st) {
  auto x = st.input(0);
  if (!x)
    return x.takeError();
  Slot acc = **x;
  if (acc.dtype == DType::Bool)
    return st.nodeError("expects a float32 or integer input");
  auto bound = [&](int i, const char *attr) -> llvm::Expected<Slot *> {
    if (st.opset() >= 11) {
      if (!st.hasInput(i))
        return nullptr;
      auto s = st.input(i);
      if (!s)
        return s.takeError();
      if (!(*s)->shape.empty() && numElements((*s)->shape) != 1)
        return st.nodeError(std::string(attr) + " must be a scalar");
      return *s;
    }
    return nullptr;
  };
  auto apply = [&](int i, const char *name, double (*fold)(double, double),
                   const BinaryBuilder &build) -> llvm::Error {
    auto b = bound(i, name);
    if (!b)
      return b.takeError();
    Slot fromAttr;
    Slot *s = *b;
    if (!s && st.opset() < 11 && st.attr(name)) {
      fromAttr = scalarSlot(DType::F32, st.floatAttr(name, 0));
      s = &fromAttr;
    }
    if (!s)
      return llvm::Error::success();
    Slot scalar = *s;
    if (!scalar.shape.empty()) {
      auto r = reshapeSlot(st, scalar, {});
      if (!r)
        return r.takeError();
      scalar = std::move(*r);
    }
    auto r = applyBinary(st, build, fold, BinaryKind::Arith, acc, scalar);
    if (!r)
      return r.takeError();
    acc = std::move(*r);
    return llvm::Error::success();
  };
  if (auto err = apply(1, "min", nanMax, builderOf<MaxOp>()))
    return err;
  if (auto err = apply(2, "max", nanMin, builderOf<MinOp>()))
    return err;
  st.setOutput(0, std::move(acc));
  return llvm::Error::success();
}

/// Reciprocal(x) = 1 / x, so LP-Fusion sees a division.
llvm::Error importReciprocal(ImporterState &st) {
  auto x = st.input(0);
  if (!x)
    return x.takeError();
  if ((*x)->dtype != DType::F32)
    return st.nodeError("expects a float32 input");
  Slot one = scalarSlot(DType::F32, 1.0);
  auto r = applyBinary(
      st, builderOf<DivOp>(), [](double a, double b) { return a / b; },
      BinaryKind::Arith, one, **x);
  if (!r)
    return r.takeError();
  st.setOutput(0, std::move(*r));
  return llvm::Error::success();
}

/// Pow with mixed operand types (ONNX: the result has the base's type).
/// A float exponent of an integer base is computed in float and truncated.
llvm::Error importPow(ImporterState &st) {
  auto in = inputs(st, 2);
  if (!in)
    return in.takeError();
  Slot base = *(*in)[0], exp = *(*in)[1];
  if (base.dtype == DType::Bool || exp.dtype == DType::Bool)
    return st.nodeError("expects float32 or integer operands");
  DType resultType = base.dtype;
  DType computeType = base.dtype == exp.dtype ? base.dtype
                      : isInteger(base.dtype) && isInteger(exp.dtype)
                          ? base.dtype
                          : DType::F32;
  Slot b = castSlot(st, base, computeType), e = castSlot(st, exp, computeType);
  auto r = applyBinary(
      st, builderOf<PowOp>(), [](double x, double y) { return std::pow(x, y); },
      BinaryKind::Arith, b, e);
  if (!r)
    return r.takeError();
  st.setOutput(0, castSlot(st, *r, resultType));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Reductions and scans
//===----------------------------------------------------------------------===//

/// Sorted, normalized reduction axes (all dims when `axes` is unset or
/// empty), or an error.
llvm::Expected<SmallVector<int64_t>>
reductionAxes(ImporterState &st,
              const std::optional<std::vector<int64_t>> &axes, int64_t rank) {
  SmallVector<bool> reduced(rank, !axes || axes->empty());
  if (axes)
    for (int64_t ax : *axes) {
      auto n = st.normalizeAxis(ax, rank);
      if (!n)
        return n.takeError();
      reduced[*n] = true;
    }
  SmallVector<int64_t> sorted;
  for (int64_t i = 0; i < rank; ++i)
    if (reduced[i])
      sorted.push_back(i);
  return sorted;
}

template <typename OpT>
Value reduce(ImporterState &st, Slot &x, ArrayRef<int64_t> axes, bool keep) {
  SmallVector<int64_t> shape;
  for (int64_t i = 0, r = x.shape.size(); i < r; ++i) {
    if (!llvm::is_contained(axes, i))
      shape.push_back(x.shape[i]);
    else if (keep)
      shape.push_back(1);
  }
  return OpT::create(st.b, st.loc, typeOf(st, shape, x.dtype), st.value(x),
                     st.b.getDenseI64ArrayAttr(axes), st.b.getBoolAttr(keep));
}

/// ReduceMean/Sum/Max/Min. `axesInputSince`: the opset from which the axes
/// are input 1 instead of an attribute (13 for ReduceSum, 18 for the rest).
template <typename OpT>
Handler reduction(int64_t axesInputSince, bool floatOnly) {
  return [=](ImporterState &st) -> llvm::Error {
    auto x = st.input(0);
    if (!x)
      return x.takeError();
    if (floatOnly ? (*x)->dtype != DType::F32 : (*x)->dtype == DType::Bool)
      return st.nodeError(floatOnly ? "expects a float32 input"
                                    : "expects a float32 or integer input");
    auto axes = axesOperand(st, axesInputSince);
    if (!axes)
      return axes.takeError();
    if ((!*axes || (*axes)->empty()) && st.intAttr("noop_with_empty_axes", 0)) {
      st.setOutput(0, **x);
      return llvm::Error::success();
    }
    auto sorted = reductionAxes(st, *axes, (*x)->shape.size());
    if (!sorted)
      return sorted.takeError();
    st.setOutput(0,
                 reduce<OpT>(st, **x, *sorted, st.intAttr("keepdims", 1) != 0));
    return llvm::Error::success();
  };
}

Handler argReduction(bool min) {
  return [min](ImporterState &st) -> llvm::Error {
    auto x = st.input(0);
    if (!x)
      return x.takeError();
    if ((*x)->dtype == DType::Bool)
      return st.nodeError("expects a float32 or integer input");
    int64_t rank = (*x)->shape.size();
    auto axis = st.normalizeAxis(st.intAttr("axis", 0), rank);
    if (!axis)
      return axis.takeError();
    bool keep = st.intAttr("keepdims", 1) != 0;
    SmallVector<int64_t> shape((*x)->shape);
    if (keep)
      shape[*axis] = 1;
    else
      shape.erase(shape.begin() + *axis);
    st.setOutput(0,
                 ArgMaxOp::create(
                     st.b, st.loc, typeOf(st, shape, DType::I64), st.value(**x),
                     st.b.getI64IntegerAttr(*axis), st.b.getBoolAttr(keep),
                     st.b.getBoolAttr(st.intAttr("select_last_index", 0)),
                     st.b.getBoolAttr(min))
                     .getResult());
    return llvm::Error::success();
  };
}

llvm::Error importCumSum(ImporterState &st) {
  auto x = st.input(0);
  if (!x)
    return x.takeError();
  if ((*x)->dtype == DType::Bool)
    return st.nodeError("expects a float32 or integer input");
  auto axisInput = st.constantInts(1);
  if (!axisInput)
    return axisInput.takeError();
  if (axisInput->size() != 1)
    return st.nodeError("axis must hold one value");
  auto axis = st.normalizeAxis((*axisInput)[0], (*x)->shape.size());
  if (!axis)
    return axis.takeError();
  Value v = st.value(**x);
  st.setOutput(0, CumSumOp::create(st.b, st.loc, v.getType(), v,
                                   st.b.getI64IntegerAttr(*axis),
                                   st.b.getBoolAttr(st.intAttr("exclusive", 0)),
                                   st.b.getBoolAttr(st.intAttr("reverse", 0)))
                      .getResult());
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

llvm::Error importPad(ImporterState &st) {
  auto x = st.input(0);
  if (!x)
    return x.takeError();
  int64_t rank = (*x)->shape.size();
  std::string mode = "constant";
  if (const auto *a = st.attr("mode"))
    mode = a->s();
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return st.nodeError("mode must be constant, reflect or edge, got '" + mode +
                        "'");
  std::vector<int64_t> pads;
  double value = 0;
  if (st.opset() < 11) {
    pads = st.intsAttr("pads").value_or(std::vector<int64_t>{});
    value = st.floatAttr("value", 0);
  } else {
    auto p = st.constantInts(1);
    if (!p)
      return p.takeError();
    pads = *p;
    if (st.hasInput(2)) {
      auto c = st.constantInput(2);
      if (!c)
        return c.takeError();
      if ((*c)->numElements() != 1)
        return st.nodeError("constant_value must be a scalar");
      value = (*c)->toDoubles()[0];
    }
    if (st.hasInput(3)) {
      // Opset 18: pads only the listed axes.
      auto axes = st.constantInts(3);
      if (!axes)
        return axes.takeError();
      if (pads.size() != 2 * axes->size())
        return st.nodeError("pads must hold 2 values per listed axis");
      std::vector<int64_t> full(2 * rank, 0);
      for (auto [k, ax] : llvm::enumerate(*axes)) {
        auto n = st.normalizeAxis(ax, rank);
        if (!n)
          return n.takeError();
        full[*n] = pads[k];
        full[rank + *n] = pads[axes->size() + k];
      }
      pads = full;
    }
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return st.nodeError("pads must hold 2 x rank = " + llvm::Twine(2 * rank) +
                        " values, got " + llvm::Twine(pads.size()));
  for (int64_t p : pads)
    if (p > kMaxTensorElements || p < -kMaxTensorElements)
      return st.nodeError("pad of " + llvm::Twine(p) +
                          " is absurd (more than 2^32)");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t n = (*x)->shape[d] + pads[d] + pads[rank + d];
    if (n <= 0)
      return st.nodeError("pads make dim " + llvm::Twine(d) + " empty (" +
                          llvm::Twine(n) +
                          "); empty tensors are not supported");
    if (mode != "constant" && (pads[d] < 0 || pads[rank + d] < 0))
      return st.nodeError("negative pads are only supported in constant mode");
    shape.push_back(n);
  }
  if (auto n = checkedNumElements(shape, "Pad result"); !n)
    return n.takeError();
  st.setOutput(0,
               PadOp::create(st.b, st.loc, typeOf(st, shape, (*x)->dtype),
                             st.value(**x), st.b.getDenseI64ArrayAttr(pads),
                             st.b.getStringAttr(mode),
                             st.b.getF64FloatAttr(roundTo((*x)->dtype, value)))
                   .getResult());
  return llvm::Error::success();
}

/// A strided slice of `x` (folded for constants).
Slot sliceSlot(ImporterState &st, Slot &x, ArrayRef<int64_t> starts,
               ArrayRef<int64_t> steps, ArrayRef<int64_t> shape) {
  if (x.foldable())
    return constantSlot(evalSlice(*x.constant, starts, steps, shape));
  return valueSlot(SliceOp::create(
      st.b, st.loc, typeOf(st, shape, x.dtype), st.value(x),
      st.b.getDenseI64ArrayAttr(starts), st.b.getDenseI64ArrayAttr(steps)));
}

llvm::Error importSplit(ImporterState &st) {
  auto x = st.input(0);
  if (!x)
    return x.takeError();
  int64_t rank = (*x)->shape.size();
  auto axis = st.normalizeAxis(st.intAttr("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  int64_t dim = (*x)->shape[*axis];
  int64_t outputs = st.node->output_size();
  std::vector<int64_t> sizes;
  if (st.opset() >= 13 && st.hasInput(1)) {
    auto s = st.constantInts(1);
    if (!s)
      return s.takeError();
    sizes = *s;
  } else if (auto a = st.intsAttr("split")) {
    sizes = *a;
  } else {
    int64_t parts =
        st.opset() >= 18 ? st.intAttr("num_outputs", outputs) : outputs;
    if (parts <= 0)
      return st.nodeError("has no outputs");
    // Opset 18 allows a smaller last chunk; before that parts must divide.
    int64_t chunk = (dim + parts - 1) / parts;
    if (st.opset() < 18 && dim % parts != 0)
      return st.nodeError("dim " + llvm::Twine(dim) +
                          " does not split evenly into " + llvm::Twine(parts) +
                          " parts");
    for (int64_t p = 0, left = dim; p < parts; ++p, left -= chunk)
      sizes.push_back(std::min(chunk, left));
  }
  if (static_cast<int64_t>(sizes.size()) != outputs)
    return st.nodeError("split has " + llvm::Twine(sizes.size()) +
                        " sizes for " + llvm::Twine(outputs) + " outputs");
  if (std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != dim ||
      llvm::any_of(sizes, [](int64_t s) { return s < 0; }))
    return st.nodeError("split sizes do not add up to dim " + llvm::Twine(dim));
  int64_t at = 0;
  for (int64_t i = 0; i < outputs; ++i) {
    if (sizes[i] == 0)
      return st.nodeError("output #" + llvm::Twine(i) +
                          " would be empty; empty tensors are not supported");
    SmallVector<int64_t> starts(rank, 0), steps(rank, 1), shape((*x)->shape);
    starts[*axis] = at;
    shape[*axis] = sizes[i];
    st.setOutput(i, sliceSlot(st, **x, starts, steps, shape));
    at += sizes[i];
  }
  return llvm::Error::success();
}

/// Tile(x, r): x viewed as [1, d0, 1, d1, ...], broadcast to
/// [r0, d0, r1, d1, ...] and viewed as [r0 d0, r1 d1, ...].
llvm::Error importTile(ImporterState &st) {
  auto x = st.input(0);
  auto reps = st.constantInts(1);
  if (!x)
    return x.takeError();
  if (!reps)
    return reps.takeError();
  size_t rank = (*x)->shape.size();
  if (reps->size() != rank)
    return st.nodeError("repeats has " + llvm::Twine(reps->size()) +
                        " values for rank " + llvm::Twine(rank));
  SmallVector<int64_t> split, wide, shape;
  for (size_t d = 0; d < rank; ++d) {
    int64_t r = (*reps)[d], n = (*x)->shape[d];
    if (r <= 0)
      return st.nodeError("repeats must be positive (empty tensors are not "
                          "supported)");
    split.append({1, n});
    wide.append({r, n});
    shape.push_back(r * n);
  }
  if (auto n = checkedNumElements(shape, "Tile result"); !n)
    return n.takeError();
  auto viewed = reshapeSlot(st, **x, split);
  if (!viewed)
    return viewed.takeError();
  Slot expanded;
  if (viewed->foldable() && numElements(wide) <= kFoldLimit) {
    std::vector<const HostTensor *> ts = {&*viewed->constant};
    expanded = constantSlot(evalElementwise(
        ts, viewed->dtype, wide, [](const double *v) { return v[0]; }));
  } else {
    expanded = valueSlot(ExpandOp::create(
        st.b, st.loc, typeOf(st, wide, viewed->dtype), st.value(*viewed)));
  }
  return reshapeTo(st, expanded, shape);
}

/// Trilu: x where the (row, col) position is kept, else 0.
llvm::Error importTrilu(ImporterState &st) {
  auto x = st.input(0);
  if (!x)
    return x.takeError();
  int64_t rank = (*x)->shape.size();
  if (rank < 2)
    return st.nodeError("expects a tensor of rank >= 2");
  int64_t k = 0;
  if (st.hasInput(1)) {
    auto kv = st.constantInts(1);
    if (!kv)
      return kv.takeError();
    if (kv->size() != 1)
      return st.nodeError("k must be a scalar");
    k = (*kv)[0];
  }
  bool upper = st.intAttr("upper", 1) != 0;
  int64_t rows = (*x)->shape[rank - 2], cols = (*x)->shape[rank - 1];
  std::vector<double> keep(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      keep[i * cols + j] = upper ? (j - i >= k) : (j - i <= k);
  Slot mask =
      constantSlot(HostTensor::fromValues(DType::Bool, {rows, cols}, keep));
  Slot zero = scalarSlot((*x)->dtype, 0);
  if ((*x)->foldable()) {
    std::vector<const HostTensor *> ts = {&*mask.constant, &*(*x)->constant,
                                          &*zero.constant};
    st.setOutput(
        0, evalElementwise(ts, (*x)->dtype, (*x)->shape, [](const double *v) {
          return v[0] != 0 ? v[1] : v[2];
        }));
    return llvm::Error::success();
  }
  st.setOutput(0, WhereOp::create(st.b, st.loc,
                                  typeOf(st, (*x)->shape, (*x)->dtype),
                                  st.value(mask), st.value(**x), st.value(zero))
                      .getResult());
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Einsum (the two-operand contractions exporters emit, and one-operand
// transposes and sums)
//===----------------------------------------------------------------------===//

Slot transposeSlot(ImporterState &st, Slot &x, ArrayRef<int64_t> perm) {
  bool identity = true;
  for (auto [i, p] : llvm::enumerate(perm))
    identity &= static_cast<int64_t>(i) == p;
  if (identity)
    return x;
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(x.shape[p]);
  if (x.foldable())
    return constantSlot(evalTranspose(
        *x.constant, std::vector<int64_t>(perm.begin(), perm.end())));
  return valueSlot(TransposeOp::create(st.b, st.loc, typeOf(st, shape, x.dtype),
                                       st.value(x),
                                       st.b.getDenseI64ArrayAttr(perm)));
}

/// Sums `x` over the dims whose letter is not in `keep`; updates `letters`.
Slot sumOut(ImporterState &st, Slot x, std::string &letters,
            llvm::StringRef keep) {
  SmallVector<int64_t> axes;
  std::string rest;
  for (auto [i, c] : llvm::enumerate(letters)) {
    if (keep.contains(c))
      rest += c;
    else
      axes.push_back(i);
  }
  if (axes.empty())
    return x;
  letters = rest;
  return valueSlot(reduce<ReduceSumOp>(st, x, axes, false));
}

/// `x` (dims named by `letters`) transposed to the order of `order`.
Slot permuteTo(ImporterState &st, Slot &x, llvm::StringRef letters,
               llvm::StringRef order) {
  SmallVector<int64_t> perm;
  for (char c : order)
    perm.push_back(letters.find(c));
  return transposeSlot(st, x, perm);
}

llvm::Error importEinsum(ImporterState &st) {
  const auto *eqAttr = st.attr("equation");
  if (!eqAttr)
    return st.nodeError("has no equation");
  std::string eq;
  for (char c : eqAttr->s())
    if (c != ' ')
      eq += c;
  if (eq.find('.') != std::string::npos)
    return st.nodeError("einsum with '...' is not supported (equation '" +
                        eqAttr->s() + "')");
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  SmallVector<std::string> terms;
  for (llvm::StringRef t : llvm::split(llvm::StringRef(lhs), ','))
    terms.push_back(t.str());
  int n = st.node->input_size();
  if (static_cast<int>(terms.size()) != n || n < 1 || n > 2)
    return st.nodeError("supports one or two operands, matching the "
                        "equation's terms");
  std::string out;
  if (arrow != std::string::npos) {
    out = eq.substr(arrow + 2);
  } else {
    // Implicit output: the letters used once, in alphabetical order.
    std::map<char, int> count;
    for (const std::string &t : terms)
      for (char c : t)
        ++count[c];
    for (auto [c, k] : count)
      if (k == 1)
        out += c;
  }
  auto in = inputs(st, n);
  if (!in)
    return in.takeError();
  for (int i = 0; i < n; ++i) {
    const std::string &t = terms[i];
    if (t.size() != (*in)[i]->shape.size())
      return st.nodeError("term '" + t +
                          "' does not match the rank of input #" +
                          llvm::Twine(i));
    for (size_t a = 0; a < t.size(); ++a)
      if (t.find(t[a], a + 1) != std::string::npos)
        return st.nodeError("einsum with a repeated index in one operand "
                            "(a diagonal, '" +
                            t + "') is not supported");
    if ((*in)[i]->dtype != DType::F32)
      return st.nodeError("expects float32 operands");
  }
  for (char c : out)
    if (llvm::none_of(terms, [&](const std::string &t) {
          return t.find(c) != std::string::npos;
        }))
      return st.nodeError(std::string("output index '") + c +
                          "' appears in no input");
  std::string la = terms[0];
  Slot a = sumOut(st, *(*in)[0], la, out + (n == 2 ? terms[1] : std::string()));
  if (n == 1) {
    st.setOutput(0, permuteTo(st, a, la, out));
    return llvm::Error::success();
  }
  std::string lb = terms[1];
  Slot b = sumOut(st, *(*in)[1], lb, out + la);
  // Classify: batch (both, kept), contracted (both, summed), free.
  std::string batch, contracted, freeA, freeB;
  for (char c : la) {
    bool inB = lb.find(c) != std::string::npos,
         kept = out.find(c) != std::string::npos;
    (inB ? (kept ? batch : contracted) : freeA) += c;
  }
  for (char c : lb)
    if (la.find(c) == std::string::npos)
      freeB += c;
  auto size = [](Slot &s, llvm::StringRef letters, llvm::StringRef which) {
    int64_t p = 1;
    for (char c : which)
      p *= s.shape[letters.find(c)];
    return p;
  };
  for (char c : batch + contracted)
    if (a.shape[la.find(c)] != b.shape[lb.find(c)])
      return st.nodeError(std::string("index '") + c +
                          "' has different sizes in the two operands");
  SmallVector<int64_t> batchShape;
  for (char c : batch)
    batchShape.push_back(a.shape[la.find(c)]);
  int64_t m = size(a, la, freeA), k = size(a, la, contracted),
          nn = size(b, lb, freeB);
  Slot at = permuteTo(st, a, la, batch + freeA + contracted);
  Slot bt = permuteTo(st, b, lb, batch + contracted + freeB);
  SmallVector<int64_t> sa(batchShape), sb(batchShape), sc(batchShape);
  sa.append({m, k});
  sb.append({k, nn});
  sc.append({m, nn});
  auto a2 = reshapeSlot(st, at, sa);
  if (!a2)
    return a2.takeError();
  auto b2 = reshapeSlot(st, bt, sb);
  if (!b2)
    return b2.takeError();
  Slot c = valueSlot(MatMulOp::create(st.b, st.loc, typeOf(st, sc, DType::F32),
                                      st.value(*a2), st.value(*b2)));
  std::string lc = batch + freeA + freeB;
  SmallVector<int64_t> full(batchShape);
  for (char ch : freeA)
    full.push_back(a.shape[la.find(ch)]);
  for (char ch : freeB)
    full.push_back(b.shape[lb.find(ch)]);
  auto c2 = reshapeSlot(st, c, full);
  if (!c2)
    return c2.takeError();
  st.setOutput(0, permuteTo(st, *c2, lc, out));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// LayerNormalization (and its optional Mean / InvStdDev outputs)
//===----------------------------------------------------------------------===//

llvm::Error importLayerNorm(ImporterState &st) {
  auto in = inputs(st, 2);
  if (!in)
    return in.takeError();
  Slot &x = *(*in)[0];
  if (x.dtype != DType::F32)
    return st.nodeError("expects a float32 input");
  int64_t rank = x.shape.size();
  auto axis = st.normalizeAxis(st.intAttr("axis", -1), rank);
  if (!axis)
    return axis.takeError();
  float eps = st.floatAttr("epsilon", 1e-5f);
  Value bias;
  if (st.hasInput(2)) {
    auto b = st.input(2);
    if (!b)
      return b.takeError();
    bias = st.value(**b);
  }
  Value xv = st.value(x);
  st.setOutput(0, LayerNormOp::create(
                      st.b, st.loc, xv.getType(), xv, st.value(*(*in)[1]), bias,
                      st.b.getI64IntegerAttr(*axis), st.b.getF32FloatAttr(eps))
                      .getResult());
  bool wantStats = false;
  for (int i = 1; i < st.node->output_size(); ++i)
    wantStats |= !st.node->output(i).empty();
  if (!wantStats)
    return llvm::Error::success();
  // Mean and 1 / sqrt(var + eps) over the normalized dims, kept as size 1
  // (computed separately: LayerNorm's own kernel does not write them).
  SmallVector<int64_t> axes;
  for (int64_t d = *axis; d < rank; ++d)
    axes.push_back(d);
  Slot mean = valueSlot(reduce<ReduceMeanOp>(st, x, axes, true));
  auto sub = [](double a, double b) { return a - b; };
  auto mul = [](double a, double b) { return a * b; };
  auto centered =
      applyBinary(st, builderOf<SubOp>(), sub, BinaryKind::Arith, x, mean);
  if (!centered)
    return centered.takeError();
  auto sq = applyBinary(st, builderOf<MulOp>(), mul, BinaryKind::Arith,
                        *centered, *centered);
  if (!sq)
    return sq.takeError();
  Slot var = valueSlot(reduce<ReduceMeanOp>(st, *sq, axes, true));
  Slot epsSlot = scalarSlot(DType::F32, eps);
  auto shifted = applyBinary(
      st, builderOf<AddOp>(), [](double a, double b) { return a + b; },
      BinaryKind::Arith, var, epsSlot);
  if (!shifted)
    return shifted.takeError();
  Value v = st.value(*shifted);
  Slot root = valueSlot(SqrtOp::create(st.b, st.loc, v.getType(), v));
  Slot one = scalarSlot(DType::F32, 1.0);
  auto inv = applyBinary(
      st, builderOf<DivOp>(), [](double a, double b) { return a / b; },
      BinaryKind::Arith, one, root);
  if (!inv)
    return inv.takeError();
  st.setOutput(1, mean);
  st.setOutput(2, std::move(*inv));
  return llvm::Error::success();
}

} // namespace

void handlers::addFamilyHandlers(HandlerTable &t) {
  using K = BinaryKind;
  auto less = [](double a, double b) { return a < b ? 1.0 : 0.0; };
  auto lessEq = [](double a, double b) { return a <= b ? 1.0 : 0.0; };
  t["Less"] = binary<LessOp>(less, K::Compare);
  t["Greater"] = binary<LessOp>(less, K::Compare, /*swap=*/true);
  t["LessOrEqual"] = binary<LessEqualOp>(lessEq, K::Compare);
  t["GreaterOrEqual"] = binary<LessEqualOp>(lessEq, K::Compare, true);
  t["And"] = binary<AndOp>([](double a, double b) { return double(a && b); },
                           K::Logic);
  t["Or"] =
      binary<OrOp>([](double a, double b) { return double(a || b); }, K::Logic);
  t["Xor"] = binary<XorOp>(
      [](double a, double b) { return double((a != 0) != (b != 0)); },
      K::Logic);
  t["Not"] = unary<NotOp>([](double x) { return double(x == 0); }, false,
                          /*logic=*/true);
  t["Abs"] = unary<AbsOp>([](double x) { return std::fabs(x); }, true);
  t["Log"] = unary<LogOp>([](double x) { return std::log(x); });
  t["Floor"] = unary<FloorOp>([](double x) { return std::floor(x); });
  t["Ceil"] = unary<CeilOp>([](double x) { return std::ceil(x); });
  t["Reciprocal"] = importReciprocal;
  t["Min"] = variadic(builderOf<MinOp>(), nanMin);
  t["Max"] = variadic(builderOf<MaxOp>(), nanMax);
  t["Clip"] = importClip;
  t["Pow"] = importPow;
  t["ReduceMean"] = reduction<ReduceMeanOp>(18, /*floatOnly=*/true);
  t["ReduceSum"] = reduction<ReduceSumOp>(13, false);
  t["ReduceMax"] = reduction<ReduceMaxOp>(18, false);
  t["ReduceMin"] = reduction<ReduceMinOp>(18, false);
  t["ArgMax"] = argReduction(false);
  t["ArgMin"] = argReduction(true);
  t["CumSum"] = importCumSum;
  t["Pad"] = importPad;
  t["Split"] = importSplit;
  t["Tile"] = importTile;
  t["Trilu"] = importTrilu;
  t["Einsum"] = importEinsum;
  t["LayerNormalization"] = importLayerNorm;
}
