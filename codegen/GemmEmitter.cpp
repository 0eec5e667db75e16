//===- GemmEmitter.cpp - dense and attention kernels on microkernels ------===//
//
// Both families are thin generated code around the runtime's GEMM
// microkernels (canao/ukernels): the emitter picks the named instance and
// the tile from the target table, renders the fused epilogue as vector code
// that runs on each finished panel while it is in cache, and leaves loops,
// packing and threading to the runtime templates.
//
//===----------------------------------------------------------------------===//
#include "EmitSupport.h"

#include "Canao/ShapeUtils.h"

using namespace mlir;
using namespace canao;
using namespace canao::emit;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

} // namespace

std::string canao::emit::rowOffset(ArrayRef<int64_t> lead,
                                   ArrayRef<int64_t> st) {
  std::string e;
  int64_t inner = 1;
  for (int64_t d = static_cast<int64_t>(lead.size()) - 1; d >= 0; --d) {
    if (st[d] != 0 && lead[d] != 1) {
      std::string idx = inner == 1 ? "m" : "(m / " + str(inner) + ")";
      if (d > 0)
        idx = "(" + idx + " % " + str(lead[d]) + ")";
      e += (e.empty() ? "" : " + ") + idx +
           (st[d] == 1 ? "" : " * " + str(st[d]));
    }
    inner *= lead[d];
  }
  return e.empty() ? "0" : e;
}

std::string canao::emit::vecTypedef(const TargetDesc &target) {
  return "  typedef float vf __attribute__((vector_size(" +
         str(target.vectorBits / 8) + ")));\n";
}

GemmTile canao::tileOf(Operation *op, const TargetDesc &target) {
  GemmTile t =
      isa<AttentionOp>(op) ? attentionTile(target) : defaultTile(target);
  auto dict = op->getAttrOfType<DictionaryAttr>("canao.tile");
  if (!dict)
    return t;
  auto get = [&](StringRef key, int64_t &field) {
    if (auto v = dict.getAs<IntegerAttr>(key))
      field = v.getInt();
  };
  get("mr", t.mr);
  get("nr", t.nr);
  get("kc", t.kc);
  get("mc", t.mc);
  get("pf", t.pf);
  if (auto k = dict.getAs<StringAttr>("kernel"))
    t.kernel = k.str();
  if (auto s = dict.getAs<StringAttr>("split"))
    t.splitRows = s.getValue() == "rows";
  if (auto a = dict.getAs<StringAttr>("a"))
    t.directA = a.getValue() == "direct";
  return t;
}

SparseLayout canao::sparseLayoutOf(Operation *op) {
  SparseLayout l;
  auto dense = dyn_cast<DenseOp>(op);
  auto dict =
      dense ? op->getAttrOfType<DictionaryAttr>("canao.sparse") : nullptr;
  auto format = dict ? dict.getAs<StringAttr>("format") : nullptr;
  auto kept = dict ? dict.getAs<IntegerAttr>("kept") : nullptr;
  auto tile = op->getAttrOfType<DictionaryAttr>("canao.tile");
  if (!format || !kept || !tile || format.getValue() == "dense")
    return l;
  l.format =
      format.getValue() == "bsr_n" ? SparseLayout::BsrN : SparseLayout::BsrK;
  ArrayRef<int64_t> w = shapeOf(dense.getWeight());
  l.K = w[0];
  l.N = w[1];
  l.kept = kept.getInt();
  auto get = [&](StringRef key) {
    auto v = tile.getAs<IntegerAttr>(key);
    return v ? v.getInt() : 0;
  };
  l.kc = get("kc");
  if (l.format == SparseLayout::BsrN) {
    l.block = get("nr");
  } else if (auto b = dict.getAs<StringAttr>("block")) {
    b.getValue().split('x').first.getAsInteger(10, l.block);
  }
  return l;
}

/// The tile of `op`, checked against what the target can run.
static llvm::Expected<GemmTile> checkedTile(Operation *op,
                                            const TargetDesc &target) {
  GemmTile t = tileOf(op, target);
  GemmTile want = defaultTile(target, t.mr, t.nr, t.kc);
  // A sparse weight runs on the BSR kernel of its layout.
  const SparseLayout sparse = sparseLayoutOf(op);
  bool known = !want.kernel.empty() && want.kernel == t.kernel;
  if (sparse.format == SparseLayout::BsrN)
    known = !want.kernel.empty() &&
            t.kernel == bsrNKernelName(target, t.mr, t.nr) &&
            sparse.block == t.nr;
  if (sparse.format == SparseLayout::BsrK) {
    known = false;
    for (const TargetDesc::BsrKKernel &k : target.bsrKKernels)
      known = known ||
              (k.r == sparse.block && k.mr == t.mr &&
               t.nr == target.vectorBits / 32 &&
               t.kernel == bsrKKernelName(target, k.r, k.mr) &&
               sparse.K % k.r == 0 && (t.kc >= sparse.K || t.kc % k.r == 0));
  }
  if (!known || t.kc < 1 || t.mc < t.mr || t.mc % t.mr || t.pf < 0 || t.pf > 6)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "codegen: op tiled for '" + t.kernel + "' (" + str(t.mr) + "x" +
            str(t.nr) + ", kc " + str(t.kc) + ", mc " + str(t.mc) +
            ") cannot be compiled for target " + target.name);
  return t;
}

DenseOperands canao::emit::denseOperands(DenseOp op) {
  DenseOperands d;
  int next = 2;
  d.bias = op.getBias() ? next++ : -1;
  d.firstExtra = next;
  next += op.getExtra().size();
  d.lnScale = op.getLnScale() ? next++ : -1;
  d.lnBias = op.getLnScale() ? next++ : -1;
  return d;
}

llvm::Expected<std::string> canao::emit::emitDense(DenseOp op,
                                                   const TargetDesc &target) {
  ArrayRef<int64_t> out = shapeOf(op.getResult());
  const int64_t K = shapeOf(op.getWeight())[0], N = out.back();
  ArrayRef<int64_t> lead = out.drop_back();
  const int64_t M = numElements(lead);
  const int64_t L = target.vectorBits / 32;
  auto tile = checkedTile(op, target);
  if (!tile)
    return tile.takeError();
  const auto [bias, firstExtra, lnScale, lnBias] = denseOperands(op);

  const SparseLayout sparse = sparseLayoutOf(op);
  std::string text = vecTypedef(target);
  std::string biasPtr = bias >= 0 ? in(bias) : std::string("nullptr");
  // Sparse weights: values, then int32 pointers, then int32 indices.
  std::string ptrs = "reinterpret_cast<const int32_t*>(in1 + " +
                     str(sparse.valueFloats()) + ")";
  std::string idx = "reinterpret_cast<const int32_t*>(in1 + " +
                    str(sparse.valueFloats() + sparse.pointers()) + ")";
  std::string call;
  if (sparse.format == SparseLayout::BsrK) {
    text += "  const canao_rt::ukernel::BsrKArgs g{" + str(M) + ", " + str(N) +
            ", " + str(K) + ", " + str(tile->kc) + ", in0, " + str(K) +
            ", in1, " + ptrs + ", " + idx + ", " + biasPtr + ", out, " +
            str(N) + "};\n";
    call = "  canao_rt::ukernel::bsr_k_gemm<" + str(tile->mr) + ", " +
           str(tile->nr) + ">(rt.pool, g, canao_rt::ukernel::" + tile->kernel +
           ", ";
  } else {
    text += "  canao_rt::ukernel::GemmArgs g{" + str(M) + ", " + str(N) + ", " +
            str(K) + ", " + str(tile->kc) + ", " + str(tile->mc) + ", in0, " +
            str(K) + ", in1, " + biasPtr + ", out, " + str(N) +
            (tile->directA ? ", nullptr, " : ", ws, ") + str(tile->pf) + ", " +
            (tile->splitRows ? "true" : "false") + ", " +
            (tile->directA ? "true" : "false") + "};\n";
    if (sparse.format == SparseLayout::BsrN)
      text += "  g.row_ptr = " + ptrs + ";\n  g.row_k = " + idx + ";\n";
    call = "  canao_rt::ukernel::gemm<" + str(tile->mr) + ", " + str(tile->nr) +
           ">(rt.pool, g, canao_rt::ukernel::" + tile->kernel + ", ";
  }
  // A LayerNorm runs on whole rows once they are final (gemm's row
  // epilogue).
  std::string rowEpilogue =
      lnScale < 0
          ? std::string()
          : ", [&](int64_t m0, int64_t m1) {\n"
            "    for (int64_t m = m0; m < m1; ++m)\n"
            "      canao_rt::ukernel::layer_norm_row<vf>(out + m * " +
                str(N) + ", " + str(N) + ", " + in(lnScale) + ", " +
                in(lnBias) + ", " +
                floatLiteral(op.getLnEpsilon()->convertToFloat()) + ");\n  }";
  if (op.getEpilogue().empty()) {
    text += call + "canao_rt::ukernel::NoEpilogue()" + rowEpilogue + ");\n";
  } else {
    // The epilogue of one finished block: rows [m0, m1), columns
    // [n0, n0 + nb), vector body over whole vectors, scalar body for the
    // tail (and for bodies with no vector form).
    Block &body = op.getEpilogue().front();
    std::string rows, vecArgsLoad;
    SmallVector<std::string> vecArgs = {"y0"}, scalarArgs = {"y[j]"};
    for (auto [e, extra] : llvm::enumerate(op.getExtra())) {
      SmallVector<int64_t> st = broadcastStrides(shapeOf(extra), out);
      int64_t last = st.back();
      st.pop_back();
      std::string o = "o" + str(e), x = "x" + str(e + 1),
                  ptr = in(firstExtra + e);
      rows += "      const int64_t " + o + " = " + rowOffset(lead, st) + ";\n";
      std::string at = [&](const std::string &col) {
        return ptr + "[" + o +
               (last == 0 ? std::string()
                          : " + (" + col + ")" +
                                (last == 1 ? "" : " * " + str(last))) +
               "]";
      }("n0 + j");
      scalarArgs.push_back(at);
      if (last == 1)
        vecArgsLoad += "        vf " + x + ";\n        std::memcpy(&" + x +
                       ", " + ptr + " + " + o + " + n0 + j, sizeof " + x +
                       ");\n";
      else if (last == 0)
        vecArgsLoad += "        const vf " + x +
                       " = canao_rt::vmath::splat<vf>(" + ptr + "[" + o +
                       "]);\n";
      else
        vecArgsLoad += "        vf " + x + ";\n        for (int l = 0; l < " +
                       str(L) + "; ++l) " + x + "[l] = " + ptr + "[" + o +
                       " + (n0 + j + l) * " + str(last) + "];\n";
      vecArgs.push_back(x);
    }
    auto scalar = renderScalarBody(body, scalarArgs, "        ");
    if (!scalar)
      return scalar.takeError();
    auto vector = renderVectorBody(body, vecArgs, "        ", "vf");
    std::string vecLoop;
    if (vector) {
      vecLoop = "      for (; j + " + str(L) + " <= nb; j += " + str(L) +
                ") {\n        vf y0;\n        std::memcpy(&y0, y + j, sizeof "
                "y0);\n" +
                vecArgsLoad + vector->stmts +
                "        const vf r = " + vector->result +
                ";\n        std::memcpy(y + j, &r, sizeof r);\n      }\n";
    } else {
      llvm::consumeError(vector.takeError());
    }
    text +=
        call +
        "[&](int64_t m0, int64_t m1, int64_t n0, int64_t nb) {\n"
        "    for (int64_t m = m0; m < m1; ++m) {\n      float* y = out + m * " +
        str(N) + " + n0;\n" + rows + "      int64_t j = 0;\n" + vecLoop +
        "      for (; j < nb; ++j) {\n" + scalar->stmts +
        "        y[j] = " + scalar->result + ";\n      }\n    }\n  }" +
        rowEpilogue + ");\n";
  }
  return text;
}

/// Leading dimension of attention's S^T block (S rows of Np floats): one
/// 64-byte line more than Np, so that the softmax's and P packing's walks
/// down a column do not map every row to the same few L1 sets (with Np =
/// 128, rows 512 bytes apart hit 8 of the 64 sets and the 128 rows of a
/// column strip did not stay in L1: -10% per head on BERT's shapes).
static int64_t scoresLd(int64_t np) { return np + 16; }

llvm::Expected<std::string>
canao::emit::emitAttention(AttentionOp op, const TargetDesc &target) {
  ArrayRef<int64_t> out = shapeOf(op.getResult());
  const int64_t B = out[0], S = out[1], D = out[2], H = op.getNumHeads(),
                dh = D / H;
  const bool packed = op.getQkv().size() == 1;
  const int64_t ld = packed ? 3 * D : D;
  auto tile = checkedTile(op, target);
  if (!tile)
    return tile.takeError();
  const int64_t MR = tile->mr, NR = tile->nr;
  const int64_t Mp = (S + MR - 1) / MR * MR, Np = (S + NR - 1) / NR * NR,
                ldS = scoresLd(Np);
  std::string q = "in0", k = packed ? "in0 + " + str(D) : "in1",
              v = packed ? "in0 + " + str(2 * D) : "in2";
  int maskIndex = packed ? 1 : 3;
  // The mask is added to S^T (row j = key, column i = query): a mask that
  // does not depend on the query (BERT's [B, 1, 1, S]) is one scalar per row,
  // which softmax_columns adds as it goes; a query-dependent one gets a pass.
  std::string mask, softmaxBias;
  if (op.getMask()) {
    SmallVector<int64_t> st =
        broadcastStrides(shapeOf(op.getMask()), {B, H, S, S});
    mask = "      const float* mk = " + in(maskIndex) + " + b * " + str(st[0]) +
           " + h * " + str(st[1]) + ";\n";
    if (st[2] == 0)
      softmaxBias = ", mk, " + str(st[3]);
    else
      mask += "      for (int64_t j = 0; j < " + str(S) +
              "; ++j)\n        for (int64_t i = 0; i < " + str(S) +
              "; ++i) st[j * " + str(ldS) + " + i] += mk[i * " + str(st[2]) +
              " + j * " + str(st[3]) + "];\n";
  }
  const std::string kernel = "canao_rt::ukernel::" + tile->kernel;
  const std::string mr = str(MR), nr = str(NR);
  // Per (batch, head), split across threads, in the thread's scratch:
  //   ka = pack_a(K)         [Mp x dh]   qp = panels of (Q * scale)^T [Np x dh]
  //     (no ka when the tile reads A in place: the GEMM reads K's rows)
  //   st = ka qp = S^T       [S x ldS]   softmax down each column (query)
  //   pa = pack_a(P), P = st^T / column sums, in one pass     [Mp x S]
  //   vp = panels of V       [Dp x S]    out = pa vp, into the head's columns
  // S^T makes the softmax column-wise (no horizontal reductions) and P's
  // packing a copy of contiguous rows; the scores never leave the cache.
  std::string text = vecTypedef(target);
  text +=
      "  const float* Q = " + q + ";\n  const float* K = " + k +
      ";\n  const float* V = " + v + ";\n  rt.pool.parallel_for(" + str(B * H) +
      ", [&](int64_t lo, int64_t hi, int t) {\n"
      "    float* ka = reinterpret_cast<float*>(rt.scratch(t));\n"
      "    float* qp = ka + " +
      str(tile->directA ? 0 : Mp * dh) + ";\n    float* st = qp + " +
      str(Np * dh) + ";\n    float* inv = st + " + str(S * ldS) +
      ";\n    float* pa = inv + " + str(Np) + ";\n    float* vp = pa + " +
      str(Mp * S) +
      ";\n"
      "    for (int64_t bh = lo; bh < hi; ++bh) {\n"
      "      const int64_t b = bh / " +
      str(H) + ", h = bh % " + str(H) +
      ";\n"
      "      const int64_t base = b * " +
      str(S * ld) + " + h * " + str(dh) + ";\n" +
      (tile->directA
           ? std::string()
           : "      canao_rt::ukernel::pack_a<" + mr + ">(" + str(S) + ", " +
                 str(dh) + ", K + base, " + str(ld) + ", 1.0f, ka);\n") +
      "      canao_rt::ukernel::pack_bt<" + nr + ">(" + str(dh) + ", " +
      str(S) + ", Q + base, " + str(ld) + ", qp, " +
      floatLiteral(op.getScale().convertToFloat()) +
      ");\n"
      "      canao_rt::ukernel::gemm_packed<" +
      mr + ", " + nr + ">(" + kernel + ", " + str(S) + ", " + str(Np) + ", " +
      str(dh) + (tile->directA ? ", K + base, " + str(ld) : ", ka, 0") +
      ", qp, st, " + str(ldS) + ");\n" + mask +
      "      canao_rt::ukernel::softmax_columns<vf>(st, " + str(S) + ", " +
      str(Np) + ", " + str(ldS) + ", inv" + softmaxBias +
      ");\n"
      "      canao_rt::ukernel::pack_a_transposed_scaled<" +
      mr + ", vf>(" + str(S) + ", " + str(S) + ", st, " + str(ldS) +
      ", inv, pa);\n"
      "      canao_rt::ukernel::pack_b<" +
      nr + ">(" + str(S) + ", " + str(dh) + ", V + base, " + str(ld) +
      ", vp);\n"
      "      canao_rt::ukernel::gemm_packed<" +
      mr + ", " + nr + ">(" + kernel + ", " + str(S) + ", " + str(dh) + ", " +
      str(S) + ", pa, 0, vp, out + b * " + str(S * D) + " + h * " + str(dh) +
      ", " + str(D) +
      ");\n"
      "    }\n  });\n";
  return text;
}

int64_t canao::kernelScratchBytes(Operation *op, const TargetDesc &target) {
  auto att = dyn_cast<AttentionOp>(op);
  if (!att)
    return 0;
  const GemmTile t = tileOf(op, target);
  const int64_t mr = t.mr, nr = t.nr;
  ArrayRef<int64_t> s = att.getType().getShape();
  const int64_t S = s[1], dh = s[2] / att.getNumHeads();
  const int64_t Mp = (S + mr - 1) / mr * mr, Np = (S + nr - 1) / nr * nr,
                Dp = (dh + nr - 1) / nr * nr;
  // ka (unless A is read in place), qp, st, inv, pa, vp (see emitAttention).
  const int64_t ka = t.directA ? 0 : Mp * dh;
  return (ka + Np * dh + S * scoresLd(Np) + Np + Mp * S + Dp * S) * 4;
}

int64_t canao::kernelWorkspaceBytes(Operation *op, const TargetDesc &target) {
  auto dense = dyn_cast<DenseOp>(op);
  if (!dense)
    return 0;
  const int64_t M = numElements(shapeOf(dense.getResult()).drop_back());
  const GemmTile t = tileOf(op, target);
  // The microkernel reads A in place (BSR-K always does).
  if (t.directA || sparseLayoutOf(op).format == SparseLayout::BsrK)
    return 0;
  // One k block of A, packed (gemm.h: gemm_workspace_floats).
  const int64_t K = shapeOf(dense.getWeight())[0];
  return (M + t.mr - 1) / t.mr * t.mr * std::min(K, t.kc) * 4;
}
