//===- Compile.cpp - the phases of `canaoc MODEL -o OUT` ------------------===//
#include "Compile.h"

#include "passes/Passes.h"

#include "canao/runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"

namespace canao {

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importVerified(mlir::MLIRContext &context, OnnxModel &model,
               const ImportOptions &options) {
  auto module = importOnnxModel(context, model, options);
  if (!module)
    return module.takeError();
  if (mlir::failed(mlir::verify(**module)))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "internal error: the imported IR does not verify");
  return std::move(*module);
}

void addTargetPasses(mlir::PassManager &pm, const TargetDesc &target,
                     const TargetPassOptions &options) {
  TileOptions tile;
  tile.target = target.name;
  if (options.tuned) {
    tile.mr = target.gemmRows;
    tile.nr = target.gemmCols;
    tile.kc = target.gemmDepth;
    tile.pf = target.prefetchTilesLog2;
  }
  tile.l2 = target.l2Bytes;
  tile.lnSplit = options.lnSplit;
  pm.addNestedPass<mlir::func::FuncOp>(createTile(tile));

  SparseOptions sparse;
  sparse.target = target.name;
  sparse.disableSparse = options.denseOnly;
  if (options.tuned) {
    auto cost = [](const TargetDesc::SparseCost &c) {
      return llvm::formatv("{0:f3}:{1:f3}", c.fixed, c.perFlop).str();
    };
    sparse.bsrNCost = cost(target.bsrNCost);
    std::string costs;
    for (const TargetDesc::BsrKKernel &k : target.bsrKKernels)
      costs +=
          (costs.empty() ? "" : ",") + std::to_string(k.r) + ":" + cost(k.cost);
    sparse.bsrKCosts = costs;
  }
  pm.addNestedPass<mlir::func::FuncOp>(createSparse(sparse));
}

llvm::Expected<KernelPlan> planKernels(mlir::ModuleOp module,
                                       const TargetDesc *target,
                                       uint64_t maxBytes) {
  auto plan = buildKernelPlan(module, target);
  if (!plan)
    return plan.takeError();
  const uint64_t needed = static_cast<uint64_t>(plan->weightBytes) +
                          static_cast<uint64_t>(plan->arenaBytes);
  if (needed > maxBytes)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("the compiled model needs {0:f1} MB (weights {1:f1} "
                      "MB, arena {2:f1} MB), more than --max-memory ({3:f1} "
                      "MB)",
                      needed / 1e6, plan->weightBytes / 1e6,
                      plan->arenaBytes / 1e6, maxBytes / 1e6)
            .str());
  return std::move(*plan);
}

llvm::Expected<uint64_t> weightsChecksum(const KernelPlan &plan) {
  uint64_t checksum = canao_rt::kChecksumSeed;
  if (auto e = streamWeights(plan, [&](const char *data, size_t size) {
        checksum = canao_rt::checksum64(data, size, checksum);
      }))
    return std::move(e);
  return checksum;
}

} // namespace canao
