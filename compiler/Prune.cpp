//===- Prune.cpp - canaoc prune: block magnitude pruning ------------------===//
//
// Finds the encoder's weight matrices, zeroes the blocks (bsr) or balanced
// strips (bcr) of smallest L2 norm down to a target zero fraction, and writes
// the model back: the parsed proto re-serialized with only those
// initializers changed, and external data, if the input had any, copied into
// one new file beside the output.
//
//===----------------------------------------------------------------------===//
#include "Prune.h"
#include "onnx/OnnxModel.h"

#include <onnx/onnx_pb.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <regex>
#include <set>
#include <unistd.h>

using namespace canao;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

const char *kPruneUsage =
    "usage: canaoc prune MODEL.onnx -o PRUNED.onnx --ratio F [options]\n"
    "       canaoc prune MODEL.onnx --list [--ratio F] [--layer-ratio P=F]\n"
    "\n"
    "Magnitude pruning of the encoder layers' MatMul/Gemm weights: zeroes\n"
    "the blocks of smallest L2 norm and writes a new ONNX model.\n"
    "\n"
    "A block RxC is laid on the weight as the ONNX MatMul B operand sees it,\n"
    "[K, N] = [in_features, out_features]: R consecutive input features by C\n"
    "consecutive output features (16x1: 16 inputs of one output; 1x16: one\n"
    "input of 16 outputs). A PyTorch nn.Linear.weight is [N, K], the\n"
    "transpose, and so is the B of a Gemm with transB=1: the block is laid\n"
    "on its [K, N] view all the same.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE       the pruned model (not MODEL itself); if MODEL\n"
    "                          keeps weights as external data, they go to\n"
    "                          FILE.data\n"
    "  --ratio F               target fraction of zeros in every matrix,\n"
    "                          0 <= F < 1 (required unless --list)\n"
    "  --block RxC             block shape, R and C in 1..64 (default 16x1);\n"
    "                          blocks at the matrix edges may be partial\n"
    "  --scheme bsr|bcr        bsr (default): zero whole RxC blocks, smallest\n"
    "                          L2 norm first, until the zero fraction is the\n"
    "                          closest it can be to F. bcr (block column-row,\n"
    "                          GRIM): in every RxC block zero the same number\n"
    "                          of its lowest-norm columns (Rx1 strips) if\n"
    "                          R >= C, else rows (1xC strips); R, C >= 2\n"
    "  --layer-ratio PAT=F     ratio F for the matrices whose initializer or\n"
    "                          consuming node name matches the ECMAScript\n"
    "                          regex PAT (searched, not anchored); "
    "repeatable,\n"
    "                          the last match wins; PAT must match a "
    "candidate\n"
    "  --list                  print the candidate matrices and the excluded\n"
    "                          MatMul/Gemm weights with the reason; write\n"
    "                          nothing\n"
    "  -q, --quiet             print errors only\n"
    "  -h, --help              this help\n"
    "\n"
    "Candidates: 2-D float initializers used only as input 1 of a MatMul or\n"
    "Gemm, with 'layer', 'encoder', 'block' or 'transformer' in the\n"
    "initializer or node name; never names with 'embed', 'pooler',\n"
    "'classifier', 'head', 'qa_outputs' or 'lm_'. See docs/prune.md.\n";

constexpr int kMaxBlockSide = 64;
const char *const kLayerMarkers[] = {"layer", "encoder", "block",
                                     "transformer"};
const char *const kNeverPruned[] = {"embed", "pooler",     "classifier",
                                    "head",  "qa_outputs", "lm_"};

Error fail(const std::string &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::string schemeName(PruneScheme s) {
  return s == PruneScheme::BSR ? "bsr" : "bcr";
}

std::string blockName(BlockShape b) {
  return std::to_string(b.rows) + "x" + std::to_string(b.cols);
}

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

/// A fraction in [0, 1): the whole string must be a number. `what` starts
/// the error message.
Error parseFraction(const std::string &what, StringRef text, double &v) {
  std::string s = text.str();
  char *end = nullptr;
  v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || std::isnan(v))
    return fail(what + " '" + s + "' is not a number");
  if (!(v >= 0 && v < 1))
    return fail(what + " " + s +
                " is outside [0, 1) (the fraction of weights to zero)");
  return Error::success();
}

Error parseBlock(StringRef text, BlockShape &b) {
  auto [r, c] = text.split('x');
  int rows, cols;
  if (!text.contains('x') || r.getAsInteger(10, rows) ||
      c.getAsInteger(10, cols))
    return fail("--block '" + text.str() + "' is not RxC (e.g. 16x1)");
  if (rows < 1 || rows > kMaxBlockSide || cols < 1 || cols > kMaxBlockSide)
    return fail("--block " + text.str() + ": R and C must be 1 to " +
                std::to_string(kMaxBlockSide));
  b = {rows, cols};
  return Error::success();
}

/// std::regex reports a bad pattern by throwing; this file is built with
/// exceptions for that alone (see compiler/CMakeLists.txt).
Expected<std::regex> compileRegex(const std::string &pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error &e) {
    return fail("--layer-ratio '" + pattern + "': bad regex (" + e.what() +
                ")");
  }
}

bool regexSearch(const std::regex &re, const std::string &s) {
  try {
    return std::regex_search(s, re);
  } catch (const std::regex_error &) {
    return false; // too complex for std::regex: treated as no match
  }
}

/// Returns -1 to go on, or an exit code: 0 after --help, 1 with `err` set.
int parseArgs(int argc, char **argv, PruneOptions &o, std::string &err) {
  for (int i = 1; i < argc; ++i) {
    StringRef a = argv[i];
    // `--flag value` and `--flag=value` both work.
    auto value = [&](StringRef flag, std::string &out) -> bool {
      if (a.consume_front(flag.str() + "=")) {
        out = a.str();
        return true;
      }
      if (a != flag)
        return false;
      if (i + 1 >= argc) {
        err = flag.str() + " needs a value";
        return true;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      llvm::outs() << kPruneUsage;
      return 0;
    }
    if (value("-o", v) || value("--output", v)) {
      o.output = v;
    } else if (value("--ratio", v)) {
      double r;
      if (!err.empty())
        return 1;
      if (Error e = parseFraction("--ratio", v, r)) {
        err = llvm::toString(std::move(e));
        return 1;
      }
      o.ratio = r;
    } else if (value("--block", v)) {
      if (!err.empty())
        return 1;
      if (Error e = parseBlock(v, o.block)) {
        err = llvm::toString(std::move(e));
        return 1;
      }
    } else if (value("--scheme", v)) {
      if (!err.empty())
        return 1;
      if (v != "bsr" && v != "bcr") {
        err = "--scheme must be bsr or bcr, got '" + v + "'";
        return 1;
      }
      o.scheme = v == "bsr" ? PruneScheme::BSR : PruneScheme::BCR;
    } else if (value("--layer-ratio", v)) {
      if (!err.empty())
        return 1;
      // The ratio never holds '=', a pattern may: split at the last one.
      size_t eq = v.rfind('=');
      if (eq == std::string::npos || eq == 0) {
        err = "--layer-ratio expects PATTERN=FRACTION, got '" + v + "'";
        return 1;
      }
      double r;
      std::string pattern = v.substr(0, eq);
      if (Error e = parseFraction("--layer-ratio '" + v + "': ratio",
                                  v.substr(eq + 1), r)) {
        err = llvm::toString(std::move(e));
        return 1;
      }
      auto re = compileRegex(pattern);
      if (!re) {
        err = llvm::toString(re.takeError());
        return 1;
      }
      o.layerRatios.push_back({pattern, r});
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (a.starts_with("-") && a != "-") {
      err = "unknown option '" + a.str() + "' (see canaoc prune --help)";
      return 1;
    } else if (o.model.empty()) {
      o.model = a.str();
    } else {
      err =
          "more than one model given ('" + o.model + "' and '" + a.str() + "')";
      return 1;
    }
    if (!err.empty())
      return 1;
  }
  if (o.model.empty())
    err = "no model given (usage: canaoc prune MODEL.onnx -o PRUNED.onnx "
          "--ratio F)";
  else if (!o.list && o.output.empty())
    err = "no output given (-o PRUNED.onnx)";
  else if (!o.list && !o.ratio)
    err = "--ratio is required (the fraction of weights to zero in each "
          "matrix, e.g. --ratio 0.5)";
  else if (o.scheme == PruneScheme::BCR &&
           std::min(o.block.rows, o.block.cols) < 2)
    err = "--scheme bcr needs R >= 2 and C >= 2 (a " + blockName(o.block) +
          " block holds a single strip; use --scheme bsr)";
  return err.empty() ? -1 : 1;
}

//===----------------------------------------------------------------------===//
// Which matrices are pruned
//===----------------------------------------------------------------------===//

/// A MatMul/Gemm weight: a candidate if `reason` is empty.
struct Matrix {
  onnx::TensorProto *tensor = nullptr;
  std::string node, op, reason;
  /// The [K, N] view; stored [N, K] when `transposed` (Gemm transB=1).
  int64_t K = 0, N = 0;
  bool transposed = false;
  std::optional<double> ratio;
  int64_t nonzero = 0; ///< before pruning, then after
  const std::string &name() const { return tensor->name(); }
};

bool isOnnxOp(const onnx::NodeProto &n, StringRef op) {
  return n.op_type() == op && (n.domain().empty() || n.domain() == "ai.onnx");
}

/// Names that nodes of subgraphs (If / Loop / Scan bodies) read: an
/// initializer read there is shared, whatever else uses it.
void collectSubgraphInputs(const onnx::GraphProto &g, bool nested,
                           std::set<std::string> &out) {
  for (const onnx::NodeProto &n : g.node()) {
    if (nested)
      out.insert(n.input().begin(), n.input().end());
    for (const onnx::AttributeProto &a : n.attribute()) {
      if (a.has_g())
        collectSubgraphInputs(a.g(), true, out);
      for (const onnx::GraphProto &sg : a.graphs())
        collectSubgraphInputs(sg, true, out);
    }
  }
}

std::string whyExcluded(const onnx::TensorProto &t, const Matrix &m,
                        size_t uses, const std::string &otherUse) {
  if (t.data_type() != onnx::TensorProto::FLOAT)
    return "data type " +
           onnx::TensorProto::DataType_Name(
               static_cast<onnx::TensorProto::DataType>(t.data_type())) +
           ", not float";
  if (t.dims_size() != 2)
    return "rank " + std::to_string(t.dims_size()) + ", not a 2-D matrix";
  if (!otherUse.empty())
    return "shared: " + otherUse;
  if (uses > 1)
    return "shared: weight of " + std::to_string(uses) + " nodes";
  std::string names = llvm::StringRef(t.name() + "\n" + m.node).lower();
  for (const char *word : kNeverPruned)
    if (names.find(word) != std::string::npos)
      return std::string("name contains '") + word + "' (never pruned)";
  bool marked = false;
  for (const char *word : kLayerMarkers)
    marked |= names.find(word) != std::string::npos;
  if (!marked)
    return "not in an encoder layer (no 'layer', 'encoder', 'block' or "
           "'transformer' in its names)";
  if (m.K == 0 || m.N == 0)
    return "empty";
  return "";
}

/// Every initializer that is input 1 of a MatMul or Gemm, in node order.
std::vector<Matrix> findMatrices(onnx::GraphProto &g) {
  std::map<std::string, onnx::TensorProto *> inits;
  for (onnx::TensorProto &t : *g.mutable_initializer())
    inits.emplace(t.name(), &t);
  std::map<std::string, std::vector<std::pair<const onnx::NodeProto *, int>>>
      uses;
  for (const onnx::NodeProto &n : g.node())
    for (int i = 0; i < n.input_size(); ++i)
      uses[n.input(i)].push_back({&n, i});
  std::set<std::string> nestedUses, outputs;
  collectSubgraphInputs(g, false, nestedUses);
  for (const onnx::ValueInfoProto &v : g.output())
    outputs.insert(v.name());

  std::vector<Matrix> found;
  std::set<std::string> seen;
  for (const onnx::NodeProto &n : g.node()) {
    bool gemm = isOnnxOp(n, "Gemm");
    if ((!gemm && !isOnnxOp(n, "MatMul")) || n.input_size() < 2)
      continue;
    auto it = inits.find(n.input(1));
    if (it == inits.end() || !seen.insert(it->first).second)
      continue;
    onnx::TensorProto &t = *it->second;
    Matrix m;
    m.tensor = &t;
    m.node = n.name();
    m.op = n.op_type();
    for (const onnx::AttributeProto &a : n.attribute())
      if (gemm && a.name() == "transB")
        m.transposed = a.i() != 0;
    if (t.dims_size() == 2) {
      m.K = t.dims(m.transposed ? 1 : 0);
      m.N = t.dims(m.transposed ? 0 : 1);
    }
    std::string other;
    for (const auto &[user, input] : uses[t.name()])
      if (other.empty() &&
          !((isOnnxOp(*user, "MatMul") || isOnnxOp(*user, "Gemm")) &&
            input == 1))
        other = "also input " + std::to_string(input) + " of '" + user->name() +
                "' (" + user->op_type() + ")";
    if (other.empty() && nestedUses.count(t.name()))
      other = "also used inside a subgraph";
    if (other.empty() && outputs.count(t.name()))
      other = "also a graph output";
    m.reason = whyExcluded(t, m, uses[t.name()].size(), other);
    found.push_back(std::move(m));
  }
  return found;
}

//===----------------------------------------------------------------------===//
// Writing the model
//===----------------------------------------------------------------------===//

/// Every TensorProto of the model in file order, so that external data is
/// laid out deterministically: initializers, then node attributes
/// (recursively through subgraphs), then functions and training info.
void collectTensors(onnx::GraphProto &g, std::vector<onnx::TensorProto *> &out);

void collectTensors(onnx::NodeProto &n, std::vector<onnx::TensorProto *> &out) {
  for (onnx::AttributeProto &a : *n.mutable_attribute()) {
    if (a.has_t())
      out.push_back(a.mutable_t());
    for (onnx::TensorProto &t : *a.mutable_tensors())
      out.push_back(&t);
    if (a.has_sparse_tensor()) {
      out.push_back(a.mutable_sparse_tensor()->mutable_values());
      out.push_back(a.mutable_sparse_tensor()->mutable_indices());
    }
    for (onnx::SparseTensorProto &s : *a.mutable_sparse_tensors()) {
      out.push_back(s.mutable_values());
      out.push_back(s.mutable_indices());
    }
    if (a.has_g())
      collectTensors(*a.mutable_g(), out);
    for (onnx::GraphProto &sg : *a.mutable_graphs())
      collectTensors(sg, out);
  }
}

void collectTensors(onnx::GraphProto &g,
                    std::vector<onnx::TensorProto *> &out) {
  for (onnx::TensorProto &t : *g.mutable_initializer())
    out.push_back(&t);
  for (onnx::SparseTensorProto &s : *g.mutable_sparse_initializer()) {
    out.push_back(s.mutable_values());
    out.push_back(s.mutable_indices());
  }
  for (onnx::NodeProto &n : *g.mutable_node())
    collectTensors(n, out);
}

/// Bytes of a tensor's data of any fixed-size type (4-bit types packed two
/// to a byte); from its external-data `length` if the type is unknown here.
Expected<size_t> storedBytes(const onnx::TensorProto &t) {
  auto n = checkedNumElements(
      llvm::ArrayRef<int64_t>(t.dims().data(), t.dims_size()),
      "tensor '" + t.name() + "'");
  if (!n)
    return n.takeError();
  static const std::map<int, int> kBits = {
      {1, 32},  {2, 8},   {3, 8},   {4, 16},  {5, 16},  {6, 32},  {7, 64},
      {9, 8},   {10, 16}, {11, 64}, {12, 32}, {13, 64}, {14, 64}, {15, 128},
      {16, 16}, {17, 8},  {18, 8},  {19, 8},  {20, 8},  {21, 4},  {22, 4}};
  auto it = kBits.find(t.data_type());
  if (it != kBits.end())
    return static_cast<size_t>((*n * it->second + 7) / 8);
  for (const auto &kv : t.external_data()) {
    uint64_t length;
    if (kv.key() == "length" && !StringRef(kv.value()).getAsInteger(10, length))
      return static_cast<size_t>(length);
  }
  return fail("tensor '" + t.name() + "' has external data of data type " +
              std::to_string(t.data_type()) + " and no length");
}

/// Points `t`'s external data at [offset, offset + length) of `location`.
void setExternal(onnx::TensorProto &t, const std::string &location,
                 uint64_t offset, size_t length, bool changed) {
  std::map<std::string, std::string> want = {
      {"location", location},
      {"offset", std::to_string(offset)},
      {"length", std::to_string(length)}};
  auto *entries = t.mutable_external_data();
  for (int i = 0; i < entries->size(); ++i) {
    auto *kv = entries->Mutable(i);
    // The checksum of changed bytes would be wrong: drop it.
    if (changed && kv->key() == "checksum") {
      entries->DeleteSubrange(i--, 1);
      continue;
    }
    auto it = want.find(kv->key());
    if (it == want.end())
      continue;
    kv->set_value(it->second);
    want.erase(it);
  }
  for (const char *key : {"location", "offset", "length"})
    if (want.count(key)) {
      auto *kv = t.add_external_data();
      kv->set_key(key);
      kv->set_value(want[key]);
    }
}

/// A file written beside its final path and renamed over it on commit, so
/// that a failure never leaves a half-written output.
class TempFile {
public:
  explicit TempFile(std::string path)
      : final_(std::move(path)),
        tmp_(final_ + ".canaoc-tmp-" + std::to_string(::getpid())) {}
  ~TempFile() {
    if (!committed_)
      ::unlink(tmp_.c_str());
  }
  const std::string &path() const { return tmp_; }
  Error commit() {
    if (std::rename(tmp_.c_str(), final_.c_str()) != 0)
      return fail("cannot write '" + final_ + "': " + strerror(errno));
    committed_ = true;
    return Error::success();
  }

private:
  std::string final_, tmp_;
  bool committed_ = false;
};

std::vector<onnx::TensorProto *> allTensors(onnx::ModelProto &proto) {
  std::vector<onnx::TensorProto *> tensors;
  collectTensors(*proto.mutable_graph(), tensors);
  for (onnx::FunctionProto &f : *proto.mutable_functions())
    for (onnx::NodeProto &n : *f.mutable_node())
      collectTensors(n, tensors);
  for (onnx::TrainingInfoProto &ti : *proto.mutable_training_info()) {
    collectTensors(*ti.mutable_initialization(), tensors);
    collectTensors(*ti.mutable_algorithm(), tensors);
  }
  return tensors;
}

/// Copies every external tensor, pruned or not, into `os` at 64-byte
/// aligned offsets and points the tensor there.
Error writeExternalData(
    OnnxModel &model, llvm::ArrayRef<onnx::TensorProto *> tensors,
    const std::map<const onnx::TensorProto *, std::vector<float>> &pruned,
    llvm::raw_fd_ostream &os, const std::string &location) {
  uint64_t offset = 0;
  static const char kPad[64] = {};
  for (onnx::TensorProto *t : tensors) {
    if (t->data_location() != onnx::TensorProto::EXTERNAL)
      continue;
    llvm::ArrayRef<char> bytes;
    auto it = pruned.find(t);
    if (it != pruned.end()) {
      bytes = llvm::ArrayRef<char>(
          reinterpret_cast<const char *>(it->second.data()),
          it->second.size() * sizeof(float));
    } else {
      auto size = storedBytes(*t);
      if (!size)
        return size.takeError();
      auto data = model.externalData(*t, *size);
      if (!data)
        return data.takeError();
      bytes = *data;
    }
    os.write(kPad, (64 - offset % 64) % 64);
    offset += (64 - offset % 64) % 64;
    os.write(bytes.data(), bytes.size());
    setExternal(*t, location, offset, bytes.size(), it != pruned.end());
    offset += bytes.size();
  }
  return Error::success();
}

/// Serializes `m` to `path`; errors name `shown`, the final path.
Error writeProto(const onnx::ModelProto &m, const std::string &path,
                 const std::string &shown) {
  size_t size = m.ByteSizeLong();
  if (size > size_t(INT_MAX))
    return fail("the pruned model is over 2 GiB, more than protobuf can "
                "write in one file (store the weights as external data)");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0)
    return fail("cannot write '" + shown + "': " + strerror(errno));
  bool ok;
  int err;
  {
    google::protobuf::io::FileOutputStream raw(fd);
    {
      google::protobuf::io::CodedOutputStream coded(&raw);
      coded.SetSerializationDeterministic(true);
      m.SerializeWithCachedSizes(&coded);
      ok = !coded.HadError();
    }
    ok = raw.Close() && ok;
    err = raw.GetErrno();
  }
  if (!ok)
    return fail("cannot write '" + shown +
                "': " + (err ? strerror(err) : "write failed"));
  return Error::success();
}

bool sameFile(const std::string &a, const std::string &b) {
  bool same = false;
  return !llvm::sys::fs::equivalent(a, b, same) && same;
}

//===----------------------------------------------------------------------===//
// Reports
//===----------------------------------------------------------------------===//

std::string shapeText(const Matrix &m) {
  if (m.tensor->dims_size() != 2 || m.reason.rfind("rank", 0) == 0) {
    std::string s = "[";
    for (int i = 0; i < m.tensor->dims_size(); ++i)
      s += (i ? ", " : "") + std::to_string(m.tensor->dims(i));
    return s + "]";
  }
  return "[" + std::to_string(m.K) + ", " + std::to_string(m.N) + "]" +
         (m.transposed ? " (transB)" : "");
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string pad(const std::string &s, size_t w) {
  return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
}

void printList(const std::vector<Matrix> &all, llvm::raw_ostream &os) {
  size_t width = 4, nodeWidth = 4, shapeWidth = 6;
  int candidates = 0;
  for (const Matrix &m : all) {
    width = std::max(width, m.name().size());
    nodeWidth = std::max(nodeWidth, m.node.size());
    shapeWidth = std::max(shapeWidth, shapeText(m).size());
    candidates += m.reason.empty();
  }
  os << "candidates: " << candidates << " (shapes are [K, N] = [in, out])\n";
  for (const Matrix &m : all)
    if (m.reason.empty()) {
      os << "  " << pad(m.name(), width) << "  " << pad(m.node, nodeWidth)
         << "  " << pad(m.op, 6) << "  " << pad(shapeText(m), shapeWidth)
         << "  density " << fixed(double(m.nonzero) / double(m.K * m.N), 4);
      if (m.ratio)
        os << "  ratio " << fixed(*m.ratio, 4);
      os << "\n";
    }
  os << "excluded: " << all.size() - candidates << "\n";
  for (const Matrix &m : all)
    if (!m.reason.empty())
      os << "  " << pad(m.name(), width) << "  " << pad(m.node, nodeWidth)
         << "  " << pad(m.op, 6) << "  " << pad(shapeText(m), shapeWidth)
         << "  " << m.reason << "\n";
}

} // namespace

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

Error canao::runPrune(const PruneOptions &o, llvm::raw_ostream &os) {
  if (!o.list && sameFile(o.model, o.output))
    return fail("-o '" + o.output +
                "' is the input model; write the pruned "
                "model to another file");
  auto loaded = OnnxModel::load(o.model);
  if (!loaded)
    return loaded.takeError();
  OnnxModel &model = **loaded;
  onnx::ModelProto &proto = model.mutableProto();
  std::vector<Matrix> all = findMatrices(*proto.mutable_graph());

  std::vector<std::regex> patterns;
  std::vector<bool> matchedCandidate(o.layerRatios.size(), false);
  std::vector<std::string> matchedExcluded(o.layerRatios.size());
  for (const auto &[pattern, ratio] : o.layerRatios) {
    auto re = compileRegex(pattern);
    if (!re)
      return re.takeError();
    patterns.push_back(std::move(*re));
  }
  for (Matrix &m : all) {
    if (m.reason.empty()) {
      auto t = model.tensor(*m.tensor);
      if (!t)
        return t.takeError();
      for (int64_t i = 0, e = m.K * m.N; i < e; ++i) {
        float v;
        std::memcpy(&v, t->raw.data() + 4 * i, 4);
        m.nonzero += v != 0;
      }
      m.ratio = o.ratio;
    }
    for (size_t p = 0; p < patterns.size(); ++p) {
      if (!regexSearch(patterns[p], m.name()) &&
          !(!m.node.empty() && regexSearch(patterns[p], m.node)))
        continue;
      if (!m.reason.empty()) {
        if (matchedExcluded[p].empty())
          matchedExcluded[p] = m.name() + "': " + m.reason;
        continue;
      }
      matchedCandidate[p] = true;
      m.ratio = o.layerRatios[p].second; // the last match wins
    }
  }
  for (size_t p = 0; p < patterns.size(); ++p)
    if (!matchedCandidate[p])
      return fail("--layer-ratio '" + o.layerRatios[p].first +
                  "' matches no candidate matrix" +
                  (matchedExcluded[p].empty()
                       ? std::string(" (see canaoc prune --list)")
                       : " (only excluded '" + matchedExcluded[p] + ")"));
  if (o.list) {
    printList(all, os);
    return Error::success();
  }
  if (std::none_of(all.begin(), all.end(),
                   [](const Matrix &m) { return m.reason.empty(); }))
    return fail("'" + o.model +
                "' has no prunable MatMul/Gemm weights in its encoder layers "
                "(see canaoc prune --list)");

  // Prune: inline data is edited in place (in the format it was stored
  // in), external data is kept aside until the data file is written.
  std::map<const onnx::TensorProto *, std::vector<float>> external;
  int64_t totalLeft = 0, totalWeights = 0, pruned = 0;
  bool anyExternal = false;
  for (Matrix &m : all) {
    if (!m.reason.empty())
      continue;
    auto t = model.tensor(*m.tensor);
    if (!t)
      return t.takeError();
    std::vector<float> w(m.K * m.N);
    std::memcpy(w.data(), t->raw.data(), w.size() * sizeof(float));
    m.nonzero = pruneMatrix(w.data(), m.K, m.N, m.transposed, o.block, o.scheme,
                            *m.ratio);
    totalLeft += m.nonzero;
    totalWeights += m.K * m.N;
    ++pruned;
    onnx::TensorProto &tp = *m.tensor;
    if (tp.data_location() == onnx::TensorProto::EXTERNAL) {
      external[&tp] = std::move(w);
    } else if (tp.has_raw_data()) {
      std::memcpy(&(*tp.mutable_raw_data())[0], w.data(),
                  w.size() * sizeof(float));
    } else {
      for (size_t i = 0; i < w.size(); ++i)
        if (tp.float_data(i) != w[i])
          tp.mutable_float_data()->Set(i, w[i]);
    }
  }
  std::vector<onnx::TensorProto *> tensors = allTensors(proto);
  for (const onnx::TensorProto *tp : tensors)
    anyExternal |= tp->data_location() == onnx::TensorProto::EXTERNAL;

  // External data first: the model names the data file, not the reverse.
  std::string dataPath = o.output + ".data";
  std::optional<TempFile> dataFile;
  if (anyExternal) {
    dataFile.emplace(dataPath);
    std::error_code ec;
    llvm::raw_fd_ostream data(dataFile->path(), ec);
    if (ec)
      return fail("cannot write '" + dataPath + "': " + ec.message());
    if (Error e = writeExternalData(model, tensors, external, data,
                                    llvm::sys::path::filename(dataPath).str()))
      return e;
    data.close();
    if (data.has_error())
      return fail("cannot write '" + dataPath + "': " + data.error().message());
  }
  TempFile modelFile(o.output);
  if (Error e = writeProto(proto, modelFile.path(), o.output))
    return e;
  if (dataFile)
    if (Error e = dataFile->commit())
      return e;
  if (Error e = modelFile.commit())
    return e;

  if (o.quiet)
    return Error::success();
  size_t width = 0, shapeWidth = 0;
  for (const Matrix &m : all)
    if (m.reason.empty()) {
      width = std::max(width, m.name().size());
      shapeWidth = std::max(shapeWidth, shapeText(m).size());
    }
  for (const Matrix &m : all)
    if (m.reason.empty())
      os << "  " << pad(m.name(), width) << "  density "
         << fixed(double(m.nonzero) / double(m.K * m.N), 4) << " (target "
         << fixed(1 - *m.ratio, 4) << ")  " << pad(shapeText(m), shapeWidth)
         << "  " << m.node << "\n";
  os << "pruned " << pruned << " matrices (" << schemeName(o.scheme) << " "
     << blockName(o.block) << "): density "
     << fixed(double(totalLeft) / double(totalWeights), 4) << ", " << totalLeft
     << " of " << totalWeights << " weights nonzero; wrote " << o.output
     << (dataFile ? " and " + dataPath : "") << "\n";
  return Error::success();
}

int canao::pruneMain(int argc, char **argv) {
  PruneOptions o;
  std::string err;
  int rc = parseArgs(argc, argv, o, err);
  if (rc < 0) {
    if (Error e = runPrune(o, llvm::outs())) {
      err = llvm::toString(std::move(e));
      rc = 1;
    } else {
      rc = 0;
    }
  }
  if (!err.empty())
    llvm::errs() << "canaoc: error: " << err << "\n";
  return rc;
}
