// Creates a context from the weights canao_add_model placed, runs the model
// on zero inputs, prints the first output's first value and the thread
// count the library starts with.
#include "tiny.h"

#include <cstdio>
#include <vector>

int main() {
  tiny_context *ctx = nullptr;
  if (tiny_create(TINY_WEIGHTS_PATH, &ctx) != CANAO_OK) {
    std::fprintf(stderr, "app: error: %s\n", tiny_last_error(ctx));
    tiny_destroy(ctx);
    return 1;
  }
  std::vector<std::vector<char>> buffers;
  std::vector<canao_tensor> in(TINY_NUM_INPUTS), out(TINY_NUM_OUTPUTS);
  auto bind = [&](const canao_tensor_info &info, canao_tensor &t) {
    size_t n = 1;
    for (int d = 0; d < info.rank; ++d)
      n *= size_t(info.dims[d]), t.dims[d] = info.dims[d];
    t.dtype = info.dtype, t.rank = info.rank;
    buffers.emplace_back(n * 8, 0); // 8 bytes covers every dtype
    t.data = buffers.back().data();
  };
  for (int i = 0; i < TINY_NUM_INPUTS; ++i)
    bind(tiny_inputs()[i], in[i]);
  for (int i = 0; i < TINY_NUM_OUTPUTS; ++i)
    bind(tiny_outputs()[i], out[i]);
  const canao_status s =
      tiny_run(ctx, in.data(), in.size(), out.data(), out.size());
  if (s != CANAO_OK)
    std::fprintf(stderr, "app: error: %s\n", tiny_last_error(ctx));
  else
    std::printf("app: ran %s, first value %g\n", tiny_outputs()[0].name,
                double(static_cast<float *>(out[0].data)[0]));
  tiny_destroy(ctx);
  return s == CANAO_OK ? 0 : 1;
}
