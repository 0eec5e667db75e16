//===- KernelEmitter.h - C++ bodies of individual kernels ------*- C++ -*-===//
#ifndef CANAO_CODEGEN_KERNELEMITTER_H
#define CANAO_CODEGEN_KERNELEMITTER_H

#include "Target.h"

#include "mlir/IR/Operation.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace canao {

/// C++ element type for a tensor element type (i1 is stored as uint8_t).
std::string cType(mlir::Type t);

/// A float literal that round-trips exactly (`1.00000001e-12f`).
std::string floatLiteral(double v);

/// The body of the kernel computing `op`. Parameters are `in0..inN` (const
/// pointers to the operands) and `out`; kernels that can fail at run time
/// also get `int64_t* bad_index` and return bool.
llvm::Expected<std::string> emitKernelBody(mlir::Operation *op,
                                           const TargetDesc &target);

/// The tile of a canao.dense / canao.attention: its `canao.tile` attribute
/// (set by the canao-tile pass), or the target's default without one.
GemmTile tileOf(mlir::Operation *op, const TargetDesc &target);

/// The weight layout of a canao.dense (its `canao.sparse` and `canao.tile`);
/// Dense for other ops and dense weights.
SparseLayout sparseLayoutOf(mlir::Operation *op);

/// True for kernels that take the runtime context (`rt`: the thread pool
/// and per-thread scratch).
bool kernelUsesRuntime(mlir::Operation *op);

/// Bytes of per-thread scratch the kernel of `op` needs (attention's packed
/// tiles), 0 for none.
int64_t kernelScratchBytes(mlir::Operation *op, const TargetDesc &target);

/// Bytes of workspace shared by the threads of one kernel (dense: packed
/// A), placed in the arena by the memory planner; 0 for none. Kernels with
/// a workspace get it as `float *ws`.
int64_t kernelWorkspaceBytes(mlir::Operation *op, const TargetDesc &target);

/// True for kernels with the failing signature (index checks).
bool kernelReportsErrors(mlir::Operation *op);

/// The run-time index checks of a failing kernel, in the order the kernel
/// numbers them in bad_index[1]: which operand holds indices, and the size
/// of the dimension they index.
struct IndexCheck {
  unsigned operand;
  int64_t dim;
};
std::vector<IndexCheck> indexChecks(mlir::Operation *op);

} // namespace canao

#endif // CANAO_CODEGEN_KERNELEMITTER_H
