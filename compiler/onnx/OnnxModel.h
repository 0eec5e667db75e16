//===- OnnxModel.h - loading and validating ONNX model files ---*- C++ -*-===//
//
// Owns the parsed ModelProto and the memory maps of external data files for
// the whole compilation: weights flow into MLIR as zero-copy views of these
// bytes, so compile memory stays near the size of the weights themselves.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_ONNX_ONNXMODEL_H
#define CANAO_COMPILER_ONNX_ONNXMODEL_H

#include "onnx/HostTensor.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
class GraphProto;
class NodeProto;
class TensorProto;
} // namespace onnx

namespace canao {

/// Upper bound on the elements of any one tensor (2^32): larger is treated as
/// a hostile or corrupt model, not as a workload.
constexpr int64_t kMaxTensorElements = int64_t(1) << 32;

class OnnxModel {
public:
  ~OnnxModel();
  /// Parses and validates `path`. Errors are one line, without a prefix.
  static llvm::Expected<std::unique_ptr<OnnxModel>>
  load(const std::string &path);
  /// Parses a model held in memory (the fuzz target's entry). External data
  /// is resolved against `dir`; `name` stands for the file in messages.
  static llvm::Expected<std::unique_ptr<OnnxModel>>
  parse(llvm::StringRef bytes, const std::string &dir,
        const std::string &name = "<memory>");

  const onnx::ModelProto &proto() const { return *proto_; }
  /// For tools that rewrite the model (canaoc prune). Views returned by
  /// tensor() into inline data stay valid only while that data is not
  /// resized.
  onnx::ModelProto &mutableProto() { return *proto_; }
  const onnx::GraphProto &graph() const;
  /// Opset of the default (ai.onnx) domain.
  int64_t opset() const { return opset_; }
  /// Number of nodes in the main graph.
  size_t numNodes() const;

  /// A view of a TensorProto's data (initializer or Constant attribute).
  llvm::Expected<HostTensor> tensor(const onnx::TensorProto &t);

  /// Nodes in a topological order (stable w.r.t. file order).
  llvm::Expected<std::vector<const onnx::NodeProto *>> topologicalOrder() const;

  /// The external data files read so far (absolute or model-relative
  /// paths, sorted): every one, once all tensors have been read.
  std::vector<std::string> externalFiles() const;

  /// The `bytes` bytes of an external-data tensor of any data type (canaoc
  /// prune copies tensors that tensor() cannot type), with the same checks.
  llvm::Expected<llvm::ArrayRef<char>> externalData(const onnx::TensorProto &t,
                                                    size_t bytes);

private:
  OnnxModel();
  /// Checks what every model needs (a graph, outputs, a supported opset).
  llvm::Error validate(const std::string &name, const std::string &dir);

  std::unique_ptr<onnx::ModelProto> proto_;
  std::string dir_;
  int64_t opset_ = 0;
  std::map<std::string, std::unique_ptr<llvm::MemoryBuffer>> external_;
  /// Converted storage for tensors whose proto layout is not the byte layout
  /// (bools in int32_data).
  std::vector<std::unique_ptr<std::vector<char>>> converted_;
};

/// Checked product of dims; error on negative dims or overflow past
/// kMaxTensorElements.
llvm::Expected<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> dims,
                                           llvm::StringRef what);

} // namespace canao

#endif // CANAO_COMPILER_ONNX_ONNXMODEL_H
