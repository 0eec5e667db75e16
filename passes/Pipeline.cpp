//===- Pipeline.cpp - the canao pass pipeline -----------------------------===//
#include "Pipeline.h"
#include "Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

const std::vector<std::string> &canao::pipelinePassNames() {
  static const std::vector<std::string> names = {
      "canao-raise-layer-norm",     "canao-raise-dense",
      "canao-raise-embedding",      "canao-raise-attention",
      "canao-fold-attention-scale", "canao-merge-qkv",
      "canao-raise-gelu",           "canao-fuse-elementwise",
      "canao-fuse-epilogue"};
  return names;
}

void canao::buildCanaoPipeline(OpPassManager &pm,
                               const std::set<std::string> &disabled) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  OpPassManager &f = pm.nest<func::FuncOp>();
  if (!disabled.count("canao-raise-layer-norm"))
    f.addPass(createRaiseLayerNorm());
  if (!disabled.count("canao-raise-dense"))
    f.addPass(createRaiseDense());
  if (!disabled.count("canao-raise-embedding"))
    f.addPass(createRaiseEmbedding());
  if (!disabled.count("canao-raise-attention"))
    f.addPass(createRaiseAttention());
  if (!disabled.count("canao-fold-attention-scale"))
    f.addPass(createFoldAttentionScale());
  if (!disabled.count("canao-merge-qkv"))
    f.addPass(createMergeQkv());
  if (!disabled.count("canao-raise-gelu"))
    f.addPass(createRaiseGelu());
  if (!disabled.count("canao-fuse-elementwise"))
    f.addPass(createFuseElementwise());
  if (!disabled.count("canao-fuse-epilogue"))
    f.addPass(createFuseEpilogue());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void canao::registerAllCanaoPasses() {
  registerCanaoPasses();
  PassPipelineRegistration<>(
      "canao-pipeline", "The passes canaoc runs before codegen",
      [](OpPassManager &pm) { buildCanaoPipeline(pm, {}); });
}
