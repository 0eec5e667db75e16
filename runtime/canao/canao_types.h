/* canao_types.h - C types shared by every canao-generated model.
 *
 * Part of the canao runtime, copied into each generated library. Depends on
 * nothing but the C standard library. */
#ifndef CANAO_TYPES_H
#define CANAO_TYPES_H

#include <stddef.h>
#include <stdint.h>

#define CANAO_MAX_RANK 8

typedef enum canao_status {
  CANAO_OK = 0,
  CANAO_ERROR_INVALID_ARGUMENT = 1, /* null pointer, wrong input count */
  CANAO_ERROR_SHAPE = 2,            /* an input has the wrong shape */
  CANAO_ERROR_DTYPE = 3,            /* an input has the wrong element type */
  CANAO_ERROR_OUT_OF_RANGE = 4,     /* e.g. a token id outside the vocabulary */
  CANAO_ERROR_IO = 5,               /* a file could not be read */
  CANAO_ERROR_WEIGHTS = 6,          /* weights missing, corrupt or foreign */
  CANAO_ERROR_OUT_OF_MEMORY = 7,
  CANAO_ERROR_DEVICE =
      8,               /* OpenCL: no usable platform or device, or it failed */
  CANAO_ERROR_BUSY = 9 /* the context is running on another thread */
} canao_status;

/* A status as a short string ("ok", "busy", ...): for CANAO_ERROR_BUSY,
   whose context's NAME_last_error belongs to the thread running it. */
static inline const char *canao_status_name(canao_status s) {
  switch (s) {
  case CANAO_OK:
    return "ok";
  case CANAO_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case CANAO_ERROR_SHAPE:
    return "wrong shape";
  case CANAO_ERROR_DTYPE:
    return "wrong dtype";
  case CANAO_ERROR_OUT_OF_RANGE:
    return "value out of range";
  case CANAO_ERROR_IO:
    return "i/o error";
  case CANAO_ERROR_WEIGHTS:
    return "bad weights";
  case CANAO_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case CANAO_ERROR_DEVICE:
    return "device error";
  case CANAO_ERROR_BUSY:
    return "context busy on another thread";
  }
  return "unknown status";
}

/* Options of NAME_create_with_options (libraries for an OpenCL target). */
typedef struct canao_options {
  const char *cl_cache_dir; /* program binaries cached here; NULL: none */
  int cpu_fallback;         /* nonzero: no working OpenCL device runs the CPU
                               kernels instead of failing */
} canao_options;

typedef enum canao_dtype {
  CANAO_FLOAT32 = 1,
  CANAO_INT32 = 2,
  CANAO_INT64 = 3,
  CANAO_BOOL = 4
} canao_dtype;

/* Static description of a model input or output. */
typedef struct canao_tensor_info {
  const char *name;
  canao_dtype dtype;
  int32_t rank;
  int64_t dims[CANAO_MAX_RANK];
} canao_tensor_info;

/* A caller-owned tensor: row-major, densely packed. */
typedef struct canao_tensor {
  canao_dtype dtype;
  int32_t rank;
  int64_t dims[CANAO_MAX_RANK];
  void *data;
} canao_tensor;

static inline const char *canao_dtype_name(canao_dtype t) {
  switch (t) {
  case CANAO_FLOAT32:
    return "float32";
  case CANAO_INT32:
    return "int32";
  case CANAO_INT64:
    return "int64";
  case CANAO_BOOL:
    return "bool";
  }
  return "unknown";
}

static inline size_t canao_dtype_size(canao_dtype t) {
  return t == CANAO_INT64 ? 8 : t == CANAO_BOOL ? 1 : 4;
}

#endif /* CANAO_TYPES_H */
