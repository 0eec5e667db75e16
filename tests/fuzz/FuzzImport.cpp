//===- FuzzImport.cpp - libFuzzer target: an ONNX file through canaoc -----===//
//
// Runs the bytes through what `canaoc MODEL -o OUT` does before it writes,
// with canaoc's own phase functions (compiler/Compile.h): OnnxModel::parse,
// import and verification, the pass pipeline, tiling and the sparse
// analysis, the kernel plan, the weight checksum and a renderer (C++ or,
// chosen by a byte of the input, OpenCL C), all in memory. Any error is a
// correct answer; a crash, a sanitizer report, a leak or a hang is a bug.
//
// The custom mutator keeps most inputs valid ModelProtos (ModelMutator.h)
// and lets libFuzzer's byte mutations handle the rest.
//
//===----------------------------------------------------------------------===//
#include "ModelMutator.h"

#include "Compile.h"
#include "CppModelEmitter.h"
#include "passes/Pipeline.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <random>

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

namespace {

// What one input may ask for: the fuzzer's own RSS limit is 2 GB, and a
// model that needs more than this is refused the way canaoc --max-memory
// refuses it.
constexpr uint64_t kMaxMemory = uint64_t(256) << 20;

void compile(llvm::StringRef bytes, bool opencl) {
  // External data resolves against a folder with no files in it.
  auto model = canao::OnnxModel::parse(bytes, "/nonexistent-fuzz-dir");
  if (!model) {
    llvm::consumeError(model.takeError());
    return;
  }
  mlir::MLIRContext context;
  context.disableMultithreading();
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  // canaoc's phases (Compile.h), in its order.
  canao::ImportOptions options;
  options.maxBytes = kMaxMemory;
  auto module = canao::importVerified(context, **model, options);
  if (!module) {
    llvm::consumeError(module.takeError());
    return;
  }
  const canao::TargetDesc *target =
      canao::lookupTarget(opencl ? "opencl" : "generic");
  mlir::PassManager pm(&context);
  canao::buildCanaoPipeline(pm, {});
  canao::addTargetPasses(pm, *target, {});
  if (mlir::failed(pm.run(**module)))
    return;
  auto plan = canao::planKernels(**module, target, kMaxMemory);
  if (!plan) {
    llvm::consumeError(plan.takeError());
    return;
  }
  auto checksum = canao::weightsChecksum(*plan);
  if (!checksum) {
    llvm::consumeError(checksum.takeError());
    return;
  }
  canao::CppEmitOptions emit;
  emit.name = "fuzz";
  emit.modelFile = "fuzz.onnx";
  emit.compilerVersion = "fuzz";
  emit.target = target;
  emit.weightsChecksum = *checksum;
  auto files = canao::emitCppModel(*plan, emit);
  if (!files)
    llvm::consumeError(files.takeError());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  // Half of the inputs also go through the OpenCL renderer; the choice is a
  // function of the bytes, so a crash reproduces from its file.
  compile(bytes, size && (data[size / 2] & 1));
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned seed) {
  std::mt19937_64 rng(seed);
  onnx::ModelProto model;
  // A quarter of the time, or when the bytes are no ModelProto, mutate bytes
  // (corrupt protobuf is input too).
  if (rng() % 4 == 0 || !model.ParseFromArray(data, static_cast<int>(size)))
    return LLVMFuzzerMutate(data, size, maxSize);
  if (!canao::fuzz::mutateModel(model, rng))
    return LLVMFuzzerMutate(data, size, maxSize);
  std::string out;
  if (!model.SerializeToString(&out) || out.size() > maxSize)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
