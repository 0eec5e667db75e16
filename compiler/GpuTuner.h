//===- GpuTuner.h - measured OpenCL geometry for this device ---*- C++ -*-===//
//
// `canaoc --target opencl --tune FILE` renders the model's kernel plan with
// each candidate geometry (GEMM tile per work-item, GEMM work-group, 1-D
// group size), builds each program on the OpenCL device canaoc finds (the
// same loader generated libraries use: runtime/canao/opencl.h), times whole
// runs of the model on it and writes the fastest as a tuning file;
// `--tuning FILE` compiles with it, byte for byte the same output.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_COMPILER_GPUTUNER_H
#define CANAO_COMPILER_GPUTUNER_H

#include "KernelPlan.h"
#include "Target.h"

#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace canao {

struct GpuTuning {
  std::string target, device;
  GpuDesc chosen;
  struct Candidate {
    GpuDesc gpu;
    double ms = 0; ///< median whole-model run, or < 0 when it failed
    std::string failure;
  };
  std::vector<Candidate> candidates;
};

/// Times every candidate geometry of `target` on this machine's OpenCL
/// device with the model of `plan` (weights of `weightBytes`, all 0.01f;
/// inputs all zero). Fails without a device, or when no candidate runs.
llvm::Expected<GpuTuning>
tuneOpenCL(const KernelPlan &plan, const TargetDesc &target,
           const std::function<void(const std::string &)> &step);

std::string gpuTuningToJson(const GpuTuning &t);

/// Parses and validates an OpenCL tuning file for `target`.
llvm::Expected<GpuDesc> readGpuTuning(const std::string &path,
                                      const TargetDesc &target);

} // namespace canao

#endif // CANAO_COMPILER_GPUTUNER_H
