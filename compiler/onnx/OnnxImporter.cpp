//===- OnnxImporter.cpp - ONNX graph to canao dialect ---------------------===//
//
// One pass over the nodes in topological order. Every value gets a static
// type; values computable at compile time (all shape plumbing) are evaluated
// on the host and only materialized as `canao.constant` if a runtime op uses
// them. Handlers for the op families live in OnnxOpHandlers.cpp.
//
//===----------------------------------------------------------------------===//
#include "onnx/OnnxImporter.h"
#include "onnx/ImporterState.h"

#include "Canao/CanaoDialect.h"
#include "Canao/CanaoOps.h"
#include "Canao/ConstantData.h"

#include <onnx/onnx_pb.h>

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace canao;

//===----------------------------------------------------------------------===//
// ImporterState: values, attributes, materialization
//===----------------------------------------------------------------------===//

Type ImporterState::elementType(DType t) {
  switch (t) {
  case DType::F32:
    return b.getF32Type();
  case DType::I64:
    return b.getI64Type();
  case DType::I32:
    return b.getI32Type();
  case DType::Bool:
    return b.getI1Type();
  }
  return {};
}

RankedTensorType ImporterState::tensorType(const Slot &s) {
  return RankedTensorType::get(s.shape, elementType(s.dtype));
}

llvm::Error ImporterState::nodeError(const llvm::Twine &msg) const {
  std::string where =
      node ? "node '" + node->name() + "' (" + node->op_type() + "): "
           : std::string();
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 where + msg.str());
}

llvm::Expected<Slot *> ImporterState::input(int i) {
  if (i >= node->input_size() || node->input(i).empty())
    return nodeError("missing required input #" + llvm::Twine(i));
  const std::string &name = node->input(i);
  auto it = slots.find(name);
  if (it != slots.end())
    return &it->second;
  auto init = initializers.find(name);
  if (init == initializers.end())
    return nodeError("uses '" + name +
                     "', which no node, graph input or initializer defines "
                     "(missing initializer?)");
  auto tensor = model.tensor(*init->second);
  if (!tensor)
    return tensor.takeError();
  Slot slot;
  slot.dtype = tensor->dtype;
  slot.shape = tensor->shape;
  slot.constant = std::move(*tensor);
  slot.name = name;
  return &slots.emplace(name, std::move(slot)).first->second;
}

bool ImporterState::hasInput(int i) const {
  return i < node->input_size() && !node->input(i).empty();
}

llvm::Expected<const HostTensor *> ImporterState::constantInput(int i) {
  auto s = input(i);
  if (!s)
    return s.takeError();
  if (!(*s)->constant) {
    std::string why = "input #" + std::to_string(i) + " ('" + node->input(i) +
                      "') must be a compile-time constant";
    if (auto arg = dyn_cast_if_present<BlockArgument>((*s)->value))
      why += ", but it is the graph input '" + (*s)->name +
             "'; freeze it with --freeze " + (*s)->name + "=FILE.npy";
    else
      why += ", but it is computed at run time (from the graph inputs)";
    return nodeError(why);
  }
  return &*(*s)->constant;
}

llvm::Expected<std::vector<int64_t>> ImporterState::constantInts(int i) {
  auto c = constantInput(i);
  if (!c)
    return c.takeError();
  if ((*c)->dtype != DType::I64 && (*c)->dtype != DType::I32)
    return nodeError("input #" + llvm::Twine(i) + " must be an integer tensor");
  if (!(*c)->small())
    return nodeError("input #" + llvm::Twine(i) + " is too large");
  return (*c)->toInts();
}

void ImporterState::setOutput(int i, Slot slot) {
  if (i >= node->output_size() || node->output(i).empty())
    return;
  slot.name = node->output(i);
  slots[node->output(i)] = std::move(slot);
}

Slot canao::valueSlot(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  Slot s;
  s.shape.assign(type.getShape().begin(), type.getShape().end());
  Type e = type.getElementType();
  s.dtype = e.isF32()         ? DType::F32
            : e.isInteger(64) ? DType::I64
            : e.isInteger(32) ? DType::I32
                              : DType::Bool;
  s.value = v;
  return s;
}

Slot canao::constantSlot(HostTensor t) {
  Slot s;
  s.dtype = t.dtype;
  s.shape = t.shape;
  s.constant = std::move(t);
  return s;
}

void ImporterState::setOutput(int i, Value v) { setOutput(i, valueSlot(v)); }

void ImporterState::setOutput(int i, HostTensor t) {
  setOutput(i, constantSlot(std::move(t)));
}

static std::string resourceName(llvm::StringRef name) {
  std::string out;
  for (char c : name)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return out.empty() ? "weight" : out;
}

Value ImporterState::value(Slot &s) {
  if (s.value)
    return s.value;
  // Constants are created at the top of the function so that every use is
  // dominated, whatever order they are first needed in.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&func.getBody().front());
  RankedTensorType type = tensorType(s);
  const HostTensor &t = *s.constant;
  ElementsAttr attr;
  if (!t.raw.empty() && t.raw.size() > 256) {
    // Zero-copy: the blob points into the model's own bytes.
    AsmResourceBlob blob =
        UnmanagedAsmResourceBlob::allocateWithAlign(t.raw, alignof(float));
    attr = DenseResourceElementsAttr::get(type, resourceName(s.name),
                                          std::move(blob));
  } else {
    std::vector<char> bytes = t.toBytes();
    attr = makeConstant(type, bytes, resourceName(s.name));
  }
  s.value = ConstantOp::create(b, b.getUnknownLoc(), type, attr);
  return s.value;
}

const onnx::AttributeProto *ImporterState::attr(llvm::StringRef name) const {
  for (const auto &a : node->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t ImporterState::intAttr(llvm::StringRef name, int64_t dflt) const {
  const auto *a = attr(name);
  return a ? a->i() : dflt;
}

float ImporterState::floatAttr(llvm::StringRef name, float dflt) const {
  const auto *a = attr(name);
  return a ? a->f() : dflt;
}

std::optional<std::vector<int64_t>>
ImporterState::intsAttr(llvm::StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

llvm::Expected<int64_t> ImporterState::normalizeAxis(int64_t axis,
                                                     int64_t rank) {
  if (axis < -rank || axis >= rank)
    return nodeError("axis " + llvm::Twine(axis) +
                     " is out of range for rank " + llvm::Twine(rank));
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Graph-level import
//===----------------------------------------------------------------------===//

static llvm::Error plainError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg.str());
}

static std::optional<DType> dtypeFromOnnx(int32_t t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return DType::F32;
  case onnx::TensorProto::INT64:
    return DType::I64;
  case onnx::TensorProto::INT32:
    return DType::I32;
  case onnx::TensorProto::BOOL:
    return DType::Bool;
  default:
    return std::nullopt;
  }
}

/// Default sizes for conventionally named symbolic dims (said in a note).
static std::optional<int64_t> defaultDim(llvm::StringRef param) {
  std::string lower = param.lower();
  llvm::StringRef p(lower);
  if (p.contains("batch"))
    return 1;
  if (p.contains("seq"))
    return 128;
  return std::nullopt;
}

/// Checks a --freeze array against the input's declared type and makes
/// `slot` that constant. Symbolic dims take the array's sizes.
static llvm::Error freezeInput(Slot &slot, const onnx::TypeProto_Tensor &tt,
                               const HostTensor &value,
                               const ImportOptions &options) {
  std::string what = "--freeze " + slot.name + ": ";
  if (value.dtype != slot.dtype)
    return plainError(what + "the array is " + dtypeName(value.dtype) +
                      ", the input is " + dtypeName(slot.dtype));
  if (static_cast<int>(value.shape.size()) != tt.shape().dim_size())
    return plainError(
        what + "the array has rank " + llvm::Twine(value.shape.size()) +
        ", the input has rank " + llvm::Twine(tt.shape().dim_size()));
  for (int d = 0; d < tt.shape().dim_size(); ++d) {
    const auto &dim = tt.shape().dim(d);
    if (dim.has_dim_value() && dim.dim_value() != value.shape[d])
      return plainError(what + "dim " + llvm::Twine(d) + " is " +
                        llvm::Twine(value.shape[d]) +
                        " in the array, the model fixes it to " +
                        llvm::Twine(dim.dim_value()));
  }
  if (options.inputShapes.count(slot.name))
    return plainError(what + "the input is frozen; drop its --shape");
  slot.shape = value.shape;
  slot.constant = value;
  return llvm::Error::success();
}

static llvm::Error declareInputs(ImporterState &st,
                                 const ImportOptions &options,
                                 SmallVectorImpl<Slot> &inputs) {
  const onnx::GraphProto &g = st.model.graph();
  std::set<std::string> seen;
  for (const auto &in : g.input()) {
    if (st.initializers.count(in.name()))
      continue; // IR < 4 lists initializers as inputs too
    seen.insert(in.name());
    if (!in.type().has_tensor_type())
      return plainError("input '" + in.name() + "' is not a tensor");
    const auto &tt = in.type().tensor_type();
    auto dtype = dtypeFromOnnx(tt.elem_type());
    if (!dtype)
      return plainError("input '" + in.name() +
                        "' has an element type canaoc does not support");
    if (!tt.has_shape())
      return plainError("input '" + in.name() +
                        "' has no shape; the model must declare its rank");
    Slot slot;
    slot.dtype = *dtype;
    slot.name = in.name();
    if (auto f = options.frozen.find(in.name()); f != options.frozen.end()) {
      if (auto err = freezeInput(slot, tt, f->second, options))
        return err;
      st.slots[slot.name] = std::move(slot);
      continue;
    }
    auto given = options.inputShapes.find(in.name());
    if (given != options.inputShapes.end() &&
        given->second.size() != static_cast<size_t>(tt.shape().dim_size()))
      return plainError("--shape " + in.name() + " has rank " +
                        llvm::Twine(given->second.size()) +
                        ", the model's input has rank " +
                        llvm::Twine(tt.shape().dim_size()));
    for (int d = 0; d < tt.shape().dim_size(); ++d) {
      const auto &dim = tt.shape().dim(d);
      int64_t size;
      if (given != options.inputShapes.end()) {
        size = given->second[d];
        if (dim.has_dim_value() && dim.dim_value() != size)
          return plainError("input '" + in.name() + "' dim " + llvm::Twine(d) +
                            " is fixed to " + llvm::Twine(dim.dim_value()) +
                            " in the model, but --shape gives " +
                            llvm::Twine(size));
      } else if (dim.has_dim_value()) {
        size = dim.dim_value();
      } else if (auto dflt = defaultDim(dim.dim_param())) {
        size = *dflt;
        if (options.note)
          options.note("input '" + in.name() + "' dim '" + dim.dim_param() +
                       "' = " + std::to_string(size) +
                       " (default; set it with --shape " + in.name() + "=...)");
      } else {
        return plainError(
            "input '" + in.name() + "' has symbolic dimension '" +
            (dim.dim_param().empty() ? std::string("?") : dim.dim_param()) +
            "' (dim " + llvm::Twine(d) + "); pass --shape " + in.name() +
            "=D0x...");
      }
      if (size == 0)
        return plainError("input '" + in.name() + "' dim " + llvm::Twine(d) +
                          " is 0; canaoc does not support empty tensors");
      if (size < 0 || size > (int64_t(1) << 24))
        return plainError("input '" + in.name() + "' has absurd dimension " +
                          llvm::Twine(size) + " (dim " + llvm::Twine(d) + ")");
      slot.shape.push_back(size);
    }
    if (auto n = checkedNumElements(slot.shape, "input '" + in.name() + "'");
        !n)
      return n.takeError();
    inputs.push_back(std::move(slot));
  }
  for (const auto &[name, shape] : options.inputShapes)
    if (!seen.count(name))
      return plainError("--shape names '" + name +
                        "', which is not an input of the model");
  for (const auto &[name, tensor] : options.frozen)
    if (!seen.count(name))
      return plainError("--freeze names '" + name +
                        "', which is not an input of the model");
  return llvm::Error::success();
}

/// Bytes per element of an ONNX TensorProto data type (4 for types canaoc
/// cannot read: their import fails later with a clear message).
static uint64_t onnxElementBytes(int32_t type) {
  switch (type) {
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
    return 1;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
    return 2;
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64:
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::COMPLEX64:
    return 8;
  case onnx::TensorProto::COMPLEX128:
    return 16;
  default:
    return 4;
  }
}

static std::string megabytes(uint64_t bytes) {
  return llvm::formatv("{0:f1} MB", bytes / 1e6).str();
}

/// The weights' bytes from their dims alone, before any is read or mapped.
static llvm::Error checkWeightBudget(const onnx::GraphProto &g,
                                     uint64_t maxBytes) {
  uint64_t total = 0;
  for (const auto &init : g.initializer()) {
    auto n = checkedNumElements(
        llvm::ArrayRef<int64_t>(init.dims().data(), init.dims_size()),
        "initializer '" + init.name() + "'");
    if (!n)
      return n.takeError();
    total += static_cast<uint64_t>(*n) * onnxElementBytes(init.data_type());
  }
  if (total > maxBytes)
    return plainError("the model's weights need " + megabytes(total) +
                      ", more than --max-memory (" + megabytes(maxBytes) + ")");
  return llvm::Error::success();
}

/// Bytes of a run-time tensor. Its element count is checked (at most 2^32),
/// so the product cannot wrap; an unchecked shape counts as too large.
static uint64_t tensorBytes(const Slot &s) {
  auto n = checkedNumElements(s.shape, "tensor");
  if (!n) {
    llvm::consumeError(n.takeError());
    return UINT64_MAX;
  }
  return static_cast<uint64_t>(*n) * dtypeSize(s.dtype);
}

llvm::Expected<OwningOpRef<ModuleOp>>
canao::importOnnxModel(MLIRContext &context, OnnxModel &model,
                       const ImportOptions &options) {
  context.getOrLoadDialect<CanaoDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
  ImporterState st(context, model);
  const onnx::GraphProto &g = model.graph();
  for (const auto &init : g.initializer())
    st.initializers[init.name()] = &init;
  if (options.maxBytes)
    if (auto err = checkWeightBudget(g, options.maxBytes))
      return std::move(err);

  SmallVector<Slot> inputs;
  if (auto err = declareInputs(st, options, inputs))
    return std::move(err);

  auto order = model.topologicalOrder();
  if (!order)
    return order.takeError();

  SmallVector<Type> argTypes;
  for (Slot &s : inputs)
    argTypes.push_back(st.tensorType(s));
  st.b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(st.b, module->getLoc(), "main",
                                   st.b.getFunctionType(argTypes, {}));
  st.func = func;
  Block *entry = func.addEntryBlock();
  for (auto [i, s] : llvm::enumerate(inputs)) {
    s.value = entry->getArgument(i);
    func.setArgAttr(i, "canao.name", st.b.getStringAttr(s.name));
    st.slots[s.name] = s;
  }
  st.b.setInsertionPointToEnd(entry);

  for (const onnx::NodeProto *node : *order) {
    st.node = node;
    std::string locName = node->name().empty() ? node->op_type() : node->name();
    st.loc = NameLoc::get(st.b.getStringAttr(locName));
    if (auto err = importNode(st))
      return std::move(err);
    // Empty tensors fold away as constants (shape plumbing); a run-time one
    // would give kernels with nothing to do and zero-sized buffers.
    for (const std::string &out : node->output()) {
      auto it = st.slots.find(out);
      if (it != st.slots.end() && !it->second.constant && options.maxBytes &&
          tensorBytes(it->second) > options.maxBytes)
        return st.nodeError(
            "output '" + out + "' (" + describeShape(it->second.shape) +
            ") needs " + megabytes(tensorBytes(it->second)) +
            ", more than --max-memory (" + megabytes(options.maxBytes) + ")");
      if (it != st.slots.end() && !it->second.constant &&
          numElements(it->second.shape) == 0)
        return st.nodeError("output '" + out + "' is an empty tensor (" +
                            describeShape(it->second.shape) +
                            "); canaoc does not support empty tensors at "
                            "run time");
    }
  }
  st.node = nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &out : g.output()) {
    auto it = st.slots.find(out.name());
    if (it == st.slots.end()) {
      if (!st.initializers.count(out.name()))
        return plainError("graph output '" + out.name() +
                          "' is not produced by any node");
      // An output that is a weight: import it like any other use.
      onnx::NodeProto fake;
      fake.add_input(out.name());
      st.node = &fake;
      auto s = st.input(0);
      st.node = nullptr;
      if (!s)
        return s.takeError();
      it = st.slots.find(out.name());
    }
    if (numElements(it->second.shape) == 0)
      return plainError("graph output '" + out.name() +
                        "' is an empty tensor (" +
                        describeShape(it->second.shape) +
                        "); canaoc does not support empty outputs");
    results.push_back(st.value(it->second));
    resultTypes.push_back(results.back().getType());
  }
  func::ReturnOp::create(st.b, st.b.getUnknownLoc(), results);
  func.setFunctionType(st.b.getFunctionType(argTypes, resultTypes));
  for (auto [i, out] : llvm::enumerate(g.output()))
    func.setResultAttr(i, "canao.name", st.b.getStringAttr(out.name()));
  module->getOperation()->setAttr("canao.onnx_nodes",
                                  st.b.getI64IntegerAttr(model.numNodes()));
  module->getOperation()->setAttr("canao.opset",
                                  st.b.getI64IntegerAttr(model.opset()));
  return std::move(module);
}
