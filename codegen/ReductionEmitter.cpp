//===- ReductionEmitter.cpp - reductions, scans and pads as C++ loops -----===//
//
// Kernels whose output element is not a function of one input element:
// reduce_{mean,sum,max,min}, arg_max, cumsum and pad. Like the element-wise
// emitters, trip counts and strides are compile-time constants.
//
//===----------------------------------------------------------------------===//
#include "EmitSupport.h"

#include "Canao/CanaoOps.h"
#include "Canao/ShapeUtils.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace canao;
using namespace canao::emit;

namespace {

Type elementOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

/// The largest (or smallest) value of `t`, as a C++ literal.
std::string extreme(Type t, bool largest) {
  if (t.isF32())
    return largest ? "INFINITY" : "-INFINITY";
  if (t.isInteger(64))
    return largest ? "INT64_MAX" : "INT64_MIN";
  return largest ? "INT32_MAX" : "INT32_MIN";
}

std::string literal(Type t, double v) {
  if (t.isF32())
    return floatLiteral(v);
  if (t.isInteger(1))
    return v != 0 ? "uint8_t(1)" : "uint8_t(0)";
  std::string s = std::to_string(static_cast<int64_t>(v));
  return cType(t) + "(" + s + (t.isInteger(64) ? "LL" : "") + ")";
}

/// (outer, len, inner) around `axis` of `shape`.
struct AxisSplit {
  std::string outer, len, inner;
};
AxisSplit splitAt(ArrayRef<int64_t> s, int64_t axis) {
  return {std::to_string(numElements(s.take_front(axis))),
          std::to_string(s[axis]),
          std::to_string(numElements(s.drop_front(axis + 1)))};
}

} // namespace

std::string canao::emit::emitReduce(Operation *op) {
  Value input = op->getOperand(0);
  ArrayRef<int64_t> inShape = shapeOf(input);
  ArrayRef<int64_t> axes =
      llvm::TypeSwitch<Operation *, ArrayRef<int64_t>>(op)
          .Case<ReduceMeanOp, ReduceSumOp, ReduceMaxOp, ReduceMinOp>(
              [](auto r) { return r.getAxes(); });
  Type t = elementOf(input);
  int64_t outCount = numElements(shapeOf(op->getResult(0)));
  // Output strides seen from the input's index space: 0 on reduced dims.
  SmallVector<int64_t> keptShape;
  SmallVector<bool> reduced(inShape.size(), false);
  for (int64_t a : axes)
    reduced[a] = true;
  for (size_t d = 0; d < inShape.size(); ++d)
    if (!reduced[d])
      keptShape.push_back(inShape[d]);
  SmallVector<int64_t> kept = rowMajorStrides(keptShape), outStrides;
  for (size_t d = 0, k = 0; d < inShape.size(); ++d)
    outStrides.push_back(reduced[d] ? 0 : kept[k++]);
  bool isMax = isa<ReduceMaxOp>(op), isMin = isa<ReduceMinOp>(op);
  std::string init = isMax   ? extreme(t, false)
                     : isMin ? extreme(t, true)
                             : literal(t, 0);
  std::string nan = t.isF32() ? " || std::isnan(v)" : "";
  LoopNest nest(inShape,
                {{"in0", 0, rowMajorStrides(inShape)}, {"out", 0, outStrides}});
  std::string text = "  for (int64_t i = 0; i < " + std::to_string(outCount) +
                     "; ++i) out[i] = " + init + ";\n";
  text += nest.render([&](ArrayRef<std::string> off) -> std::string {
    std::string o = "out[" + off[1] + "]";
    if (!isMax && !isMin)
      return o + " += in0[" + off[0] + "];";
    return "{ const auto v = in0[" + off[0] + "]; if (v " +
           (isMax ? ">" : "<") + " " + o + nan + ") " + o + " = v; }";
  });
  if (isa<ReduceMeanOp>(op)) {
    int64_t count = numElements(inShape) / std::max<int64_t>(outCount, 1);
    text += "  for (int64_t i = 0; i < " + std::to_string(outCount) +
            "; ++i) out[i] *= " + floatLiteral(1.0 / count) + ";\n";
  }
  return text;
}

std::string canao::emit::emitArgMax(ArgMaxOp op) {
  AxisSplit s = splitAt(shapeOf(op.getInput()), op.getAxis());
  std::string cmp = op.getMin() ? "<" : ">";
  if (op.getSelectLastIndex())
    cmp += "=";
  return "  for (int64_t o = 0; o < " + s.outer +
         "; ++o)\n"
         "  for (int64_t j = 0; j < " +
         s.inner +
         "; ++j) {\n"
         "    const int64_t base = o * " +
         s.len + " * " + s.inner +
         " + j;\n"
         "    auto best = in0[base];\n"
         "    int64_t at = 0;\n"
         "    for (int64_t a = 1; a < " +
         s.len +
         "; ++a) {\n"
         "      const auto v = in0[base + a * " +
         s.inner +
         "];\n"
         "      if (v " +
         cmp +
         " best) { best = v; at = a; }\n"
         "    }\n"
         "    out[o * " +
         s.inner +
         " + j] = at;\n"
         "  }\n";
}

std::string canao::emit::emitCumSum(CumSumOp op) {
  AxisSplit s = splitAt(shapeOf(op.getInput()), op.getAxis());
  std::string T = cType(elementOf(op.getInput()));
  std::string a = op.getReverse() ? s.len + " - 1 - t" : "t";
  // The element is read before anything is written at its index.
  std::string step = op.getExclusive() ? "out[at] = acc; acc += x;"
                                       : "acc += x; out[at] = acc;";
  return "  for (int64_t o = 0; o < " + s.outer +
         "; ++o)\n"
         "  for (int64_t j = 0; j < " +
         s.inner +
         "; ++j) {\n"
         "    " +
         T +
         " acc = 0;\n"
         "    for (int64_t t = 0; t < " +
         s.len +
         "; ++t) {\n"
         "      const int64_t at = o * " +
         s.len + " * " + s.inner + " + (" + a + ") * " + s.inner +
         " + j;\n"
         "      const " +
         T + " x = in0[at];\n      " + step +
         "\n"
         "    }\n"
         "  }\n";
}

std::string canao::emit::emitPad(PadOp op) {
  ArrayRef<int64_t> in = shapeOf(op.getInput()), out = shapeOf(op.getResult()),
                    pads = op.getPads();
  size_t rank = in.size();
  SmallVector<int64_t> strides = rowMajorStrides(in);
  std::string mode = op.getMode().str();
  std::string text = "  int64_t o = 0;\n", src, ok;
  for (size_t d = 0; d < rank; ++d) {
    std::string i = "i" + std::to_string(d), s = "s" + std::to_string(d);
    std::string p = LoopNest::pad(d + 1);
    std::string n = std::to_string(in[d]);
    text += p + "for (int64_t " + i + " = 0; " + i + " < " +
            std::to_string(out[d]) + "; ++" + i + ") {\n";
    bool padded = pads[d] != 0 || pads[rank + d] != 0;
    std::string shifted = pads[d] ? i + " - " + std::to_string(pads[d]) : i;
    if (!padded) {
      text += p + "  const int64_t " + s + " = " + i + ";\n";
    } else if (mode == "constant") {
      text += p + "  const int64_t " + s + " = " + shifted + ";\n";
      ok += (ok.empty() ? "" : " && ") + s + " >= 0 && " + s + " < " + n;
    } else if (mode == "edge") {
      text += p + "  const int64_t " + s +
              " = std::min<int64_t>(std::max<"
              "int64_t>(" +
              shifted + ", 0), " + std::to_string(in[d] - 1) + ");\n";
    } else if (in[d] == 1) {
      text += p + "  const int64_t " + s + " = 0;\n";
    } else {
      // Reflection is periodic with period 2 (n - 1).
      std::string period = std::to_string(2 * (in[d] - 1));
      text += p + "  int64_t " + s + " = ((" + shifted + ") % " + period +
              " + " + period + ") % " + period + ";\n" + p + "  if (" + s +
              " >= " + n + ") " + s + " = " + period + " - " + s + ";\n";
    }
    if (strides[d])
      src += (src.empty() ? "" : " + ") + s +
             (strides[d] != 1 ? " * " + std::to_string(strides[d]) : "");
  }
  if (src.empty())
    src = "0";
  std::string value =
      literal(elementOf(op.getInput()), op.getValue().convertToDouble());
  std::string p = LoopNest::pad(rank + 1);
  text += p + "out[o++] = " +
          (ok.empty() ? "in0[" + src + "]"
                      : "(" + ok + ") ? in0[" + src + "] : " + value) +
          ";\n";
  for (size_t d = rank; d-- > 0;)
    text += LoopNest::pad(d + 1) + "}\n";
  return text;
}
