// opencl.h - an OpenCL 1.2 host layer that loads the driver at run time.
//
// Header-only. Depends on the C++17 standard library and POSIX dlopen only:
// phones ship libOpenCL.so (or a Mali GLES driver exporting the same
// symbols) in vendor paths that nothing can link against at build time, and
// a generated library must still load where there is no OpenCL at all. So
// the few Khronos types, constants and entry points used are declared here
// with the values of <CL/cl.h>, and the entry points are found with dlsym.
//
// Nothing here throws or aborts: a failure returns false or nullptr and a
// message in a std::string.
#ifndef CANAO_OPENCL_H
#define CANAO_OPENCL_H

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <dlfcn.h>

// The opaque handle types at global scope, spelled as in <CL/cl.h>, so that
// code including both headers sees one type per handle.
struct _cl_platform_id;
struct _cl_device_id;
struct _cl_context;
struct _cl_command_queue;
struct _cl_mem;
struct _cl_program;
struct _cl_kernel;
struct _cl_event;

namespace canao_rt::ocl {

using cl_int = int32_t;
using cl_uint = uint32_t;
using cl_ulong = uint64_t;
using cl_bool = cl_uint;
using cl_bitfield = cl_ulong;
using cl_device_type = cl_bitfield;
using cl_mem_flags = cl_bitfield;
using cl_map_flags = cl_bitfield;
using cl_command_queue_properties = cl_bitfield;
using cl_context_properties = intptr_t;
using cl_platform_info = cl_uint;
using cl_device_info = cl_uint;
using cl_mem_info = cl_uint;
using cl_buffer_create_type = cl_uint;
using cl_program_info = cl_uint;
using cl_program_build_info = cl_uint;
using cl_kernel_work_group_info = cl_uint;
using cl_profiling_info = cl_uint;

using cl_platform_id = _cl_platform_id *;
using cl_device_id = _cl_device_id *;
using cl_context = _cl_context *;
using cl_command_queue = _cl_command_queue *;
using cl_mem = _cl_mem *;
using cl_program = _cl_program *;
using cl_kernel = _cl_kernel *;
using cl_event = _cl_event *;

// The create info of clCreateSubBuffer(CL_BUFFER_CREATE_TYPE_REGION).
struct cl_buffer_region {
  size_t origin;
  size_t size;
};

// The error codes: X(name, value).
#define CANAO_OCL_ERRORS(X)                                                    \
  X(CL_SUCCESS, 0)                                                             \
  X(CL_DEVICE_NOT_FOUND, -1)                                                   \
  X(CL_DEVICE_NOT_AVAILABLE, -2)                                               \
  X(CL_COMPILER_NOT_AVAILABLE, -3)                                             \
  X(CL_MEM_OBJECT_ALLOCATION_FAILURE, -4)                                      \
  X(CL_OUT_OF_RESOURCES, -5)                                                   \
  X(CL_OUT_OF_HOST_MEMORY, -6)                                                 \
  X(CL_PROFILING_INFO_NOT_AVAILABLE, -7)                                       \
  X(CL_BUILD_PROGRAM_FAILURE, -11)                                             \
  X(CL_MAP_FAILURE, -12)                                                       \
  X(CL_MISALIGNED_SUB_BUFFER_OFFSET, -13)                                      \
  X(CL_COMPILE_PROGRAM_FAILURE, -15)                                           \
  X(CL_LINK_PROGRAM_FAILURE, -17)                                              \
  X(CL_INVALID_VALUE, -30)                                                     \
  X(CL_INVALID_DEVICE_TYPE, -31)                                               \
  X(CL_INVALID_PLATFORM, -32)                                                  \
  X(CL_INVALID_DEVICE, -33)                                                    \
  X(CL_INVALID_CONTEXT, -34)                                                   \
  X(CL_INVALID_QUEUE_PROPERTIES, -35)                                          \
  X(CL_INVALID_COMMAND_QUEUE, -36)                                             \
  X(CL_INVALID_HOST_PTR, -37)                                                  \
  X(CL_INVALID_MEM_OBJECT, -38)                                                \
  X(CL_INVALID_BINARY, -42)                                                    \
  X(CL_INVALID_BUILD_OPTIONS, -43)                                             \
  X(CL_INVALID_PROGRAM, -44)                                                   \
  X(CL_INVALID_PROGRAM_EXECUTABLE, -45)                                        \
  X(CL_INVALID_KERNEL_NAME, -46)                                               \
  X(CL_INVALID_KERNEL_DEFINITION, -47)                                         \
  X(CL_INVALID_KERNEL, -48)                                                    \
  X(CL_INVALID_ARG_INDEX, -49)                                                 \
  X(CL_INVALID_ARG_VALUE, -50)                                                 \
  X(CL_INVALID_ARG_SIZE, -51)                                                  \
  X(CL_INVALID_KERNEL_ARGS, -52)                                               \
  X(CL_INVALID_WORK_DIMENSION, -53)                                            \
  X(CL_INVALID_WORK_GROUP_SIZE, -54)                                           \
  X(CL_INVALID_WORK_ITEM_SIZE, -55)                                            \
  X(CL_INVALID_GLOBAL_OFFSET, -56)                                             \
  X(CL_INVALID_EVENT_WAIT_LIST, -57)                                           \
  X(CL_INVALID_EVENT, -58)                                                     \
  X(CL_INVALID_OPERATION, -59)                                                 \
  X(CL_INVALID_BUFFER_SIZE, -61)                                               \
  X(CL_INVALID_GLOBAL_WORK_SIZE, -63)                                          \
  X(CL_INVALID_PROPERTY, -64)                                                  \
  X(CL_INVALID_COMPILER_OPTIONS, -66)                                          \
  X(CL_INVALID_LINKER_OPTIONS, -67)

// <CL/cl.h> defines these as macros; if it came first, use its.
#ifndef CL_SUCCESS
#define CANAO_OCL_CONSTANT(name, value) inline constexpr cl_int name = value;
CANAO_OCL_ERRORS(CANAO_OCL_CONSTANT)
#undef CANAO_OCL_CONSTANT

inline constexpr cl_bool CL_FALSE = 0;
inline constexpr cl_bool CL_TRUE = 1;

inline constexpr cl_platform_info CL_PLATFORM_VERSION = 0x0901;
inline constexpr cl_platform_info CL_PLATFORM_NAME = 0x0902;
inline constexpr cl_platform_info CL_PLATFORM_VENDOR = 0x0903;

inline constexpr cl_device_type CL_DEVICE_TYPE_DEFAULT = 1 << 0;
inline constexpr cl_device_type CL_DEVICE_TYPE_CPU = 1 << 1;
inline constexpr cl_device_type CL_DEVICE_TYPE_GPU = 1 << 2;
inline constexpr cl_device_type CL_DEVICE_TYPE_ACCELERATOR = 1 << 3;
inline constexpr cl_device_type CL_DEVICE_TYPE_ALL = 0xFFFFFFFF;

inline constexpr cl_device_info CL_DEVICE_TYPE = 0x1000;
inline constexpr cl_device_info CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002;
inline constexpr cl_device_info CL_DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
inline constexpr cl_device_info CL_DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010;
inline constexpr cl_device_info CL_DEVICE_MEM_BASE_ADDR_ALIGN = 0x1019;
inline constexpr cl_device_info CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F;
inline constexpr cl_device_info CL_DEVICE_LOCAL_MEM_SIZE = 0x1023;
inline constexpr cl_device_info CL_DEVICE_NAME = 0x102B;
inline constexpr cl_device_info CL_DEVICE_VENDOR = 0x102C;
inline constexpr cl_device_info CL_DRIVER_VERSION = 0x102D;
inline constexpr cl_device_info CL_DEVICE_VERSION = 0x102F;
inline constexpr cl_device_info CL_DEVICE_EXTENSIONS = 0x1030;

inline constexpr cl_command_queue_properties CL_QUEUE_PROFILING_ENABLE = 1 << 1;
inline constexpr cl_context_properties CL_CONTEXT_PLATFORM = 0x1084;

inline constexpr cl_mem_flags CL_MEM_READ_WRITE = 1 << 0;
inline constexpr cl_mem_flags CL_MEM_WRITE_ONLY = 1 << 1;
inline constexpr cl_mem_flags CL_MEM_READ_ONLY = 1 << 2;
inline constexpr cl_mem_flags CL_MEM_USE_HOST_PTR = 1 << 3;
inline constexpr cl_mem_flags CL_MEM_ALLOC_HOST_PTR = 1 << 4;
inline constexpr cl_mem_flags CL_MEM_COPY_HOST_PTR = 1 << 5;
inline constexpr cl_map_flags CL_MAP_READ = 1 << 0;
inline constexpr cl_map_flags CL_MAP_WRITE = 1 << 1;
inline constexpr cl_mem_info CL_MEM_SIZE = 0x1102;
inline constexpr cl_buffer_create_type CL_BUFFER_CREATE_TYPE_REGION = 0x1220;

inline constexpr cl_program_info CL_PROGRAM_BINARY_SIZES = 0x1165;
inline constexpr cl_program_info CL_PROGRAM_BINARIES = 0x1166;
inline constexpr cl_program_build_info CL_PROGRAM_BUILD_STATUS = 0x1181;
inline constexpr cl_program_build_info CL_PROGRAM_BUILD_LOG = 0x1183;
inline constexpr cl_kernel_work_group_info CL_KERNEL_WORK_GROUP_SIZE = 0x11B0;
inline constexpr cl_kernel_work_group_info
    CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE = 0x11B3;

inline constexpr cl_profiling_info CL_PROFILING_COMMAND_QUEUED = 0x1280;
inline constexpr cl_profiling_info CL_PROFILING_COMMAND_SUBMIT = 0x1281;
inline constexpr cl_profiling_info CL_PROFILING_COMMAND_START = 0x1282;
inline constexpr cl_profiling_info CL_PROFILING_COMMAND_END = 0x1283;
#endif
#ifndef CL_PLATFORM_NOT_FOUND_KHR
// From cl_khr_icd: what an ICD loader returns when it finds no driver.
inline constexpr cl_int CL_PLATFORM_NOT_FOUND_KHR = -1001;
#endif

// Callbacks, and below the entry points, have C language linkage.
extern "C" {
typedef void (*ContextNotify)(const char *, const void *, size_t, void *);
typedef void (*BuildNotify)(cl_program, void *);
}

// Every entry point used: X(return type, name, parameter list). A library
// must export all of them to be used (all are OpenCL 1.2 core).
#define CANAO_OCL_FUNCTIONS(X)                                                 \
  X(cl_int, clGetPlatformIDs, (cl_uint, cl_platform_id *, cl_uint *))          \
  X(cl_int, clGetPlatformInfo,                                                 \
    (cl_platform_id, cl_platform_info, size_t, void *, size_t *))              \
  X(cl_int, clGetDeviceIDs,                                                    \
    (cl_platform_id, cl_device_type, cl_uint, cl_device_id *, cl_uint *))      \
  X(cl_int, clGetDeviceInfo,                                                   \
    (cl_device_id, cl_device_info, size_t, void *, size_t *))                  \
  X(cl_context, clCreateContext,                                               \
    (const cl_context_properties *, cl_uint, const cl_device_id *,             \
     ContextNotify, void *, cl_int *))                                         \
  X(cl_int, clReleaseContext, (cl_context))                                    \
  X(cl_command_queue, clCreateCommandQueue,                                    \
    (cl_context, cl_device_id, cl_command_queue_properties, cl_int *))         \
  X(cl_int, clReleaseCommandQueue, (cl_command_queue))                         \
  X(cl_mem, clCreateBuffer,                                                    \
    (cl_context, cl_mem_flags, size_t, void *, cl_int *))                      \
  X(cl_mem, clCreateSubBuffer,                                                 \
    (cl_mem, cl_mem_flags, cl_buffer_create_type, const void *, cl_int *))     \
  X(cl_int, clRetainMemObject, (cl_mem))                                       \
  X(cl_int, clReleaseMemObject, (cl_mem))                                      \
  X(cl_int, clGetMemObjectInfo,                                                \
    (cl_mem, cl_mem_info, size_t, void *, size_t *))                           \
  X(cl_int, clEnqueueWriteBuffer,                                              \
    (cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint, \
     const cl_event *, cl_event *))                                            \
  X(cl_int, clEnqueueReadBuffer,                                               \
    (cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *, cl_uint,       \
     const cl_event *, cl_event *))                                            \
  X(cl_int, clEnqueueCopyBuffer,                                               \
    (cl_command_queue, cl_mem, cl_mem, size_t, size_t, size_t, cl_uint,        \
     const cl_event *, cl_event *))                                            \
  X(cl_int, clEnqueueFillBuffer,                                               \
    (cl_command_queue, cl_mem, const void *, size_t, size_t, size_t, cl_uint,  \
     const cl_event *, cl_event *))                                            \
  X(void *, clEnqueueMapBuffer,                                                \
    (cl_command_queue, cl_mem, cl_bool, cl_map_flags, size_t, size_t, cl_uint, \
     const cl_event *, cl_event *, cl_int *))                                  \
  X(cl_int, clEnqueueUnmapMemObject,                                           \
    (cl_command_queue, cl_mem, void *, cl_uint, const cl_event *, cl_event *)) \
  X(cl_program, clCreateProgramWithSource,                                     \
    (cl_context, cl_uint, const char **, const size_t *, cl_int *))            \
  X(cl_program, clCreateProgramWithBinary,                                     \
    (cl_context, cl_uint, const cl_device_id *, const size_t *,                \
     const unsigned char **, cl_int *, cl_int *))                              \
  X(cl_int, clBuildProgram,                                                    \
    (cl_program, cl_uint, const cl_device_id *, const char *, BuildNotify,     \
     void *))                                                                  \
  X(cl_int, clGetProgramInfo,                                                  \
    (cl_program, cl_program_info, size_t, void *, size_t *))                   \
  X(cl_int, clGetProgramBuildInfo,                                             \
    (cl_program, cl_device_id, cl_program_build_info, size_t, void *,          \
     size_t *))                                                                \
  X(cl_int, clReleaseProgram, (cl_program))                                    \
  X(cl_kernel, clCreateKernel, (cl_program, const char *, cl_int *))           \
  X(cl_int, clCreateKernelsInProgram,                                          \
    (cl_program, cl_uint, cl_kernel *, cl_uint *))                             \
  X(cl_int, clRetainKernel, (cl_kernel))                                       \
  X(cl_int, clReleaseKernel, (cl_kernel))                                      \
  X(cl_int, clSetKernelArg, (cl_kernel, cl_uint, size_t, const void *))        \
  X(cl_int, clGetKernelWorkGroupInfo,                                          \
    (cl_kernel, cl_device_id, cl_kernel_work_group_info, size_t, void *,       \
     size_t *))                                                                \
  X(cl_int, clEnqueueNDRangeKernel,                                            \
    (cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *,     \
     const size_t *, cl_uint, const cl_event *, cl_event *))                   \
  X(cl_int, clEnqueueMarkerWithWaitList,                                       \
    (cl_command_queue, cl_uint, const cl_event *, cl_event *))                 \
  X(cl_int, clEnqueueBarrierWithWaitList,                                      \
    (cl_command_queue, cl_uint, const cl_event *, cl_event *))                 \
  X(cl_int, clFlush, (cl_command_queue))                                       \
  X(cl_int, clFinish, (cl_command_queue))                                      \
  X(cl_int, clWaitForEvents, (cl_uint, const cl_event *))                      \
  X(cl_int, clGetEventProfilingInfo,                                           \
    (cl_event, cl_profiling_info, size_t, void *, size_t *))                   \
  X(cl_int, clRetainEvent, (cl_event))                                         \
  X(cl_int, clReleaseEvent, (cl_event))

// clFinish_fn etc.: the pointer types, with C linkage.
extern "C" {
#define CANAO_OCL_TYPEDEF(ret, name, params) typedef ret(*name##_fn) params;
CANAO_OCL_FUNCTIONS(CANAO_OCL_TYPEDEF)
#undef CANAO_OCL_TYPEDEF
}

// The loaded entry points: api->clFinish(queue).
struct Api {
#define CANAO_OCL_MEMBER(ret, name, params) name##_fn name = nullptr;
  CANAO_OCL_FUNCTIONS(CANAO_OCL_MEMBER)
#undef CANAO_OCL_MEMBER
  void *library = nullptr; // the dlopen handle, never closed
  std::string path;        // the name it was opened by
};

// "CL_INVALID_WORK_GROUP_SIZE", or "OpenCL error N" for a code not listed.
inline const char *errorName(cl_int code) {
  switch (code) {
#define CANAO_OCL_CASE(name, value)                                            \
  case name:                                                                   \
    return #name;
    CANAO_OCL_ERRORS(CANAO_OCL_CASE)
    CANAO_OCL_CASE(CL_PLATFORM_NOT_FOUND_KHR, -1001)
#undef CANAO_OCL_CASE
  }
  static thread_local char buf[32];
  std::snprintf(buf, sizeof buf, "OpenCL error %d", static_cast<int>(code));
  return buf;
}

// False, and error = "what failed: CL_...", unless code is CL_SUCCESS.
inline bool check(cl_int code, const char *what, std::string &error) {
  if (code == CL_SUCCESS)
    return true;
  error = std::string(what) + " failed: " + errorName(code);
  return false;
}

namespace detail {

struct Loaded {
  Api api;
  bool ok = false;
  std::string error;
};

// Opens `path`; true if it exports every entry point. If it opens but
// lacks one, `lacks` names it and the library is closed again.
inline bool openLibrary(const char *path, Api &api, std::string &lacks,
                        std::string &dlError) {
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *e = dlerror();
    dlError = e ? e : "dlopen failed";
    return false;
  }
  // The pointer types are equal in size on every POSIX target; memcpy
  // avoids the object-to-function pointer cast that -Wpedantic flags.
  static_assert(sizeof(void *) == sizeof(clFinish_fn), "dlsym pointer size");
  Api loaded;
#define CANAO_OCL_LOOKUP(ret, name, params)                                    \
  if (lacks.empty()) {                                                         \
    void *sym = dlsym(lib, #name);                                             \
    if (sym)                                                                   \
      std::memcpy(&loaded.name, &sym, sizeof sym);                             \
    else                                                                       \
      lacks = std::string(path) + " lacks " #name;                             \
  }
  CANAO_OCL_FUNCTIONS(CANAO_OCL_LOOKUP)
#undef CANAO_OCL_LOOKUP
  if (!lacks.empty()) {
    dlclose(lib);
    return false;
  }
  loaded.library = lib;
  loaded.path = path;
  api = loaded;
  return true;
}

inline Loaded load() {
  Loaded out;
  // $CANAO_OPENCL_LIBRARY, when set, is the only candidate: it lets a
  // user pin a driver, and a test force "no library".
  const char *forced = std::getenv("CANAO_OPENCL_LIBRARY");
  if (forced && *forced) {
    std::string lacks, dlError;
    if (openLibrary(forced, out.api, lacks, dlError)) {
      out.ok = true;
      return out;
    }
    out.error = !lacks.empty() ? lacks
                               : "no OpenCL library (CANAO_OPENCL_LIBRARY=" +
                                     std::string(forced) + ": " + dlError + ")";
    return out;
  }
#if defined(__LP64__)
#define CANAO_OCL_LIB "lib64"
#else
#define CANAO_OCL_LIB "lib"
#endif
  // Desktop ICD loaders first (Debian's runtime package ships only .so.1),
  // then where Android vendors put the driver.
  static const char *const kCandidates[] = {
      "libOpenCL.so",
      "libOpenCL.so.1",
      "/system/vendor/" CANAO_OCL_LIB "/libOpenCL.so",
      "/vendor/" CANAO_OCL_LIB "/libOpenCL.so",
      "/system/" CANAO_OCL_LIB "/libOpenCL.so",
      "/system/vendor/" CANAO_OCL_LIB "/egl/libGLES_mali.so",
      "/vendor/" CANAO_OCL_LIB "/egl/libGLES_mali.so",
      "libGLES_mali.so",
  };
#undef CANAO_OCL_LIB
  std::string tried, firstLack;
  for (const char *path : kCandidates) {
    std::string lacks, dlError;
    if (openLibrary(path, out.api, lacks, dlError)) {
      out.ok = true;
      return out;
    }
    if (firstLack.empty())
      firstLack = lacks;
    tried += tried.empty() ? path : std::string(", ") + path;
  }
  out.error = firstLack.empty() ? "no OpenCL library (tried " + tried + ")"
                                : firstLack + " (tried " + tried + ")";
  return out;
}

} // namespace detail

// The process-wide entry points, loaded on first use (thread-safe); null,
// with `error` set, if no library has them all. The outcome is cached, a
// failure included: later changes to the environment are not seen.
inline const Api *loadOpenCL(std::string &error) {
  // Never freed, so that static destructors releasing OpenCL objects at
  // exit still find the table.
  static const detail::Loaded *const loaded =
      new (std::nothrow) detail::Loaded(detail::load());
  if (!loaded || !loaded->ok) {
    error = loaded ? loaded->error : "out of memory loading OpenCL";
    return nullptr;
  }
  return &loaded->api;
}

// One device with its context and in-order queue (no profiling).
struct Device {
  const Api *api = nullptr;
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;
  std::string name, driver, version;
  uint64_t maxWorkGroup = 0; // work items per group
  uint64_t memBaseAlign = 0; // bytes (the query reports bits)
  uint64_t globalMem = 0;    // bytes
};

// Releases the queue and context; safe on a partly opened or closed Device.
inline void closeDevice(Device &d) {
  if (d.api) {
    if (d.queue)
      d.api->clReleaseCommandQueue(d.queue);
    if (d.context)
      d.api->clReleaseContext(d.context);
  }
  d = Device{};
}

namespace detail {

inline std::string deviceString(const Api &api, cl_device_id dev,
                                cl_device_info param) {
  size_t size = 0;
  if (api.clGetDeviceInfo(dev, param, 0, nullptr, &size) != CL_SUCCESS ||
      size == 0)
    return std::string();
  std::string s(size, '\0');
  if (api.clGetDeviceInfo(dev, param, size, &s[0], nullptr) != CL_SUCCESS)
    return std::string();
  s.resize(std::strlen(s.c_str())); // drop the terminator
  return s;
}

template <typename T>
inline uint64_t deviceNumber(const Api &api, cl_device_id dev,
                             cl_device_info param) {
  T value = 0;
  if (api.clGetDeviceInfo(dev, param, sizeof value, &value, nullptr) !=
      CL_SUCCESS)
    return 0;
  return static_cast<uint64_t>(value);
}

} // namespace detail

// Opens the first GPU over all platforms or, with no GPU anywhere, the first
// device of any type (PoCL's CPU device, on which the tests run). A Device
// already open is closed first; on failure `d` is left closed.
inline bool openDevice(Device &d, std::string &error) {
  closeDevice(d);
  const Api *api = loadOpenCL(error);
  if (!api)
    return false;
  auto fail = [&](const std::string &message) {
    closeDevice(d);
    error = message;
    return false;
  };
  cl_uint count = 0;
  cl_int err = api->clGetPlatformIDs(0, nullptr, &count);
  if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && count == 0))
    return fail("no OpenCL platform");
  if (err != CL_SUCCESS)
    return fail(std::string("clGetPlatformIDs failed: ") + errorName(err));
  std::vector<cl_platform_id> platforms(count);
  err = api->clGetPlatformIDs(count, platforms.data(), &count);
  if (err != CL_SUCCESS)
    return fail(std::string("clGetPlatformIDs failed: ") + errorName(err));
  platforms.resize(count);
  d.api = api;
  const cl_device_type types[] = {CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_ALL};
  for (cl_device_type type : types) {
    for (cl_platform_id p : platforms) {
      cl_device_id dev = nullptr;
      cl_uint n = 0;
      // CL_DEVICE_NOT_FOUND just means this platform has none of `type`.
      if (api->clGetDeviceIDs(p, type, 1, &dev, &n) == CL_SUCCESS && n > 0 &&
          dev) {
        d.platform = p;
        d.device = dev;
        break;
      }
    }
    if (d.device)
      break;
  }
  if (!d.device)
    return fail("no OpenCL device");
  d.name = detail::deviceString(*api, d.device, CL_DEVICE_NAME);
  d.driver = detail::deviceString(*api, d.device, CL_DRIVER_VERSION);
  d.version = detail::deviceString(*api, d.device, CL_DEVICE_VERSION);
  d.maxWorkGroup = detail::deviceNumber<size_t>(*api, d.device,
                                                CL_DEVICE_MAX_WORK_GROUP_SIZE);
  d.memBaseAlign = detail::deviceNumber<cl_uint>(
                       *api, d.device, CL_DEVICE_MEM_BASE_ADDR_ALIGN) /
                   8;
  d.globalMem =
      detail::deviceNumber<cl_ulong>(*api, d.device, CL_DEVICE_GLOBAL_MEM_SIZE);

  const cl_context_properties props[] = {
      CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(d.platform),
      0};
  d.context = api->clCreateContext(props, 1, &d.device, nullptr, nullptr, &err);
  if (err != CL_SUCCESS || !d.context)
    return fail("clCreateContext failed on " + d.name + ": " + errorName(err));
  d.queue = api->clCreateCommandQueue(d.context, d.device, 0, &err);
  if (err != CL_SUCCESS || !d.queue)
    return fail("clCreateCommandQueue failed on " + d.name + ": " +
                errorName(err));
  return true;
}

// The build log of `program` on the device ("" if none).
inline std::string buildLog(const Device &d, cl_program program) {
  size_t size = 0;
  if (!d.api || !program ||
      d.api->clGetProgramBuildInfo(program, d.device, CL_PROGRAM_BUILD_LOG, 0,
                                   nullptr, &size) != CL_SUCCESS ||
      size == 0)
    return std::string();
  std::string log(size, '\0');
  if (d.api->clGetProgramBuildInfo(program, d.device, CL_PROGRAM_BUILD_LOG,
                                   size, &log[0], nullptr) != CL_SUCCESS)
    return std::string();
  log.resize(std::strlen(log.c_str()));
  return log;
}

// What buildProgram did. cacheNote says why a cache entry was not used
// and, after a "; ", why none could be written ("" if the entry was used).
struct BuildInfo {
  bool fromCache = false;    // built from a cached binary
  bool cacheWritten = false; // a new cache entry was written
  double seconds = 0;        // wall time of the whole call
  std::string cachePath;     // the entry's file ("" without a cache dir)
  std::string cacheNote;
};

// Cache entry layout (host byte order, little-endian on every target):
//   0  char[8]  magic "CANAOCLB"
//   8  uint32   format version
//  12  uint64   key (the name's 16 hex digits)
//  20  uint64   binary bytes
//  28  uint64   fnv1a64 of the binary
//  36  ...      the binary (CL_PROGRAM_BINARIES)
inline constexpr char kCacheMagic[8] = {'C', 'A', 'N', 'A', 'O', 'C', 'L', 'B'};
inline constexpr uint32_t kCacheVersion = 1;
inline constexpr size_t kCacheHeaderBytes = 36;

inline constexpr uint64_t kFnvSeed = 14695981039346656037ull;
inline uint64_t fnv1a64(const void *data, size_t size, uint64_t h = kFnvSeed) {
  const unsigned char *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

namespace detail {

// Each field goes in with its length, so that ("ab", "c") != ("a", "bc").
inline uint64_t hashField(uint64_t h, const std::string &s) {
  const uint64_t n = s.size();
  h = fnv1a64(&n, sizeof n, h);
  return fnv1a64(s.data(), s.size(), h);
}

// The binary of a program depends on all of these (and, on a CPU device,
// on the host ABI); a driver update changes the driver or device version
// and so the key.
inline uint64_t cacheKey(const Device &d, const std::string &source,
                         const std::string &options) {
  const uint32_t prefix[2] = {kCacheVersion, sizeof(void *)};
  uint64_t h = fnv1a64(prefix, sizeof prefix);
  for (const std::string *s :
       {&source, &options, &d.name, &d.version, &d.driver})
    h = hashField(h, *s);
  return h;
}

inline std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The whole entry, if its header matches `key` and its binary its checksum.
inline bool readCacheEntry(const std::string &path, uint64_t key,
                           std::vector<unsigned char> &bytes,
                           std::string &note) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    note = "no cache entry";
    return false;
  }
  constexpr size_t kChunk = size_t(1) << 16;
  size_t n = 0;
  do {
    const size_t used = bytes.size();
    bytes.resize(used + kChunk);
    n = std::fread(bytes.data() + used, 1, kChunk, f);
    bytes.resize(used + n);
  } while (n == kChunk);
  const bool readError = std::ferror(f) != 0;
  std::fclose(f);
  uint32_t version = 0;
  uint64_t storedKey = 0, size = 0, sum = 0;
  if (readError)
    note = "cannot read the cache entry";
  else if (bytes.size() < kCacheHeaderBytes)
    note = "cache entry truncated";
  else if (std::memcmp(bytes.data(), kCacheMagic, sizeof kCacheMagic) != 0)
    note = "cache entry has a bad magic";
  if (!note.empty())
    return false;
  std::memcpy(&version, &bytes[8], 4);
  std::memcpy(&storedKey, &bytes[12], 8);
  std::memcpy(&size, &bytes[20], 8);
  std::memcpy(&sum, &bytes[28], 8);
  if (version != kCacheVersion)
    note = "cache entry has format version " + std::to_string(version);
  else if (storedKey != key)
    note = "cache entry has another key";
  else if (size == 0 || size != bytes.size() - kCacheHeaderBytes)
    note = "cache entry size mismatch";
  else if (fnv1a64(&bytes[kCacheHeaderBytes], size) != sum)
    note = "cache entry checksum mismatch";
  return note.empty();
}

inline cl_program buildFromBinary(const Device &d,
                                  const std::vector<unsigned char> &entry,
                                  const std::string &options,
                                  std::string &note) {
  const unsigned char *binary = entry.data() + kCacheHeaderBytes;
  const size_t size = entry.size() - kCacheHeaderBytes;
  cl_int status = CL_SUCCESS, err = CL_SUCCESS;
  cl_program p = d.api->clCreateProgramWithBinary(
      d.context, 1, &d.device, &size, &binary, &status, &err);
  if (err == CL_SUCCESS && status != CL_SUCCESS)
    err = status;
  if (err == CL_SUCCESS && p)
    err = d.api->clBuildProgram(p, 1, &d.device, options.c_str(), nullptr,
                                nullptr);
  if (err == CL_SUCCESS && p)
    return p;
  if (p)
    d.api->clReleaseProgram(p);
  note = std::string("cached binary rejected: ") + errorName(err);
  return nullptr;
}

// Writes the program's binary as the entry at `path`: to a fresh temporary
// in the same directory, then renamed over `path`, so a reader sees the old
// entry or the new one, never part of one. (No fsync: a file torn by a
// power loss fails its checksum and is rebuilt.)
inline bool writeCacheEntry(const Device &d, cl_program p,
                            const std::string &path, uint64_t key,
                            std::string &note) {
  size_t size = 0;
  cl_int err = d.api->clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size,
                                       &size, nullptr);
  if (err != CL_SUCCESS || size == 0) {
    note = std::string("no program binary: ") +
           (err != CL_SUCCESS ? errorName(err) : "size 0");
    return false;
  }
  std::vector<unsigned char> binary(size);
  unsigned char *binaries[1] = {binary.data()};
  err = d.api->clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof binaries,
                                binaries, nullptr);
  if (err != CL_SUCCESS) {
    note = std::string("no program binary: ") + errorName(err);
    return false;
  }
  unsigned char header[kCacheHeaderBytes];
  const uint64_t size64 = size, sum = fnv1a64(binary.data(), size);
  std::memcpy(header, kCacheMagic, 8);
  std::memcpy(header + 8, &kCacheVersion, 4);
  std::memcpy(header + 12, &key, 8);
  std::memcpy(header + 20, &size64, 8);
  std::memcpy(header + 28, &sum, 8);

  // A name unique across threads (the counter) and processes (the clock
  // and ASLR); "x" fails rather than share a file in the unlikely clash.
  static std::atomic<uint64_t> counter{0};
  const uint64_t salt[] = {
      counter.fetch_add(1),
      static_cast<uint64_t>(
          std::chrono::steady_clock::now().time_since_epoch().count()),
      static_cast<uint64_t>(
          std::chrono::system_clock::now().time_since_epoch().count()),
      static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&counter))};
  const std::string tmp = path + ".tmp-" + hex16(fnv1a64(salt, sizeof salt));
  std::FILE *f = std::fopen(tmp.c_str(), "wbx");
  if (!f) {
    note = "cannot create " + tmp;
    return false;
  }
  bool ok = std::fwrite(header, 1, sizeof header, f) == sizeof header &&
            std::fwrite(binary.data(), 1, size, f) == size;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    note = (ok ? "cannot rename to " : "cannot write ") + path;
    return false;
  }
  return true;
}

} // namespace detail

// Builds `source` with `options` for the device. With a cacheDir (an
// existing directory), first tries the binary cached there for this exact
// source, options, device and driver; an entry that is missing, corrupt or
// rejected by the driver is rebuilt from source and rewritten. A cache that
// cannot be written only shows in `info`. On a build failure returns null
// with the first part of the build log in `error`.
inline cl_program buildProgram(Device &d, const std::string &source,
                               const std::string &options,
                               const std::string &cacheDir, BuildInfo &info,
                               std::string &error) {
  const auto start = std::chrono::steady_clock::now();
  info = BuildInfo{};
  auto done = [&](cl_program p) {
    info.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    return p;
  };
  if (!d.api || !d.context) {
    error = "buildProgram: the OpenCL device is not open";
    return done(nullptr);
  }
  uint64_t key = 0;
  if (!cacheDir.empty()) {
    key = detail::cacheKey(d, source, options);
    info.cachePath = cacheDir + (cacheDir.back() == '/' ? "" : "/") + "canao-" +
                     detail::hex16(key) + ".bin";
    std::vector<unsigned char> entry;
    if (detail::readCacheEntry(info.cachePath, key, entry, info.cacheNote)) {
      if (cl_program p =
              detail::buildFromBinary(d, entry, options, info.cacheNote)) {
        info.fromCache = true;
        return done(p);
      }
    }
  }

  const char *text = source.c_str();
  const size_t length = source.size();
  cl_int err = CL_SUCCESS;
  cl_program p =
      d.api->clCreateProgramWithSource(d.context, 1, &text, &length, &err);
  if (err != CL_SUCCESS || !p) {
    error = std::string("clCreateProgramWithSource failed: ") + errorName(err);
    return done(nullptr);
  }
  err =
      d.api->clBuildProgram(p, 1, &d.device, options.c_str(), nullptr, nullptr);
  if (err != CL_SUCCESS) {
    // The head of the log holds the first errors, which matter most.
    constexpr size_t kMaxLog = 2000;
    std::string log = buildLog(d, p);
    if (log.size() > kMaxLog)
      log = log.substr(0, kMaxLog) + "\n...";
    while (!log.empty() && (log.back() == '\n' || log.back() == ' '))
      log.pop_back();
    error = std::string("OpenCL build failed on ") + d.name + ": " +
            errorName(err) + (log.empty() ? "" : "\n" + log);
    d.api->clReleaseProgram(p);
    return done(nullptr);
  }
  if (!cacheDir.empty()) {
    std::string note;
    info.cacheWritten =
        detail::writeCacheEntry(d, p, info.cachePath, key, note);
    if (!note.empty())
      info.cacheNote += (info.cacheNote.empty() ? "" : "; ") + note;
  }
  return done(p);
}

// A kernel of a built program, or null with `error` set.
inline cl_kernel createKernel(const Device &d, cl_program program,
                              const char *name, std::string &error) {
  cl_int err = CL_SUCCESS;
  cl_kernel k = d.api->clCreateKernel(program, name, &err);
  if (err != CL_SUCCESS || !k) {
    error =
        std::string("clCreateKernel(") + name + ") failed: " + errorName(err);
    return nullptr;
  }
  return k;
}

// A buffer of `bytes`, filled from `host` if given, or null with `error`.
inline cl_mem createBuffer(const Device &d, cl_mem_flags flags, size_t bytes,
                           const void *host, std::string &error) {
  cl_int err = CL_SUCCESS;
  if (host)
    flags |= CL_MEM_COPY_HOST_PTR; // the driver only reads `host`
  cl_mem m = d.api->clCreateBuffer(d.context, flags, bytes,
                                   const_cast<void *>(host), &err);
  if (err != CL_SUCCESS || !m) {
    error = "clCreateBuffer(" + std::to_string(bytes) +
            " bytes) failed: " + errorName(err);
    return nullptr;
  }
  return m;
}

} // namespace canao_rt::ocl

#endif // CANAO_OPENCL_H
