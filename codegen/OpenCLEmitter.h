//===- OpenCLEmitter.h - a KernelPlan as OpenCL C 1.2 kernels --*- C++ -*-===//
//
// The OpenCL renderer: the same kernel plan as the C++ path (buffers,
// placement, order), rendered as one OpenCL C 1.2 program plus a launch
// table the generated host code walks (runtime/canao/opencl_model.h).
// Fused bodies and broadcast index arithmetic come from EmitSupport.h, as
// for C++; only the loop structure (one work-item per element, row, head
// or output tile) is OpenCL's own.
//
//===----------------------------------------------------------------------===//
#ifndef CANAO_CODEGEN_OPENCLEMITTER_H
#define CANAO_CODEGEN_OPENCLEMITTER_H

#include "KernelPlan.h"
#include "Target.h"

#include "canao/opencl_model.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace canao {

/// One clEnqueueNDRangeKernel: a kernel of the program over its buffers.
struct ClLaunch {
  std::string kernel;
  int dims = 1;
  int64_t global[2] = {1, 1}, local[2] = {1, 1};
  /// Plan buffer ids in the kernel's parameter order, each passed as a
  /// pointer and an element offset; kErrorBuffer is the run's int[3] error
  /// record (index checks).
  std::vector<int64_t> buffers;
  static constexpr int64_t kErrorBuffer = -1;
};

struct ClProgram {
  std::string source; ///< the whole program, as built (-cl-std=CL1.2)
  std::vector<ClLaunch> launches;
  /// One line per distinct kernel: name, geometry (for the report and docs).
  std::string geometry;
};

/// Renders `plan` for a target with a GpuDesc. Index checks are numbered
/// in plan order (kernels with kernelReportsErrors, then indexChecks), as
/// the C++ path numbers its messages: the error record holds that number
/// plus one and the offending value. Fails on an op with no OpenCL kernel.
llvm::Expected<ClProgram> emitOpenCL(const KernelPlan &plan,
                                     const TargetDesc &target);

/// The host tables of `program` as the runtime's structs
/// (runtime/canao/opencl_model.h): what the generated code holds as
/// constants, and what canaoc --tune runs directly.
struct ClHostTables {
  std::string source;
  std::vector<std::string> kernels; ///< storage of launches[i].kernel
  std::vector<canao_rt::ocl::ClLaunch> launches;
  std::vector<canao_rt::ocl::ClArg> args;
  std::vector<uint64_t> inputBytes;
  std::vector<canao_rt::ocl::ClOutput> outputs;
  canao_rt::ocl::ClModelDesc desc(uint64_t arenaBytes) const;
};
ClHostTables clHostTables(const KernelPlan &plan, const ClProgram &program);

/// C++ definitions of the generated host code's tables
/// (runtime/canao/opencl_model.h): kClSource, kClArgs, kClLaunches,
/// kClInputBytes, kClOutputs and kClDesc, the ClModelDesc over them.
std::string emitOpenCLTables(const KernelPlan &plan, const ClProgram &program);

/// `s` as a C string literal, one source line per literal.
std::string cStringLines(const std::string &s);

/// The build options of every program: OpenCL C 1.2 (PoCL 3.1 rejects
/// newer features in 1.2 mode, and phones' drivers are 1.2 or 2.0).
inline const char *openclBuildOptions() { return "-cl-std=CL1.2"; }

} // namespace canao

#endif // CANAO_CODEGEN_OPENCLEMITTER_H
