//===- Pipeline.cpp - the canao pass pipeline -----------------------------===//
#include "Pipeline.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void canao::buildCanaoPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void canao::registerCanaoPasses() {
  PassPipelineRegistration<>("canao-pipeline",
                             "The passes canaoc runs before codegen",
                             buildCanaoPipeline);
}
