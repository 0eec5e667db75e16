//===- CostModel.h - FLOPs and bytes of a kernel ---------------*- C++ -*-===//
#ifndef CANAO_CODEGEN_COSTMODEL_H
#define CANAO_CODEGEN_COSTMODEL_H

#include "mlir/IR/Operation.h"

#include <cstdint>

namespace canao {

struct KernelCost {
  int64_t flops = 0; ///< multiply and add count separately
  int64_t bytes = 0; ///< operand and result bytes, each counted once
};

/// A first-order cost of the kernel computing `op` (for --report and the
/// tuner): GEMM-like work exactly, element-wise work by op count.
KernelCost kernelCost(mlir::Operation *op);

} // namespace canao

#endif // CANAO_CODEGEN_COSTMODEL_H
