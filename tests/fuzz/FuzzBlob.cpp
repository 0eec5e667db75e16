//===- FuzzBlob.cpp - libFuzzer target: weight blobs ----------------------===//
//
// The weight blob is input the generated library may not trust. Each input
// goes three ways:
//   - model_create_from_memory of the golden tiny BERT (tests/golden), as an
//     app would hand it a downloaded blob;
//   - model_create on the same bytes as a file (the fread path);
//   - ContextBase::use_blob with the expected size and checksum taken from
//     the input's first 16 bytes, so the fuzzer reaches the truncation and
//     corruption checks behind the header, not only "another model".
// A blob that is accepted must also run.
//
//===----------------------------------------------------------------------===//
#include "model.h"

#include "canao/runtime.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

// Runs an accepted context once on valid inputs: a blob that passes the
// checks must hold what the kernels read.
void runOnce(model_context *ctx) {
  std::vector<canao_tensor> in(MODEL_NUM_INPUTS), out(MODEL_NUM_OUTPUTS);
  std::vector<std::vector<char>> storage;
  auto bind = [&](canao_tensor &t, const canao_tensor_info &info) {
    size_t n = 1;
    t.dtype = info.dtype;
    t.rank = info.rank;
    for (int32_t d = 0; d < info.rank; ++d) {
      t.dims[d] = info.dims[d];
      n *= static_cast<size_t>(info.dims[d]);
    }
    storage.emplace_back(n * canao_dtype_size(info.dtype), 0);
    t.data = storage.back().data();
  };
  for (size_t i = 0; i < in.size(); ++i)
    bind(in[i], model_inputs()[i]);
  for (size_t i = 0; i < out.size(); ++i)
    bind(out[i], model_outputs()[i]);
  model_run(ctx, in.data(), in.size(), out.data(), out.size());
}

// The bytes as a file, without touching the disk.
std::string memoryFile(const uint8_t *data, size_t size, int &fd) {
  fd = memfd_create("canao-fuzz-blob", 0);
  if (fd < 0)
    return "";
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  model_context *ctx = nullptr;
  if (model_create_from_memory(size ? data : nullptr, size, &ctx) == CANAO_OK)
    runOnce(ctx);
  model_destroy(ctx);

  int fd;
  std::string path = memoryFile(data, size, fd);
  if (!path.empty()) {
    ctx = nullptr;
    if (model_create(path.c_str(), &ctx) == CANAO_OK)
      runOnce(ctx);
    model_destroy(ctx);
    close(fd);
  }

  if (size >= 16) {
    uint64_t payload, checksum;
    std::memcpy(&payload, data, 8);
    std::memcpy(&checksum, data + 8, 8);
    canao_rt::ContextBase base;
    base.use_blob(data + 16, size - 16, payload, checksum, "fuzz blob");
  }
  return 0;
}
