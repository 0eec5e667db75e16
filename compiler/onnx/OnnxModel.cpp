//===- OnnxModel.cpp - loading and validating ONNX model files ------------===//
#include "onnx/OnnxModel.h"

#include <onnx/onnx_pb.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/stubs/logging.h>

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <climits>
#include <fcntl.h>
#include <queue>
#include <unistd.h>

using namespace canao;
using llvm::createStringError;
using llvm::Error;
using llvm::Expected;
using llvm::inconvertibleErrorCode;

template <typename... Ts>
static llvm::Error fail(const char *fmt, Ts &&...args) {
  return createStringError(inconvertibleErrorCode(), fmt,
                           std::forward<Ts>(args)...);
}

OnnxModel::OnnxModel() : proto_(std::make_unique<onnx::ModelProto>()) {}
OnnxModel::~OnnxModel() = default;

const onnx::GraphProto &OnnxModel::graph() const { return proto_->graph(); }
size_t OnnxModel::numNodes() const { return proto_->graph().node_size(); }

Expected<int64_t> canao::checkedNumElements(llvm::ArrayRef<int64_t> dims,
                                            llvm::StringRef what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return fail("%s has a negative dimension (%lld)", what.str().c_str(),
                  static_cast<long long>(d));
    if (d != 0 && n > kMaxTensorElements / d)
      return fail("%s has absurd dimensions (more than 2^32 elements)",
                  what.str().c_str());
    n *= d;
  }
  return n;
}

Expected<std::unique_ptr<OnnxModel>> OnnxModel::load(const std::string &path) {
  // Parse failures are reported by us, in one line; silence protobuf's log.
  google::protobuf::SetLogHandler(nullptr);
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    return fail("cannot open '%s': %s", path.c_str(), strerror(errno));
  std::unique_ptr<OnnxModel> model(new OnnxModel());
  bool parsed;
  {
    google::protobuf::io::FileInputStream raw(fd);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT_MAX);
    coded.SetRecursionLimit(64);
    parsed = model->proto_->ParseFromCodedStream(&coded) &&
             coded.ConsumedEntireMessage();
  }
  ::close(fd);
  if (!parsed)
    return fail("'%s' is not a valid ONNX model (truncated or corrupt "
                "protobuf)",
                path.c_str());
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  if (Error e = model->validate(path, std::string(dir)))
    return std::move(e);
  return std::move(model);
}

Expected<std::unique_ptr<OnnxModel>> OnnxModel::parse(llvm::StringRef bytes,
                                                      const std::string &dir,
                                                      const std::string &name) {
  google::protobuf::SetLogHandler(nullptr);
  std::unique_ptr<OnnxModel> model(new OnnxModel());
  google::protobuf::io::CodedInputStream coded(
      reinterpret_cast<const uint8_t *>(bytes.data()),
      static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)));
  coded.SetRecursionLimit(64);
  if (bytes.size() > INT_MAX || !model->proto_->ParseFromCodedStream(&coded) ||
      !coded.ConsumedEntireMessage())
    return fail("'%s' is not a valid ONNX model (truncated or corrupt "
                "protobuf)",
                name.c_str());
  if (Error e = model->validate(name, dir))
    return std::move(e);
  return std::move(model);
}

Error OnnxModel::validate(const std::string &name, const std::string &dir) {
  const onnx::ModelProto &m = *proto_;
  if (!m.has_graph() || m.graph().output_size() == 0)
    return fail("'%s' is not a valid ONNX model (no graph or no outputs)",
                name.c_str());
  for (const auto &op : m.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx")
      opset_ = op.version();
  if (opset_ == 0)
    return fail("'%s' declares no ai.onnx opset (truncated model?)",
                name.c_str());
  if (opset_ < 7 || opset_ > 22)
    return fail("opset %lld is not supported (canaoc reads opsets 7 to 22)",
                static_cast<long long>(opset_));
  dir_ = dir;
  return Error::success();
}

Expected<llvm::ArrayRef<char>>
OnnxModel::externalData(const onnx::TensorProto &t, size_t bytes) {
  std::string location;
  uint64_t offset = 0, length = bytes;
  for (const auto &kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" || kv.key() == "length") {
      uint64_t v;
      if (llvm::StringRef(kv.value()).getAsInteger(10, v))
        return fail("tensor '%s' has a malformed external-data %s",
                    t.name().c_str(), kv.key().c_str());
      (kv.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty())
    return fail("tensor '%s' has external data without a location",
                t.name().c_str());
  // The model may not read files outside its own folder.
  llvm::StringRef loc(location);
  bool escapes = llvm::sys::path::is_absolute(loc) || loc.contains('\0');
  for (auto it = llvm::sys::path::begin(loc), e = llvm::sys::path::end(loc);
       it != e; ++it)
    escapes |= *it == "..";
  if (escapes)
    return fail("tensor '%s': external data path '%s' escapes the model's "
                "folder",
                t.name().c_str(), location.c_str());
  llvm::SmallString<256> full(dir_);
  llvm::sys::path::append(full, loc);
  llvm::SmallString<256> realDir, realFile;
  if (!llvm::sys::fs::real_path(dir_, realDir) &&
      !llvm::sys::fs::real_path(full, realFile) &&
      !llvm::StringRef(realFile).starts_with((realDir + "/").str()))
    return fail("tensor '%s': external data path '%s' escapes the model's "
                "folder",
                t.name().c_str(), location.c_str());
  auto &buffer = external_[std::string(full)];
  if (!buffer) {
    auto mapped = llvm::MemoryBuffer::getFile(full, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!mapped)
      return fail("tensor '%s': cannot read external data '%s': %s",
                  t.name().c_str(), full.c_str(),
                  mapped.getError().message().c_str());
    buffer = std::move(*mapped);
  }
  if (length != bytes || offset > buffer->getBufferSize() ||
      buffer->getBufferSize() - offset < length)
    return fail("tensor '%s': external data '%s' is too short or its length "
                "does not match the shape",
                t.name().c_str(), location.c_str());
  return llvm::ArrayRef<char>(buffer->getBufferStart() + offset, length);
}

Expected<HostTensor> OnnxModel::tensor(const onnx::TensorProto &t) {
  HostTensor out;
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    out.dtype = DType::F32;
    break;
  case onnx::TensorProto::INT64:
    out.dtype = DType::I64;
    break;
  case onnx::TensorProto::INT32:
    out.dtype = DType::I32;
    break;
  case onnx::TensorProto::BOOL:
    out.dtype = DType::Bool;
    break;
  default:
    return fail("tensor '%s' has data type %s, which canaoc does not support",
                t.name().c_str(),
                onnx::TensorProto::DataType_Name(
                    static_cast<onnx::TensorProto::DataType>(t.data_type()))
                    .c_str());
  }
  out.shape.assign(t.dims().begin(), t.dims().end());
  auto n = checkedNumElements(out.shape, "tensor '" + t.name() + "'");
  if (!n)
    return n.takeError();
  size_t bytes = static_cast<size_t>(*n) * dtypeSize(out.dtype);
  auto mismatch = [&](size_t have) {
    return fail("tensor '%s' holds %zu bytes but its shape needs %zu",
                t.name().c_str(), have, bytes);
  };
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    auto data = externalData(t, bytes);
    if (!data)
      return data.takeError();
    out.raw = *data;
  } else if (t.has_raw_data()) {
    if (t.raw_data().size() != bytes)
      return mismatch(t.raw_data().size());
    out.raw = llvm::ArrayRef<char>(t.raw_data().data(), bytes);
  } else if (out.dtype == DType::F32) {
    if (static_cast<size_t>(t.float_data_size()) * 4 != bytes)
      return mismatch(t.float_data_size() * 4);
    out.raw = llvm::ArrayRef<char>(
        reinterpret_cast<const char *>(t.float_data().data()), bytes);
  } else if (out.dtype == DType::I64) {
    if (static_cast<size_t>(t.int64_data_size()) * 8 != bytes)
      return mismatch(t.int64_data_size() * 8);
    out.raw = llvm::ArrayRef<char>(
        reinterpret_cast<const char *>(t.int64_data().data()), bytes);
  } else {
    // int32 and bool both live in int32_data.
    if (static_cast<size_t>(t.int32_data_size()) != static_cast<size_t>(*n))
      return mismatch(t.int32_data_size() * dtypeSize(out.dtype));
    auto storage = std::make_unique<std::vector<char>>(bytes);
    for (int64_t i = 0; i < *n; ++i) {
      int32_t v = t.int32_data(i);
      if (out.dtype == DType::Bool)
        (*storage)[i] = v != 0;
      else
        std::memcpy(storage->data() + 4 * i, &v, 4);
    }
    out.raw = llvm::ArrayRef<char>(storage->data(), bytes);
    converted_.push_back(std::move(storage));
  }
  if (out.raw.empty() && *n != 0)
    return mismatch(0);
  if (*n == 0) // an empty tensor: give it (no) values, not a null view
    out.values.clear();
  return out;
}

Expected<std::vector<const onnx::NodeProto *>>
OnnxModel::topologicalOrder() const {
  const onnx::GraphProto &g = graph();
  int n = g.node_size();
  std::map<std::string, int> producer;
  for (int i = 0; i < n; ++i)
    for (const std::string &out : g.node(i).output()) {
      if (out.empty())
        continue;
      if (!producer.emplace(out, i).second)
        return fail("value '%s' is produced by two nodes ('%s' and '%s')",
                    out.c_str(), g.node(producer[out]).name().c_str(),
                    g.node(i).name().c_str());
    }
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> users(n);
  for (int i = 0; i < n; ++i)
    for (const std::string &in : g.node(i).input()) {
      auto it = producer.find(in);
      if (it == producer.end())
        continue;
      ++pending[i];
      users[it->second].push_back(i);
    }
  // Smallest index first keeps the file's order whenever it is valid, so
  // output is deterministic.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (pending[i] == 0)
      ready.push(i);
  std::vector<const onnx::NodeProto *> order;
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(&g.node(i));
    for (int u : users[i])
      if (--pending[u] == 0)
        ready.push(u);
  }
  if (static_cast<int>(order.size()) != n) {
    for (int i = 0; i < n; ++i)
      if (pending[i] > 0)
        return fail("the graph has a cycle through node '%s' (%s)",
                    g.node(i).name().c_str(), g.node(i).op_type().c_str());
  }
  return order;
}

std::vector<std::string> OnnxModel::externalFiles() const {
  std::vector<std::string> files;
  for (const auto &entry : external_)
    files.push_back(entry.first);
  return files;
}
