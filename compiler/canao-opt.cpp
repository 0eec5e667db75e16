//===- canao-opt.cpp - run canao passes on .mlir text ---------------------===//
#include "Canao/CanaoDialect.h"
#include "passes/Pipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  canao::registerAllCanaoPasses();
  mlir::DialectRegistry registry;
  registry.insert<canao::CanaoDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "canao optimizer driver\n", registry));
}
