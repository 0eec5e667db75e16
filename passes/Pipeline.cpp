//===- Pipeline.cpp - the canao pass pipeline -----------------------------===//
#include "Pipeline.h"
#include "Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
/// The function passes of the pipeline, in order, by argument name.
struct PipelineEntry {
  const char *name;
  std::unique_ptr<Pass> (*create)();
};
const PipelineEntry kFuncPasses[] = {
    {"canao-raise-layer-norm", canao::createRaiseLayerNorm},
    {"canao-raise-dense", canao::createRaiseDense},
    {"canao-raise-embedding", canao::createRaiseEmbedding},
    {"canao-raise-attention", canao::createRaiseAttention},
    {"canao-fold-attention-scale", canao::createFoldAttentionScale},
    {"canao-merge-qkv", canao::createMergeQkv},
    {"canao-raise-gelu", canao::createRaiseGelu},
    {"canao-fuse-elementwise", canao::createFuseElementwise},
    {"canao-fuse-epilogue", canao::createFuseEpilogue},
};
} // namespace

const std::vector<std::string> &canao::pipelinePassNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const PipelineEntry &e : kFuncPasses)
      n.push_back(e.name);
    return n;
  }();
  return names;
}

void canao::buildCanaoPipeline(OpPassManager &pm,
                               const std::set<std::string> &disabled) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  OpPassManager &f = pm.nest<func::FuncOp>();
  for (const PipelineEntry &e : kFuncPasses)
    if (!disabled.count(e.name))
      f.addPass(e.create());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void canao::registerAllCanaoPasses() {
  registerCanaoPasses();
  PassPipelineRegistration<>(
      "canao-pipeline", "The passes canaoc runs before codegen",
      [](OpPassManager &pm) { buildCanaoPipeline(pm, {}); });
}
