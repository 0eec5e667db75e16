// opencl_model.h - runs a generated model's OpenCL launch table.
//
// Part of the canao runtime, copied into libraries generated for an OpenCL
// target. The generated code gives the program source, the launch table
// (kernel, geometry, buffer arguments) and the buffer sizes; this file owns
// the device objects. Weights are uploaded once per context; activations
// live in one device arena at the offsets the memory planner chose; a run
// enqueues every kernel on one in-order queue and reads back only the error
// record and the outputs at the end. Nothing throws or aborts.
#ifndef CANAO_OPENCL_MODEL_H
#define CANAO_OPENCL_MODEL_H

#include "canao/canao_types.h"
#include "canao/opencl.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace canao_rt {
namespace ocl {

/// Where a kernel argument's buffer lives.
enum ClArgKind : uint8_t { kWeights, kArena, kInput, kError };

/// One buffer argument: passed as (cl_mem, int element offset).
struct ClArg {
  ClArgKind kind;
  uint32_t index;  ///< input number for kInput
  uint64_t offset; ///< in bytes
  uint32_t elem;   ///< element size in bytes (the offset's unit)
};

struct ClLaunch {
  const char *kernel;
  uint32_t dims;
  size_t global[2], local[2];
  uint32_t first_arg, num_args; ///< a range of the ClArg table
};

/// A model output: where its bytes are after a run.
struct ClOutput {
  ClArgKind kind;
  uint32_t index;
  uint64_t offset, bytes;
};

struct ClModelDesc {
  const char *source;
  const char *options;
  const ClLaunch *launches;
  size_t num_launches;
  const ClArg *args;
  uint64_t arena_bytes;
  const uint64_t *input_bytes;
  size_t num_inputs;
  const ClOutput *outputs;
  size_t num_outputs;
};

class ClModel {
public:
  ClModel() = default;
  ClModel(const ClModel &) = delete;
  ClModel &operator=(const ClModel &) = delete;
  ~ClModel() { close(); }

  /// Opens the device, uploads `weights`, builds (or loads from
  /// `cache_dir`) the program and binds every launch's arguments. On
  /// failure returns false with a one-line reason.
  bool open(const ClModelDesc &desc, const void *weights, size_t weight_bytes,
            const char *cache_dir, std::string &error) {
    close();
    desc_ = desc;
    if (!openDevice(dev_, error))
      return false;
    const Api &cl = *dev_.api;
    // Device buffers need a non-zero size.
    auto buffer = [&](cl_mem_flags flags, size_t bytes, const void *host) {
      return createBuffer(dev_, flags, bytes ? bytes : 64, host, error);
    };
    if (!(weights_ = buffer(CL_MEM_READ_ONLY |
                                (weight_bytes ? CL_MEM_COPY_HOST_PTR : 0),
                            weight_bytes, weight_bytes ? weights : nullptr)) ||
        !(arena_ = buffer(CL_MEM_READ_WRITE, desc.arena_bytes, nullptr)) ||
        !(error_ = buffer(CL_MEM_READ_WRITE, 3 * sizeof(int32_t), nullptr)))
      return fail(error);
    for (size_t i = 0; i < desc.num_inputs; ++i) {
      inputs_.push_back(buffer(CL_MEM_READ_ONLY, desc.input_bytes[i], nullptr));
      if (!inputs_.back())
        return fail(error);
    }
    BuildInfo info;
    program_ = buildProgram(dev_, desc.source, desc.options,
                            cache_dir ? cache_dir : "", info, error);
    if (!program_)
      return fail(error);
    build_ = info;
    for (size_t l = 0; l < desc.num_launches; ++l) {
      const ClLaunch &launch = desc.launches[l];
      cl_kernel k = createKernel(dev_, program_, launch.kernel, error);
      if (!k)
        return fail(error);
      kernels_.push_back(k);
      for (uint32_t a = 0; a < launch.num_args; ++a) {
        const ClArg &arg = desc.args[launch.first_arg + a];
        cl_mem mem = arg.kind == kWeights ? weights_
                     : arg.kind == kArena ? arena_
                     : arg.kind == kInput ? inputs_[arg.index]
                                          : error_;
        const int32_t offset = static_cast<int32_t>(arg.offset / arg.elem);
        cl_int e = cl.clSetKernelArg(k, 2 * a, sizeof mem, &mem);
        if (e == CL_SUCCESS && arg.kind != kError)
          e = cl.clSetKernelArg(k, 2 * a + 1, sizeof offset, &offset);
        if (!check(e, "clSetKernelArg", error))
          return fail(error);
      }
      // A device whose groups are smaller than the table's: let the driver
      // choose (the kernels bound-check every index).
      size_t group = launch.local[0] * launch.local[1], most = 0;
      if (cl.clGetKernelWorkGroupInfo(k, dev_.device, CL_KERNEL_WORK_GROUP_SIZE,
                                      sizeof most, &most,
                                      nullptr) != CL_SUCCESS ||
          group > most)
        driver_local_.push_back(true);
      else
        driver_local_.push_back(false);
    }
    return true;
  }

  /// Runs every launch on `inputs` (checked by the caller) and copies the
  /// outputs out. `bad` receives the error record: bad[0] is 0, or the
  /// failed index check's number plus one with the value in bad[1..2].
  bool run(const canao_tensor *inputs, canao_tensor *outputs, int32_t bad[3],
           std::string &error) {
    const Api &cl = *dev_.api;
    cl_command_queue q = dev_.queue;
    const int32_t zero[3] = {0, 0, 0};
    cl_int e = cl.clEnqueueWriteBuffer(q, error_, CL_FALSE, 0, sizeof zero,
                                       zero, 0, nullptr, nullptr);
    for (size_t i = 0; e == CL_SUCCESS && i < inputs_.size(); ++i)
      if (desc_.input_bytes[i])
        e = cl.clEnqueueWriteBuffer(q, inputs_[i], CL_FALSE, 0,
                                    desc_.input_bytes[i], inputs[i].data, 0,
                                    nullptr, nullptr);
    if (!check(e, "clEnqueueWriteBuffer", error))
      return false;
    for (size_t l = 0; l < desc_.num_launches; ++l) {
      const ClLaunch &launch = desc_.launches[l];
      e = cl.clEnqueueNDRangeKernel(
          q, kernels_[l], launch.dims, nullptr, launch.global,
          driver_local_[l] ? nullptr : launch.local, 0, nullptr, nullptr);
      if (e != CL_SUCCESS) {
        error = std::string("clEnqueueNDRangeKernel(") + launch.kernel +
                ") failed: " + errorName(e);
        return false;
      }
    }
    // Blocking: waits for every kernel; then the outputs, only if no
    // index check failed.
    e = cl.clEnqueueReadBuffer(q, error_, CL_TRUE, 0, 3 * sizeof(int32_t), bad,
                               0, nullptr, nullptr);
    if (!check(e, "reading the error record", error))
      return false;
    if (bad[0] != 0)
      return true;
    for (size_t o = 0; o < desc_.num_outputs; ++o) {
      const ClOutput &out = desc_.outputs[o];
      cl_mem mem = out.kind == kWeights ? weights_
                   : out.kind == kArena ? arena_
                                        : inputs_[out.index];
      if (out.bytes)
        e = cl.clEnqueueReadBuffer(q, mem, CL_FALSE, out.offset, out.bytes,
                                   outputs[o].data, 0, nullptr, nullptr);
      if (!check(e, "clEnqueueReadBuffer", error))
        return false;
    }
    return check(cl.clFinish(q), "clFinish", error);
  }

  const Device &device() const { return dev_; }
  const BuildInfo &build_info() const { return build_; }

  void close() {
    if (!dev_.api) {
      closeDevice(dev_);
      return;
    }
    const Api &cl = *dev_.api;
    if (dev_.queue)
      cl.clFinish(dev_.queue);
    for (cl_kernel k : kernels_)
      cl.clReleaseKernel(k);
    kernels_.clear();
    driver_local_.clear();
    if (program_)
      cl.clReleaseProgram(program_);
    program_ = nullptr;
    for (cl_mem m : inputs_)
      if (m)
        cl.clReleaseMemObject(m);
    inputs_.clear();
    for (cl_mem *m : {&weights_, &arena_, &error_})
      if (*m)
        cl.clReleaseMemObject(*m), *m = nullptr;
    closeDevice(dev_);
  }

private:
  bool fail(const std::string &) {
    close();
    return false;
  }

  ClModelDesc desc_{};
  Device dev_;
  BuildInfo build_{};
  cl_mem weights_ = nullptr, arena_ = nullptr, error_ = nullptr;
  std::vector<cl_mem> inputs_;
  cl_program program_ = nullptr;
  std::vector<cl_kernel> kernels_;
  std::vector<bool> driver_local_;
};

} // namespace ocl
} // namespace canao_rt

#endif // CANAO_OPENCL_MODEL_H
