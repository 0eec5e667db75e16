//===- KernelPlan.h - the kernel-level form of a compiled model -*- C++ -*-===//
//
// The last IR before text: an ordered list of kernels over buffers, with
// every buffer placed (graph input, weight blob offset or arena offset).
// Renderers (portable C++ today; x86 SIMD, NEON and OpenCL later) turn the
// same plan into source, so placement and scheduling are decided once.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_CODEGEN_KERNELPLAN_H
#define CANAO_CODEGEN_KERNELPLAN_H

#include "Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace canao {

enum class BufferKind { Input, Weight, Arena };

struct Buffer {
  BufferKind kind = BufferKind::Arena;
  mlir::RankedTensorType type;
  /// Input index for Input buffers, byte offset in the weight blob or arena.
  int64_t index = 0;
  int64_t offset = 0;
  int64_t bytes = 0;
  /// Arena liveness, in kernel indices (inclusive).
  int64_t firstUse = 0, lastUse = 0;
  /// For dense weights: the panel width they are packed in, or 0.
  int64_t packedCols = 0;
  /// For reshapes: the buffer whose bytes this one reuses, or -1.
  int64_t aliasOf = -1;
};

struct Kernel {
  mlir::Operation *op = nullptr;
  std::vector<int64_t> operands; ///< buffer ids
  int64_t result = -1;           ///< buffer id
  /// Arena workspace live only during this kernel (dense: packed A), or -1.
  int64_t workspace = -1;
};

/// One constant of the weight blob. Its bytes are produced on demand by
/// streamWeights() from the IR attribute (a view of the model file for
/// imported weights), so the packed blob never exists whole in the
/// compiler's memory: compiling BERT-base needs the model once, not three
/// times.
struct WeightChunk {
  mlir::ElementsAttr value;
  int64_t offset = 0; ///< in the blob, 64-byte aligned
  int64_t bytes = 0;  ///< as stored (packed), before the alignment padding
  /// Dense weights: the [K, N] value packed into panelCols-wide panels; 0
  /// keeps the constant's row-major bytes.
  int64_t panelCols = 0;
  /// Block-sparse weights: the layout they are packed in (bsr_pack.h).
  SparseLayout sparse;
};

struct ModelOutput {
  std::string name;
  int64_t buffer;
};

struct KernelPlan {
  std::vector<Buffer> buffers;
  std::vector<Kernel> kernels;
  std::vector<std::string> inputNames;
  std::vector<mlir::RankedTensorType> inputTypes;
  std::vector<ModelOutput> outputs;
  /// The weight blob payload: every constant, in offset order, each padded
  /// to 64 bytes; weightBytes in all. streamWeights() produces the bytes.
  std::vector<WeightChunk> weights;
  int64_t weightBytes = 0;
  int64_t arenaBytes = 0;

  /// Per-thread scratch the runtime context must provide (max over kernels).
  int64_t scratchBytesPerThread = 0;

  /// The buffer that owns the bytes of `id` (following reshape aliases).
  const Buffer &storage(int64_t id) const;
};

/// Builds the plan for `func.func @main` in `module`, including static
/// memory planning (liveness + first-fit offsets in one arena; kernel
/// workspaces are arena buffers live for one kernel).
/// With a target, dense weights are packed at compile time into its
/// gemmCols-wide column panels ([N / nr][K][nr], zero-padded), the layout
/// the GEMM microkernel streams, and scratch/workspace sizes follow its
/// tile; without one, weights stay row-major (for tests of the planner).
llvm::Expected<KernelPlan> buildKernelPlan(mlir::ModuleOp module,
                                           const TargetDesc *target = nullptr);

/// Calls `sink(data, size)` with the weight blob payload in order, one
/// constant per call (packed, then zero-padded to 64 bytes, so every size
/// is a multiple of 64). The module the plan was built from must still be
/// alive. Fails if a constant's bytes cannot be read.
llvm::Error streamWeights(const KernelPlan &plan,
                          llvm::function_ref<void(const char *, size_t)> sink);

/// Row-major [K, N] floats in the block-sparse layout `l` (values, int32
/// pointers, int32 indices; runtime bsr_pack.h). Fails if the weight's
/// blocks disagree with the layout's counts.
llvm::Expected<std::vector<char>> packSparse(llvm::ArrayRef<char> bytes,
                                             const SparseLayout &l);

/// Row-major [K, N] floats as zero-padded [ceil(N/nr)][K][nr] panels.
std::vector<char> packPanels(llvm::ArrayRef<char> bytes, int64_t k, int64_t n,
                             int64_t nr);

} // namespace canao

#endif // CANAO_CODEGEN_KERNELPLAN_H
