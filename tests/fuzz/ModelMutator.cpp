//===- ModelMutator.cpp - structure-aware mutations of ONNX models --------===//
#include "ModelMutator.h"

#include <onnx/onnx_pb.h>

#include <array>
#include <vector>

namespace canao::fuzz {
namespace {

using Rng = std::mt19937_64;

size_t pick(Rng &rng, size_t n) {
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}

// Dims that sit on the importer's boundaries: empty, broadcast, negative
// (ONNX's "infer"), the int32 edge, past the absurd-size limit, overflow.
int64_t interestingDim(Rng &rng, int64_t old) {
  static constexpr std::array<int64_t, 14> kDims = {0,
                                                    1,
                                                    2,
                                                    3,
                                                    -1,
                                                    -2,
                                                    7,
                                                    64,
                                                    1 << 16,
                                                    (int64_t(1) << 31) - 1,
                                                    int64_t(1) << 32,
                                                    int64_t(1) << 40,
                                                    INT64_MAX,
                                                    INT64_MIN};
  // Wrapping arithmetic: the mutator itself must stay free of UB.
  const uint64_t u = static_cast<uint64_t>(old);
  switch (pick(rng, 3)) {
  case 0:
    return kDims[pick(rng, kDims.size())];
  case 1:
    return static_cast<int64_t>(pick(rng, 2) ? u + 1 : u - 1);
  default:
    return static_cast<int64_t>(u * 2);
  }
}

// Every ONNX TensorProto data type id, and a few that are not.
int32_t interestingDtype(Rng &rng) {
  static constexpr std::array<int32_t, 8> kOdd = {0,  -1, 17, 21,
                                                  22, 23, 99, INT32_MAX};
  return pick(rng, 4) ? static_cast<int32_t>(pick(rng, 17)) // 0..16
                      : kOdd[pick(rng, kOdd.size())];
}

// The names the importer reads as attributes, so a mutation can add one a
// node did not have.
constexpr std::array<const char *, 16> kAttrNames = {
    "axis",   "axes",      "perm",  "to",       "epsilon", "keepdims",
    "transA", "transB",    "alpha", "beta",     "value",   "batch_dims",
    "starts", "exclusive", "mode",  "allowzero"};

// Op types that BERT exports use, plus some the importer rejects.
constexpr std::array<const char *, 26> kOpTypes = {"Add",
                                                   "Sub",
                                                   "Mul",
                                                   "Div",
                                                   "MatMul",
                                                   "Gemm",
                                                   "Gather",
                                                   "Reshape",
                                                   "Transpose",
                                                   "Softmax",
                                                   "Erf",
                                                   "Tanh",
                                                   "Pow",
                                                   "Sqrt",
                                                   "ReduceMean",
                                                   "Concat",
                                                   "Slice",
                                                   "Unsqueeze",
                                                   "Squeeze",
                                                   "Shape",
                                                   "Cast",
                                                   "Expand",
                                                   "ConstantOfShape",
                                                   "LayerNormalization",
                                                   "Where",
                                                   "Conv"};

onnx::TensorShapeProto *someShape(onnx::GraphProto &g, Rng &rng) {
  std::vector<onnx::ValueInfoProto *> infos;
  for (auto &v : *g.mutable_input())
    infos.push_back(&v);
  for (auto &v : *g.mutable_output())
    infos.push_back(&v);
  for (auto &v : *g.mutable_value_info())
    infos.push_back(&v);
  if (infos.empty())
    return nullptr;
  onnx::ValueInfoProto *v = infos[pick(rng, infos.size())];
  return v->mutable_type()->mutable_tensor_type()->mutable_shape();
}

const char *mutateDims(onnx::ModelProto &m, Rng &rng) {
  onnx::GraphProto &g = *m.mutable_graph();
  if (g.initializer_size() && pick(rng, 2)) {
    onnx::TensorProto &t =
        *g.mutable_initializer(pick(rng, g.initializer_size()));
    if (t.dims_size() == 0 || pick(rng, 4) == 0) {
      t.add_dims(interestingDim(rng, 1)); // a rank change
      return "initializer rank";
    }
    int i = static_cast<int>(pick(rng, t.dims_size()));
    t.set_dims(i, interestingDim(rng, t.dims(i)));
    return "initializer dim";
  }
  onnx::TensorShapeProto *shape = someShape(g, rng);
  if (!shape)
    return nullptr;
  if (shape->dim_size() == 0 || pick(rng, 5) == 0) {
    shape->add_dim()->set_dim_value(interestingDim(rng, 1));
    return "value rank";
  }
  onnx::TensorShapeProto_Dimension &d =
      *shape->mutable_dim(static_cast<int>(pick(rng, shape->dim_size())));
  if (pick(rng, 4) == 0)
    d.set_dim_param(pick(rng, 2) ? "batch" : "");
  else
    d.set_dim_value(interestingDim(rng, d.dim_value()));
  return "value dim";
}

const char *mutateDtype(onnx::ModelProto &m, Rng &rng) {
  onnx::GraphProto &g = *m.mutable_graph();
  if (g.initializer_size() && pick(rng, 2)) {
    g.mutable_initializer(pick(rng, g.initializer_size()))
        ->set_data_type(interestingDtype(rng));
    return "initializer dtype";
  }
  std::vector<onnx::ValueInfoProto *> io;
  for (auto &v : *g.mutable_input())
    io.push_back(&v);
  for (auto &v : *g.mutable_output())
    io.push_back(&v);
  if (io.empty())
    return nullptr;
  io[pick(rng, io.size())]
      ->mutable_type()
      ->mutable_tensor_type()
      ->set_elem_type(interestingDtype(rng));
  return "value dtype";
}

const char *mutateAttribute(onnx::ModelProto &m, Rng &rng) {
  onnx::GraphProto &g = *m.mutable_graph();
  if (g.node_size() == 0)
    return nullptr;
  onnx::NodeProto &n = *g.mutable_node(pick(rng, g.node_size()));
  if (n.attribute_size() == 0 || pick(rng, 5) == 0) {
    onnx::AttributeProto *a = n.add_attribute();
    a->set_name(kAttrNames[pick(rng, kAttrNames.size())]);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(interestingDim(rng, 0));
    return "attribute added";
  }
  int i = static_cast<int>(pick(rng, n.attribute_size()));
  onnx::AttributeProto &a = *n.mutable_attribute(i);
  switch (pick(rng, 6)) {
  case 0:
    a.set_i(interestingDim(rng, a.i()));
    return "attribute int";
  case 1:
    a.set_f(pick(rng, 2) ? 0.f : -1e30f);
    return "attribute float";
  case 2:
    if (a.ints_size()) {
      int j = static_cast<int>(pick(rng, a.ints_size()));
      a.set_ints(j, interestingDim(rng, a.ints(j)));
    } else {
      a.add_ints(interestingDim(rng, 0));
    }
    return "attribute ints";
  case 3:
    a.set_type(static_cast<onnx::AttributeProto::AttributeType>(pick(rng, 15)));
    return "attribute type";
  case 4:
    if (a.has_t() && a.t().raw_data().size()) {
      a.mutable_t()->mutable_raw_data()->resize(
          pick(rng, a.t().raw_data().size()));
      return "attribute tensor bytes";
    }
    a.clear_ints();
    return "attribute ints cleared";
  default:
    n.mutable_attribute()->DeleteSubrange(i, 1);
    return "attribute deleted";
  }
}

const char *mutateRawData(onnx::ModelProto &m, Rng &rng) {
  onnx::GraphProto &g = *m.mutable_graph();
  if (g.initializer_size() == 0)
    return nullptr;
  onnx::TensorProto &t =
      *g.mutable_initializer(pick(rng, g.initializer_size()));
  std::string &raw = *t.mutable_raw_data();
  switch (pick(rng, 4)) {
  case 0:
    raw.resize(raw.empty() ? 0 : pick(rng, raw.size()));
    return "raw_data truncated";
  case 1:
    raw.append(1 + pick(rng, 16), '\x7f');
    return "raw_data extended";
  case 2:
    // Inline data moved to float_data, or both present.
    t.add_float_data(1.f);
    return "float_data added";
  default:
    if (!raw.empty())
      raw[pick(rng, raw.size())] = static_cast<char>(pick(rng, 256));
    // NaN and infinity in weights.
    if (raw.size() >= 4)
      raw.replace(0, 4, pick(rng, 2) ? "\x00\x00\xc0\x7f" : "\x00\x00\x80\x7f",
                  4);
    return "raw_data bytes";
  }
}

const char *mutateWiring(onnx::ModelProto &m, Rng &rng) {
  onnx::GraphProto &g = *m.mutable_graph();
  if (g.node_size() == 0)
    return nullptr;
  std::vector<std::string> names;
  for (const auto &n : g.node())
    for (const auto &o : n.output())
      names.push_back(o);
  for (const auto &i : g.input())
    names.push_back(i.name());
  for (const auto &t : g.initializer())
    names.push_back(t.name());
  onnx::NodeProto &n = *g.mutable_node(pick(rng, g.node_size()));
  switch (pick(rng, 6)) {
  case 0:
    if (n.input_size() && !names.empty()) {
      n.set_input(static_cast<int>(pick(rng, n.input_size())),
                  names[pick(rng, names.size())]);
      return "input rewired";
    }
    return nullptr;
  case 1:
    if (n.input_size()) {
      n.set_input(static_cast<int>(pick(rng, n.input_size())),
                  pick(rng, 2) ? "" : "no_such_value");
      return "input dangling";
    }
    return nullptr;
  case 2:
    if (n.input_size()) {
      n.mutable_input()->RemoveLast();
      return "input removed";
    }
    return nullptr;
  case 3:
    if (!names.empty()) {
      n.add_input(names[pick(rng, names.size())]);
      return "input added";
    }
    return nullptr;
  case 4:
    if (n.output_size() && !names.empty()) {
      n.set_output(static_cast<int>(pick(rng, n.output_size())),
                   names[pick(rng, names.size())]);
      return "output renamed";
    }
    return nullptr;
  default:
    if (g.output_size() && !names.empty()) {
      g.mutable_output(static_cast<int>(pick(rng, g.output_size())))
          ->set_name(names[pick(rng, names.size())]);
      return "graph output renamed";
    }
    return nullptr;
  }
}

const char *mutateGraph(onnx::ModelProto &m, Rng &rng) {
  onnx::GraphProto &g = *m.mutable_graph();
  if (g.node_size() == 0)
    return nullptr;
  int i = static_cast<int>(pick(rng, g.node_size()));
  switch (pick(rng, 3)) {
  case 0:
    g.mutable_node(i)->set_op_type(kOpTypes[pick(rng, kOpTypes.size())]);
    return "op type";
  case 1:
    g.mutable_node()->DeleteSubrange(i, 1);
    return "node deleted";
  default:
    *g.add_node() = g.node(i); // two producers of one value
    return "node duplicated";
  }
}

const char *mutateOpset(onnx::ModelProto &m, Rng &rng) {
  if (m.opset_import_size() == 0 || pick(rng, 4) == 0) {
    onnx::OperatorSetIdProto *op = m.add_opset_import();
    op->set_domain(pick(rng, 2) ? "" : "com.microsoft");
    op->set_version(static_cast<int64_t>(pick(rng, 25)));
    return "opset added";
  }
  m.mutable_opset_import(static_cast<int>(pick(rng, m.opset_import_size())))
      ->set_version(pick(rng, 2) ? static_cast<int64_t>(pick(rng, 25))
                                 : interestingDim(rng, 13));
  return "opset version";
}

} // namespace

const char *mutateModel(onnx::ModelProto &model, Rng &rng) {
  using Mutation = const char *(*)(onnx::ModelProto &, Rng &);
  static constexpr std::array<Mutation, 7> kMutations = {
      mutateDims,    mutateDims,   mutateDtype, mutateAttribute,
      mutateRawData, mutateWiring, mutateGraph};
  if (pick(rng, 16) == 0)
    return mutateOpset(model, rng);
  // A few tries: some mutations do not apply to every model.
  for (int attempt = 0; attempt < 4; ++attempt)
    if (const char *what = kMutations[pick(rng, kMutations.size())](model, rng))
      return what;
  return nullptr;
}

} // namespace canao::fuzz
