//===- KernelPlan.cpp - scheduling and static memory planning -------------===//
#include "KernelPlan.h"
#include "KernelEmitter.h"

#include "Canao/CanaoOps.h"
#include "Canao/ConstantData.h"
#include "Canao/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include "canao/ukernels/bsr_pack.h"

#include <algorithm>
#include <cstring>

using namespace mlir;
using namespace canao;

static constexpr int64_t kAlign = 64;

static int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

const Buffer &KernelPlan::storage(int64_t id) const {
  while (buffers[id].aliasOf >= 0)
    id = buffers[id].aliasOf;
  return buffers[id];
}

static int64_t byteSize(RankedTensorType t) {
  return numElements(t.getShape()) * elementByteSize(t.getElementType());
}

/// First-fit placement in address order, in order of definition: each
/// buffer takes the lowest offset that overlaps no live buffer.
static int64_t planArena(std::vector<Buffer> &buffers) {
  std::vector<Buffer *> arena;
  for (Buffer &b : buffers)
    if (b.kind == BufferKind::Arena && b.aliasOf < 0)
      arena.push_back(&b);
  std::vector<Buffer *> placed;
  int64_t total = 0;
  for (Buffer *b : arena) {
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (Buffer *p : placed)
      if (p->firstUse <= b->lastUse && b->firstUse <= p->lastUse)
        busy.push_back({p->offset, p->offset + alignUp(p->bytes)});
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + alignUp(b->bytes) <= lo)
        break;
      offset = std::max(offset, hi);
    }
    b->offset = offset;
    total = std::max(total, offset + alignUp(b->bytes));
    placed.push_back(b);
  }
  return total;
}

llvm::Error
canao::streamWeights(const KernelPlan &plan,
                     llvm::function_ref<void(const char *, size_t)> sink) {
  for (const WeightChunk &w : plan.weights) {
    std::vector<char> bytes = constantBytes(w.value);
    auto type = cast<RankedTensorType>(w.value.getType());
    if (static_cast<int64_t>(bytes.size()) != byteSize(type))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "codegen: cannot read the bytes of a constant");
    if (w.sparse.format != SparseLayout::Dense) {
      auto packed = packSparse(bytes, w.sparse);
      if (!packed)
        return packed.takeError();
      bytes = std::move(*packed);
    } else if (w.panelCols) {
      bytes = packPanels(bytes, type.getDimSize(0), type.getDimSize(1),
                         w.panelCols);
    }
    bytes.resize(alignUp(w.bytes), 0);
    sink(bytes.data(), bytes.size());
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<char>> canao::packSparse(llvm::ArrayRef<char> bytes,
                                                    const SparseLayout &l) {
  std::vector<float> w(l.K * l.N);
  if (static_cast<int64_t>(bytes.size()) != l.K * l.N * 4)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "codegen: sparse weight of the wrong size");
  std::memcpy(w.data(), bytes.data(), bytes.size());
  std::vector<char> out(l.bytes(), 0);
  float *values = reinterpret_cast<float *>(out.data());
  int32_t *ptr = reinterpret_cast<int32_t *>(values + l.valueFloats());
  int32_t *idx = ptr + l.pointers();
  const bool ok = l.format == SparseLayout::BsrN
                      ? canao_rt::bsr::n_pack(w.data(), l.K, l.N, l.block, l.kc,
                                              l.kept, values, ptr, idx)
                      : canao_rt::bsr::k_pack(w.data(), l.K, l.N, l.block, l.kc,
                                              l.kept, values, ptr, idx);
  if (!ok)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "codegen: a sparse weight's blocks do not match its analysis");
  return out;
}

std::vector<char> canao::packPanels(llvm::ArrayRef<char> bytes, int64_t k,
                                    int64_t n, int64_t nr) {
  int64_t panels = (n + nr - 1) / nr;
  std::vector<char> out(panels * k * nr * 4, 0);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t r = 0; r < k; ++r) {
      int64_t cols = std::min(nr, n - p * nr);
      std::memcpy(out.data() + ((p * k + r) * nr) * 4,
                  bytes.data() + (r * n + p * nr) * 4, cols * 4);
    }
  return out;
}

/// Whether every use of `v` is as the weight of a canao.dense.
static bool onlyDenseWeight(Value v) {
  return !v.use_empty() && llvm::all_of(v.getUses(), [](OpOperand &use) {
    auto d = dyn_cast<DenseOp>(use.getOwner());
    return d && use.get() == d.getWeight() && use.getOperandNumber() == 1;
  });
}

llvm::Expected<KernelPlan> canao::buildKernelPlan(ModuleOp module,
                                                  const TargetDesc *target) {
  auto fail = [](const llvm::Twine &msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), msg.str());
  };
  auto func = module.lookupSymbol<func::FuncOp>("main");
  if (!func)
    return fail("the module has no func.func @main");
  KernelPlan plan;
  llvm::DenseMap<Value, int64_t> bufferOf;
  auto newBuffer = [&](Value v, BufferKind kind) {
    Buffer b;
    b.kind = kind;
    b.type = cast<RankedTensorType>(v.getType());
    b.bytes = byteSize(b.type);
    plan.buffers.push_back(b);
    bufferOf[v] = plan.buffers.size() - 1;
    return static_cast<int64_t>(plan.buffers.size() - 1);
  };

  // Dense weights are packed in panels as wide as the register tile of the
  // dense ops using them (0: kept row-major).
  auto panelColsOf = [&](Value weight) -> llvm::Expected<int64_t> {
    int64_t cols = 0;
    if (!target || !onlyDenseWeight(weight))
      return cols;
    for (Operation *user : weight.getUsers()) {
      int64_t nr = tileOf(user, *target).nr;
      if (cols && nr != cols)
        return fail("codegen: a weight is shared by dense ops with "
                    "different tiles");
      cols = nr;
    }
    return cols;
  };

  for (BlockArgument arg : func.getArguments()) {
    int64_t id = newBuffer(arg, BufferKind::Input);
    plan.buffers[id].index = arg.getArgNumber();
    auto name =
        func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "canao.name");
    plan.inputNames.push_back(
        name ? name.str() : "input" + std::to_string(arg.getArgNumber()));
    plan.inputTypes.push_back(plan.buffers[id].type);
  }

  // Liveness is extended through aliases to the buffer owning the bytes.
  auto use = [&](int64_t id, int64_t when) {
    while (plan.buffers[id].aliasOf >= 0)
      id = plan.buffers[id].aliasOf;
    plan.buffers[id].lastUse = std::max(plan.buffers[id].lastUse, when);
  };

  for (Operation &op : func.getBody().front()) {
    if (isa<func::ReturnOp>(op))
      break;
    // Scalar constants (hoisted out of fused bodies) are literals in code.
    if (op.getNumResults() == 1 &&
        !isa<RankedTensorType>(op.getResult(0).getType()))
      continue;
    if (op.getNumResults() != 1)
      return fail("codegen: unexpected op '" + op.getName().getStringRef() +
                  "'");
    Value result = op.getResult(0);
    if (auto c = dyn_cast<ConstantOp>(op)) {
      int64_t id = newBuffer(result, BufferKind::Weight);
      auto shape = plan.buffers[id].type.getShape();
      auto cols = panelColsOf(result);
      if (!cols)
        return cols.takeError();
      WeightChunk chunk;
      chunk.value = c.getValue();
      chunk.offset = plan.weightBytes;
      chunk.bytes = plan.buffers[id].bytes;
      SparseLayout sparse;
      if (result.hasOneUse())
        sparse = sparseLayoutOf(*result.getUsers().begin());
      if (sparse.format != SparseLayout::Dense &&
          result.getUses().begin()->getOperandNumber() == 1) {
        chunk.sparse = sparse;
        chunk.bytes = sparse.bytes();
      } else if (*cols > 0) {
        chunk.panelCols = *cols;
        chunk.bytes = (shape[1] + *cols - 1) / *cols * *cols * shape[0] * 4;
        plan.buffers[id].packedCols = *cols;
      }
      plan.buffers[id].offset = chunk.offset;
      plan.weightBytes += alignUp(chunk.bytes);
      plan.weights.push_back(chunk);
      continue;
    }
    if (isa<ReshapeOp>(op)) {
      // A reshape is a new view of the same bytes.
      int64_t src = bufferOf.lookup(op.getOperand(0));
      int64_t id = newBuffer(result, plan.buffers[src].kind);
      plan.buffers[id].aliasOf = src;
      continue;
    }
    Kernel k;
    k.op = &op;
    int64_t when = plan.kernels.size();
    for (Value operand : op.getOperands()) {
      int64_t id = bufferOf.lookup(operand);
      k.operands.push_back(id);
      use(id, when);
    }
    k.result = newBuffer(result, BufferKind::Arena);
    plan.buffers[k.result].firstUse = plan.buffers[k.result].lastUse = when;
    if (target) {
      if (int64_t ws = kernelWorkspaceBytes(&op, *target)) {
        Buffer b;
        b.type =
            RankedTensorType::get({ws / 4}, Float32Type::get(op.getContext()));
        b.bytes = ws;
        b.firstUse = b.lastUse = when;
        plan.buffers.push_back(b);
        k.workspace = plan.buffers.size() - 1;
      }
      plan.scratchBytesPerThread =
          std::max(plan.scratchBytesPerThread,
                   alignUp(kernelScratchBytes(&op, *target)));
    }
    plan.kernels.push_back(std::move(k));
  }

  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  int64_t end = plan.kernels.size();
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto name = func.getResultAttrOfType<StringAttr>(i, "canao.name");
    int64_t id = bufferOf.lookup(v);
    use(id, end); // outputs are copied out after the last kernel
    plan.outputs.push_back(
        {name ? name.str() : "output" + std::to_string(i), id});
  }
  plan.arenaBytes = planArena(plan.buffers);
  return plan;
}
