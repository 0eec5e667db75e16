//===- KernelEmitter.cpp - kernel bodies as portable C++ loops ------------===//
//
// One emitter per op family. Loop nests are generated with compile-time trip
// counts and strides, after coalescing dimensions that are contiguous for
// every access, so the C++ compiler sees simple, vectorizable inner loops.
//
//===----------------------------------------------------------------------===//
#include "KernelEmitter.h"
#include "EmitSupport.h"

#include "Canao/CanaoOps.h"
#include "Canao/ShapeUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace canao;

std::string canao::cType(Type t) {
  if (t.isF32())
    return "float";
  if (t.isInteger(64))
    return "int64_t";
  if (t.isInteger(32))
    return "int32_t";
  return "uint8_t"; // i1
}

std::string canao::emit::clType(Type t) {
  if (t.isF32())
    return "float";
  if (t.isInteger(64))
    return "long";
  if (t.isInteger(32))
    return "int";
  return "uchar";
}

std::string canao::floatLiteral(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.9g", v);
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  if (s == "inf" || s == "-inf" || s == "nan")
    return s == "nan" ? "NAN" : (s[0] == '-' ? "-INFINITY" : "INFINITY");
  return s + "f";
}

namespace canao {
namespace emit {

/// Renders `block` with one C++ expression per op. In vector mode values
/// have type `vecType`; literals stay scalars where GCC vector extensions
/// broadcast them (arithmetic) and are splatted where a function needs a
/// vector.
static llvm::Expected<RenderedBody>
renderBody(Block &block, ArrayRef<std::string> args, const std::string &indent,
           const std::string &vecType, Lang lang = Lang::Cpp) {
  const bool vec = !vecType.empty();
  // OpenCL C has the C99 math functions unqualified and C casts.
  const std::string ns = lang == Lang::OpenCL ? "" : "std::";
  llvm::DenseMap<Value, std::string> names;
  for (auto [i, a] : llvm::enumerate(block.getArguments()))
    names[a] = args[i];
  auto name = [&](Value v) -> std::string {
    if (auto it = names.find(v); it != names.end())
      return it->second;
    if (auto c = v.getDefiningOp<arith::ConstantOp>())
      if (auto f = dyn_cast<FloatAttr>(c.getValue()))
        return floatLiteral(f.getValueAsDouble());
    return "<?>";
  };
  auto isLiteral = [&](Value v) { return !names.count(v); };
  RenderedBody out;
  int next = 0;
  for (Operation &op : block) {
    if (auto y = dyn_cast<YieldOp>(op)) {
      out.result = name(y.getValue());
      if (vec && isLiteral(y.getValue()))
        out.result =
            "canao_rt::vmath::splat<" + vecType + ">(" + out.result + ")";
      break;
    }
    if (isa<arith::ConstantOp>(op)) {
      if (!isa<FloatAttr>(cast<arith::ConstantOp>(op).getValue()))
        break;
      continue;
    }
    auto a = [&](int i) { return name(op.getOperand(i)); };
    // A vector operand of a function call (literals splatted).
    auto v = [&](int i) {
      return isLiteral(op.getOperand(i))
                 ? "canao_rt::vmath::splat<" + vecType + ">(" + a(i) + ")"
                 : a(i);
    };
    auto fn = [&](const char *scalar, const char *vector) -> std::string {
      return vec ? std::string("canao_rt::vmath::") + vector + "(" + v(0) + ")"
                 : ns + scalar + "(" + a(0) + ")";
    };
    std::optional<std::string> e =
        llvm::TypeSwitch<Operation *, std::optional<std::string>>(&op)
            .Case([&](arith::AddFOp) { return a(0) + " + " + a(1); })
            .Case([&](arith::SubFOp) { return a(0) + " - " + a(1); })
            .Case([&](arith::MulFOp) { return a(0) + " * " + a(1); })
            .Case([&](arith::DivFOp) { return a(0) + " / " + a(1); })
            .Case([&](arith::NegFOp) { return "-" + a(0); })
            .Case([&](arith::MaximumFOp) -> std::string {
              if (vec)
                return "canao_rt::vmath::vmax(" + v(0) + ", " + v(1) + ")";
              // std::max's definition, so both languages agree on NaN.
              if (lang == Lang::OpenCL)
                return "(" + a(0) + " < " + a(1) + " ? " + a(1) + " : " + a(0) +
                       ")";
              return "std::max(" + a(0) + ", " + a(1) + ")";
            })
            .Case<arith::SIToFPOp, arith::UIToFPOp>(
                [&](Operation *) -> std::optional<std::string> {
                  if (vec)
                    return std::nullopt;
                  return lang == Lang::OpenCL
                             ? "(float)(" + a(0) + ")"
                             : "static_cast<float>(" + a(0) + ")";
                })
            .Case([&](math::ErfOp) { return fn("erf", "erf"); })
            .Case([&](math::TanhOp) { return fn("tanh", "tanh"); })
            .Case([&](math::ExpOp) { return fn("exp", "exp"); })
            .Case([&](math::SqrtOp) -> std::string {
              return vec ? "canao_rt::vmath::map(" + v(0) +
                               ", [](float x) { return std::sqrt(x); })"
                         : ns + "sqrt(" + a(0) + ")";
            })
            .Case([&](math::RsqrtOp) -> std::string {
              return vec ? "canao_rt::vmath::map(" + v(0) +
                               ", [](float x) { return 1.0f / std::sqrt(x); })"
                         : "1.0f / " + ns + "sqrt(" + a(0) + ")";
            })
            .Default([](Operation *) { return std::nullopt; });
    if (!e)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "codegen: unsupported op '" + op.getName().getStringRef().str() +
              "' in a " + (vec ? "vector" : "fused") + " body");
    std::string t = "t" + std::to_string(next++);
    out.stmts += indent + "const " + (vec ? vecType : std::string("float")) +
                 " " + t + " = " + *e + ";\n";
    names[op.getResult(0)] = t;
  }
  return out;
}

llvm::Expected<RenderedBody> renderScalarBody(Block &block,
                                              ArrayRef<std::string> args,
                                              const std::string &indent,
                                              Lang lang) {
  return renderBody(block, args, indent, "", lang);
}

llvm::Expected<RenderedBody> renderVectorBody(Block &block,
                                              ArrayRef<std::string> args,
                                              const std::string &indent,
                                              const std::string &vecType) {
  return renderBody(block, args, indent, vecType);
}

} // namespace emit
} // namespace canao

using namespace canao::emit;

namespace {

llvm::Expected<std::string> emitFused(FusedOp op) {
  ArrayRef<int64_t> out = shapeOf(op.getResult());
  LoopNest nest(out, broadcastAccesses(op.getInputs(), out));
  std::string error;
  std::string text = nest.render([&](ArrayRef<std::string> off) {
    auto body = renderScalarBody(op.getBody().front(), inputElements(off), "");
    if (!body) {
      error = llvm::toString(body.takeError());
      return std::string();
    }
    // Temporaries go on one line each inside the innermost loop.
    std::string stmts = body->stmts;
    for (size_t p = 0; (p = stmts.find('\n', p)) != std::string::npos;)
      stmts.replace(p, 1, "\n" + LoopNest::pad(off.size() > 0 ? 2 : 1)), p += 1;
    return "{\n" + LoopNest::pad(2) + stmts + "out[" + off.back() +
           "] = " + body->result + ";\n" + LoopNest::pad(1) + "}";
  });
  if (!error.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  return text;
}

} // namespace

std::optional<std::string>
canao::emit::elementExpr(Operation *op, ArrayRef<std::string> a, Lang lang) {
  Type outT =
      cast<RankedTensorType>(op->getResult(0).getType()).getElementType();
  const bool cl = lang == Lang::OpenCL;
  std::string T = cl ? clType(outT) : cType(outT);
  const std::string ns = cl ? "" : "std::";
  // static_cast<U>(x) in C++, (U)(x) in OpenCL C.
  auto as = [&](const std::string &U, const std::string &x) {
    return cl ? "(" + U + ")(" + x + ")" : "static_cast<" + U + ">(" + x + ")";
  };
  const std::string u8 = cl ? "uchar" : "uint8_t";
  return llvm::TypeSwitch<Operation *, std::optional<std::string>>(op)
      .Case([&](AddOp) { return a[0] + " + " + a[1]; })
      .Case([&](SubOp) { return a[0] + " - " + a[1]; })
      .Case([&](MulOp) { return a[0] + " * " + a[1]; })
      .Case([&](DivOp) { return a[0] + " / " + a[1]; })
      .Case([&](PowOp) { return ns + "pow(" + a[0] + ", " + a[1] + ")"; })
      .Case([&](EqualOp) { return as(u8, a[0] + " == " + a[1]); })
      .Case([&](WhereOp) { return a[0] + " ? " + a[1] + " : " + a[2]; })
      .Case([&](MinOp) -> std::string {
        std::string nan = outT.isF32() ? ns + "isnan(" + a[0] + ") || " : "";
        return "(" + nan + a[0] + " < " + a[1] + ") ? " + a[0] + " : " + a[1];
      })
      .Case([&](MaxOp) -> std::string {
        std::string nan = outT.isF32() ? ns + "isnan(" + a[0] + ") || " : "";
        return "(" + nan + a[0] + " > " + a[1] + ") ? " + a[0] + " : " + a[1];
      })
      .Case([&](LessOp) { return as(u8, a[0] + " < " + a[1]); })
      .Case([&](LessEqualOp) { return as(u8, a[0] + " <= " + a[1]); })
      .Case([&](AndOp) { return as(u8, a[0] + " && " + a[1]); })
      .Case([&](OrOp) { return as(u8, a[0] + " || " + a[1]); })
      .Case([&](XorOp) {
        return as(u8, "(" + a[0] + " != 0) != (" + a[1] + " != 0)");
      })
      .Case([&](NotOp) { return as(u8, "!" + a[0]); })
      .Case([&](AbsOp) -> std::string {
        if (outT.isF32())
          return ns + "fabs(" + a[0] + ")";
        return a[0] + " < 0 ? -" + a[0] + " : " + a[0];
      })
      .Case([&](LogOp) { return ns + "log(" + a[0] + ")"; })
      .Case([&](FloorOp) { return ns + "floor(" + a[0] + ")"; })
      .Case([&](CeilOp) { return ns + "ceil(" + a[0] + ")"; })
      .Case([&](SqrtOp) { return ns + "sqrt(" + a[0] + ")"; })
      .Case([&](ErfOp) { return ns + "erf(" + a[0] + ")"; })
      .Case([&](TanhOp) { return ns + "tanh(" + a[0] + ")"; })
      .Case([&](ExpOp) { return ns + "exp(" + a[0] + ")"; })
      .Case([&](NegOp) { return "-" + a[0]; })
      .Case([&](ReluOp) {
        return a[0] + " > " + as(T, "0") + " ? " + a[0] + " : " + as(T, "0");
      })
      .Case([&](SigmoidOp) {
        return "1.0f / (1.0f + " + ns + "exp(-" + a[0] + "))";
      })
      .Case([&](CastOp) {
        if (outT.isInteger(1))
          return as(u8, a[0] + " != 0");
        return as(T, a[0]);
      })
      .Case([&](ExpandOp) { return a[0]; })
      .Case([&](GeluOp g) -> std::string {
        if (g.getApproximate() == "tanh")
          return "0.5f * " + a[0] + " * (1.0f + " + ns +
                 "tanh(0.797884561f * (" + a[0] + " + 0.044715f * " + a[0] +
                 " * " + a[0] + " * " + a[0] + ")))";
        return "0.5f * " + a[0] + " * (1.0f + " + ns + "erf(" + a[0] +
               " * 0.707106781f))";
      })
      .Default([](Operation *) { return std::nullopt; });
}

namespace {

std::string emitElementwise(Operation *op, const std::string &expr0) {
  (void)expr0;
  ArrayRef<int64_t> out = shapeOf(op->getResult(0));
  LoopNest nest(out, broadcastAccesses(op->getOperands(), out));
  return nest.render([&](ArrayRef<std::string> off) {
    return "out[" + off.back() +
           "] = " + *elementExpr(op, inputElements(off), Lang::Cpp) + ";";
  });
}

std::string emitMatMul(MatMulOp op) {
  ArrayRef<int64_t> a = shapeOf(op.getLhs()), b = shapeOf(op.getRhs()),
                    c = shapeOf(op.getResult());
  int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  ArrayRef<int64_t> batch = c.drop_back(2);
  auto batchStrides = [&](ArrayRef<int64_t> s, int64_t matrix) {
    SmallVector<int64_t> st = broadcastStrides(s.drop_back(2), batch);
    for (int64_t &x : st)
      x *= matrix;
    return st;
  };
  std::vector<Access> acc = {{"in0", 0, batchStrides(a, M * K)},
                             {"in1", 0, batchStrides(b, K * N)},
                             {"out", 0, batchStrides(c, M * N)}};
  LoopNest nest(batch, acc);
  std::string M_ = std::to_string(M), K_ = std::to_string(K),
              N_ = std::to_string(N);
  return nest.render([&](ArrayRef<std::string> off) {
    std::string p = LoopNest::pad(2);
    return "const float* a = in0 + " + off[0] + ";\n" + p +
           "const float* b = in1 + " + off[1] + ";\n" + p +
           "float* c = out + " + off[2] + ";\n" + p +
           "for (int64_t m = 0; m < " + M_ + "; ++m) {\n" + p +
           "  float* cr = c + m * " + N_ + ";\n" + p +
           "  for (int64_t n = 0; n < " + N_ + "; ++n) cr[n] = 0.0f;\n" + p +
           "  for (int64_t k = 0; k < " + K_ + "; ++k) {\n" + p +
           "    const float av = a[m * " + K_ + " + k];\n" + p +
           "    const float* br = b + k * " + N_ + ";\n" + p +
           "    for (int64_t n = 0; n < " + N_ +
           "; ++n) cr[n] += av * br[n];\n" + p + "  }\n" + p + "}";
  });
}

std::string emitTranspose(TransposeOp op) {
  ArrayRef<int64_t> out = shapeOf(op.getResult());
  LoopNest nest(out, {transposeSource(op), {"out", 0, rowMajorStrides(out)}});
  return nest.render([](ArrayRef<std::string> off) {
    return "out[" + off[1] + "] = in0[" + off[0] + "];";
  });
}

std::string emitSlice(SliceOp op) {
  ArrayRef<int64_t> out = shapeOf(op.getResult());
  LoopNest nest(out, {sliceSource(op), {"out", 0, rowMajorStrides(out)}});
  return nest.render([](ArrayRef<std::string> off) {
    return "out[" + off[1] + "] = in0[" + off[0] + "];";
  });
}

std::string emitConcat(ConcatOp op) {
  ArrayRef<int64_t> out = shapeOf(op.getResult());
  SmallVector<int64_t> outStrides = rowMajorStrides(out);
  int64_t axis = op.getAxis(), at = 0;
  std::string body;
  for (auto [i, v] : llvm::enumerate(op.getInputs())) {
    ArrayRef<int64_t> s = shapeOf(v);
    LoopNest nest(s, {{in(i), 0, rowMajorStrides(s)},
                      {"out", at * outStrides[axis], outStrides}});
    body += nest.render([&](ArrayRef<std::string> off) {
      return "out[" + off[1] + "] = " + in(i) + "[" + off[0] + "];";
    });
    at += s[axis];
  }
  return body;
}

std::string emitSoftmax(SoftmaxOp op) {
  ArrayRef<int64_t> s = shapeOf(op.getInput());
  int64_t axis = op.getAxis();
  std::string outer = std::to_string(numElements(s.take_front(axis)));
  std::string len = std::to_string(s[axis]);
  std::string inner = std::to_string(numElements(s.drop_front(axis + 1)));
  return "  for (int64_t o = 0; o < " + outer +
         "; ++o)\n"
         "  for (int64_t j = 0; j < " +
         inner +
         "; ++j) {\n"
         "    const int64_t base = o * " +
         len + " * " + inner +
         " + j;\n"
         "    float mx = -INFINITY;\n"
         "    for (int64_t a = 0; a < " +
         len + "; ++a) mx = std::max(mx, in0[base + a * " + inner +
         "]);\n"
         "    float sum = 0.0f;\n"
         "    for (int64_t a = 0; a < " +
         len +
         "; ++a) {\n"
         "      const float e = std::exp(in0[base + a * " +
         inner +
         "] - mx);\n"
         "      out[base + a * " +
         inner +
         "] = e;\n"
         "      sum += e;\n"
         "    }\n"
         "    const float inv = 1.0f / sum;\n"
         "    for (int64_t a = 0; a < " +
         len + "; ++a) out[base + a * " + inner +
         "] *= inv;\n"
         "  }\n";
}

} // namespace

llvm::Expected<LayerNormIndexing>
canao::emit::layerNormIndexing(LayerNormOp op) {
  LayerNormIndexing ix;
  ix.n = numElements(shapeOf(op.getInput()).drop_front(op.getAxis()));
  auto index = [&](Value v) -> std::optional<std::string> {
    int64_t count = numElements(shapeOf(v));
    if (count == ix.n)
      return std::string("j");
    if (count == 1)
      return std::string("0");
    return std::nullopt;
  };
  auto scale = index(op.getScale());
  std::optional<std::string> bias =
      op.getBias() ? index(op.getBias()) : std::string("");
  if (!scale || !bias)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "codegen: layer_norm scale/bias must be "
                                   "per-element or scalar");
  ix.scale = *scale, ix.bias = *bias;
  return ix;
}

namespace {

llvm::Expected<std::string> emitLayerNorm(LayerNormOp op) {
  ArrayRef<int64_t> s = shapeOf(op.getInput());
  auto ix = layerNormIndexing(op);
  if (!ix)
    return ix.takeError();
  const int64_t n = ix->n;
  const std::optional<std::string> scale = ix->scale, bias = ix->bias;
  std::string N = std::to_string(n);
  std::string y = "(x[j] - mean) * rstd * in1[" + *scale + "]";
  if (op.getBias())
    y += " + in2[" + *bias + "]";
  return "  for (int64_t o = 0; o < " + std::to_string(numElements(s) / n) +
         "; ++o) {\n"
         "    const float* x = in0 + o * " +
         N +
         ";\n"
         "    float* y = out + o * " +
         N +
         ";\n"
         "    float sum = 0.0f;\n"
         "    for (int64_t j = 0; j < " +
         N +
         "; ++j) sum += x[j];\n"
         "    const float mean = sum * " +
         floatLiteral(1.0 / n) +
         ";\n"
         "    float var = 0.0f;\n"
         "    for (int64_t j = 0; j < " +
         N +
         "; ++j) var += (x[j] - mean) * (x[j] - mean);\n"
         "    const float rstd = 1.0f / std::sqrt(var * " +
         floatLiteral(1.0 / n) + " + " +
         floatLiteral(op.getEpsilon().convertToFloat()) +
         ");\n"
         "    for (int64_t j = 0; j < " +
         N + "; ++j) y[j] = " + y +
         ";\n"
         "  }\n";
}

std::string emitGather(GatherOp op) {
  ArrayRef<int64_t> d = shapeOf(op.getData());
  int64_t axis = op.getAxis();
  std::string outer = std::to_string(numElements(d.take_front(axis)));
  std::string dim = std::to_string(d[axis]);
  std::string inner = std::to_string(numElements(d.drop_front(axis + 1)));
  std::string count = std::to_string(numElements(shapeOf(op.getIndices())));
  // Indices are validated before anything is written.
  return "  for (int64_t i = 0; i < " + count +
         "; ++i) {\n"
         "    const int64_t j = static_cast<int64_t>(in1[i]);\n"
         "    if (j < -" +
         dim + " || j >= " + dim +
         ") { bad_index[0] = j; bad_index[1] = 0; return false; }\n"
         "  }\n"
         "  for (int64_t o = 0; o < " +
         outer +
         "; ++o)\n"
         "  for (int64_t i = 0; i < " +
         count +
         "; ++i) {\n"
         "    int64_t j = static_cast<int64_t>(in1[i]);\n"
         "    if (j < 0) j += " +
         dim +
         ";\n"
         "    std::memcpy(out + (o * " +
         count + " + i) * " + inner + ", in0 + (o * " + dim + " + j) * " +
         inner + ", " + inner +
         " * sizeof(*out));\n"
         "  }\n"
         "  return true;\n";
}

// Rows are split across the pool; each row's sum of table rows and addends
// is normalized by the runtime's vector LayerNorm (the scalar reductions
// this replaced ran one dependent add per element).
std::string emitEmbedding(EmbeddingOp op, const TargetDesc &target) {
  ArrayRef<int64_t> out = shapeOf(op.getResult());
  int64_t D = out.back();
  ArrayRef<int64_t> lead = out.drop_back();
  size_t T = op.getTables().size(), A = op.getAddends().size();
  std::string D_ = std::to_string(D), p = "      ";
  // Validate every id before writing anything.
  std::string text = vecTypedef(target);
  std::optional<uint64_t> posTable = op.getPositionTable();
  for (size_t t = 0; t < T; ++t) {
    if (posTable == t)
      continue; // positions are in range by construction (verifier)
    std::string V = std::to_string(shapeOf(op.getTables()[t])[0]);
    int64_t count = numElements(shapeOf(op.getIndices()[t]));
    text += "  for (int64_t r = 0; r < " + std::to_string(count) +
            "; ++r) {\n    const int64_t j = static_cast<int64_t>(" +
            in(T + t) + "[r]);\n    if (j < 0 || j >= " + V +
            ") { bad_index[0] = j; bad_index[1] = " + std::to_string(t) +
            "; return false; }\n  }\n";
  }
  int scale = 2 * T + A, bias = scale + 1;
  std::string s = p + "float* y = out + m * " + D_ + ";\n";
  for (size_t t = 0; t < T; ++t) {
    std::string j = "j" + std::to_string(t);
    if (posTable == t) {
      // Padding-aware position: P, or P + the non-P ids so far in the row.
      std::string P = std::to_string(*op.getPaddingIdx()),
                  S = std::to_string(lead.back()), ids = in(T + t);
      s += p + "int64_t " + j + " = " + P + ";\n" + p + "if (" + ids +
           "[m] != " + P + ") {\n" + p + "  for (int64_t r = m - m % " + S +
           "; r <= m; ++r) " + j + " += " + ids + "[r] != " + P + ";\n" + p +
           "}\n" + p + "const float* e" + std::to_string(t) + " = " + in(t) +
           " + " + j + " * " + D_ + ";\n";
      continue;
    }
    s += p + "const int64_t " + j + " = static_cast<int64_t>(" + in(T + t) +
         "[" +
         rowOffset(lead, broadcastStrides(shapeOf(op.getIndices()[t]), lead)) +
         "]);\n" + p + "const float* e" + std::to_string(t) + " = " + in(t) +
         " + (" + j + " < 0 ? " + j + " + " +
         std::to_string(shapeOf(op.getTables()[t])[0]) + " : " + j + ") * " +
         D_ + ";\n";
  }
  s += p + "for (int64_t n = 0; n < " + D_ + "; ++n) y[n] = ";
  for (size_t t = 0; t < T; ++t)
    s += (t ? " + e" : "e") + std::to_string(t) + "[n]";
  for (size_t a = 0; a < A; ++a) {
    SmallVector<int64_t> st =
        broadcastStrides(shapeOf(op.getAddends()[a]), out);
    int64_t last = st.pop_back_val();
    s += " + " + in(2 * T + a) + "[" + rowOffset(lead, st) +
         (last ? " + n * " + std::to_string(last) : "") + "]";
  }
  s += ";\n" + p + "canao_rt::ukernel::layer_norm_row<vf>(y, " + D_ + ", " +
       in(scale) + ", " + in(bias) + ", " +
       floatLiteral(op.getLnEpsilon().convertToFloat()) + ");\n";
  text += "  rt.pool.parallel_for(" + std::to_string(numElements(lead)) +
          ", [&](int64_t lo, int64_t hi, int) {\n"
          "    for (int64_t m = lo; m < hi; ++m) {\n" +
          s + "    }\n  });\n";
  return text + "  return true;\n";
}

} // namespace

bool canao::kernelUsesRuntime(Operation *op) {
  return isa<DenseOp, AttentionOp, EmbeddingOp>(op);
}

bool canao::kernelReportsErrors(Operation *op) {
  return isa<GatherOp, EmbeddingOp>(op);
}

std::vector<IndexCheck> canao::indexChecks(Operation *op) {
  if (auto g = dyn_cast<GatherOp>(op))
    return {{1, g.getData().getType().getDimSize(g.getAxis())}};
  std::vector<IndexCheck> checks;
  if (auto e = dyn_cast<EmbeddingOp>(op))
    for (auto [t, table] : llvm::enumerate(e.getTables()))
      checks.push_back({static_cast<unsigned>(e.getTables().size() + t),
                        cast<RankedTensorType>(table.getType()).getDimSize(0)});
  return checks;
}

llvm::Expected<std::string> canao::emitKernelBody(Operation *op,
                                                  const TargetDesc &target) {
  if (auto e = elementExpr(
          op, SmallVector<std::string>(op->getNumOperands(), "x"), Lang::Cpp))
    return emitElementwise(op, *e);
  return llvm::TypeSwitch<Operation *, llvm::Expected<std::string>>(op)
      .Case([](MatMulOp o) { return emitMatMul(o); })
      .Case([](TransposeOp o) { return emitTranspose(o); })
      .Case([](SliceOp o) { return emitSlice(o); })
      .Case([](ConcatOp o) { return emitConcat(o); })
      .Case<ReduceMeanOp, ReduceSumOp, ReduceMaxOp, ReduceMinOp>(
          [](Operation *o) { return emitReduce(o); })
      .Case([](ArgMaxOp o) { return emitArgMax(o); })
      .Case([](CumSumOp o) { return emitCumSum(o); })
      .Case([](PadOp o) { return emitPad(o); })
      .Case([](SoftmaxOp o) { return emitSoftmax(o); })
      .Case([](LayerNormOp o) { return emitLayerNorm(o); })
      .Case([](GatherOp o) { return emitGather(o); })
      .Case([](FusedOp o) { return emitFused(o); })
      .Case([&](DenseOp o) { return emitDense(o, target); })
      .Case([&](AttentionOp o) { return emitAttention(o, target); })
      .Case([&](EmbeddingOp o) { return emitEmbedding(o, target); })
      .Default([](Operation *o) -> llvm::Expected<std::string> {
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "codegen: no kernel for op '" +
                                           o->getName().getStringRef().str() +
                                           "'");
      });
}
