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
  /// The weight blob payload (every constant, 64-byte aligned).
  std::vector<char> weights;
  int64_t arenaBytes = 0;

  /// Per-thread scratch the runtime context must provide (max over kernels).
  int64_t scratchBytesPerThread() const;

  /// The buffer that owns the bytes of `id` (following reshape aliases).
  const Buffer &storage(int64_t id) const;
};

/// Bytes of per-thread scratch `op` needs (0 for none): attention keeps one
/// head's K^T tile and one score row there, never on the stack.
int64_t scratchBytes(mlir::Operation *op);

/// Builds the plan for `func.func @main` in `module`, including static
/// memory planning (liveness + first-fit offsets in one arena).
/// Dense weights are packed at compile time into `panelCols`-wide column
/// panels ([N / panelCols][K][panelCols], zero-padded), the layout the GEMM
/// microkernel streams; 0 keeps them row-major.
llvm::Expected<KernelPlan> buildKernelPlan(mlir::ModuleOp module,
                                           int64_t panelCols = 0);

/// Row-major [K, N] floats as zero-padded [ceil(N/nr)][K][nr] panels.
std::vector<char> packPanels(llvm::ArrayRef<char> bytes, int64_t k, int64_t n,
                             int64_t nr);

} // namespace canao

#endif // CANAO_CODEGEN_KERNELPLAN_H
