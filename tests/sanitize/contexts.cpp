// contexts.cpp - concurrency and soak checks of a generated model library.
//
// Built against any canaoc output named `model` (canaoc ... --name model),
// under ThreadSanitizer for the thread checks and LeakSanitizer for the
// soak (tests/sanitize/run_sanitized.py builds and runs it).
//
//   contexts WEIGHTS two-contexts RUNS INPUT.npy...
//       a single-threaded reference run; then two threads, each with its
//       own context and 2 pool threads, run RUNS times: every output must be
//       bit-identical to the reference.
//   contexts WEIGHTS shared-context RUNS INPUT.npy...
//       two threads call model_run on one context until each has run RUNS
//       times: every call returns CANAO_OK (bit-identical outputs) or
//       CANAO_ERROR_BUSY, never anything else.
//   contexts WEIGHTS misuse 0 INPUT.npy...
//       every entry point with null pointers, bad counts, ranks and thread
//       counts: a status and a message, then a good run.
//   contexts WEIGHTS soak CYCLES INPUT.npy...
//       CYCLES create/run/destroy cycles; resident memory after the first
//       tenth and at the end must differ by less than 1 MB.
//
// Prints one line per check and `N passed, M failed`.
#include "model.h"

#include "canao/npy.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

int passed = 0, failed = 0;

void check(const std::string &what, bool ok, const std::string &detail = "") {
  std::printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", what.c_str(),
              detail.empty() ? "" : ": ", detail.c_str());
  std::fflush(stdout);
  (ok ? passed : failed)++;
}

struct Io {
  std::vector<canao_rt::NpyArray> inputs;
  std::vector<canao_tensor> in;
  std::vector<std::vector<char>> outData;
  std::vector<canao_tensor> out;

  explicit Io(const std::vector<canao_rt::NpyArray> &arrays) : inputs(arrays) {
    for (canao_rt::NpyArray &a : inputs) {
      canao_tensor t{};
      t.dtype = a.dtype;
      t.rank = static_cast<int32_t>(a.shape.size());
      for (size_t d = 0; d < a.shape.size() && d < CANAO_MAX_RANK; ++d)
        t.dims[d] = a.shape[d];
      t.data = a.data.data();
      in.push_back(t);
    }
    for (size_t i = 0; i < MODEL_NUM_OUTPUTS; ++i) {
      const canao_tensor_info &info = model_outputs()[i];
      size_t n = canao_dtype_size(info.dtype);
      canao_tensor t{};
      t.dtype = info.dtype;
      t.rank = info.rank;
      for (int32_t d = 0; d < info.rank; ++d) {
        t.dims[d] = info.dims[d];
        n *= static_cast<size_t>(info.dims[d]);
      }
      outData.emplace_back(n, 0);
      out.push_back(t);
    }
    for (size_t i = 0; i < out.size(); ++i)
      out[i].data = outData[i].data();
  }
  canao_status run(model_context *ctx) {
    return model_run(ctx, in.data(), in.size(), out.data(), out.size());
  }
};

model_context *create(const char *weights, int threads) {
  model_context *ctx = nullptr;
  if (model_create(weights, &ctx) != CANAO_OK ||
      model_set_num_threads(ctx, threads) != CANAO_OK) {
    std::fprintf(stderr, "contexts: %s\n", model_last_error(ctx));
    model_destroy(ctx);
    return nullptr;
  }
  return ctx;
}

long residentKb() {
  long pages = 0, resident = 0;
  if (FILE *f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2)
      resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int twoContexts(const char *weights, int runs, const Io &reference,
                const std::vector<canao_rt::NpyArray> &arrays) {
  std::atomic<int> mismatches{0}, errors{0};
  auto worker = [&]() {
    Io io(arrays);
    model_context *ctx = create(weights, 2);
    if (!ctx) {
      errors++;
      return;
    }
    for (int r = 0; r < runs; ++r) {
      if (io.run(ctx) != CANAO_OK)
        errors++;
      else if (io.outData != reference.outData)
        mismatches++;
    }
    model_destroy(ctx);
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  check("two contexts x 2 pool threads x " + std::to_string(runs) +
            " runs: every run succeeds",
        errors == 0, std::to_string(errors.load()) + " errors");
  check("two contexts: every output bit-identical to the 1-thread run",
        mismatches == 0, std::to_string(mismatches.load()) + " mismatches");
  return 0;
}

int sharedContext(const char *weights, int runs, const Io &reference,
                  const std::vector<canao_rt::NpyArray> &arrays) {
  model_context *ctx = create(weights, 2);
  if (!ctx)
    return 1;
  std::atomic<int> other{0}, mismatches{0};
  std::atomic<int> ok[2] = {{0}, {0}}, busy[2] = {{0}, {0}};
  auto worker = [&](int id) {
    Io io(arrays);
    // Until this thread has run RUNS times: a busy call costs microseconds,
    // a run milliseconds, so the threads keep colliding.
    while (ok[id] < runs && other == 0) {
      canao_status s = io.run(ctx);
      if (s == CANAO_OK) {
        ok[id]++;
        if (io.outData != reference.outData)
          mismatches++;
      } else if (s == CANAO_ERROR_BUSY) {
        busy[id]++;
        std::this_thread::yield();
      } else {
        other++;
      }
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  check("one context, two threads: every call is ok or busy", other == 0,
        std::to_string(other.load()) + " other statuses");
  check("one context, two threads: each thread ran " + std::to_string(runs) +
            " times",
        ok[0] == runs && ok[1] == runs,
        std::to_string(ok[0].load()) + " + " + std::to_string(ok[1].load()) +
            " runs, " + std::to_string(busy[0] + busy[1]) + " busy");
  check("one context, two threads: outputs bit-identical", mismatches == 0,
        std::to_string(mismatches.load()) + " mismatches");
  check("busy has a name", std::strcmp(canao_status_name(CANAO_ERROR_BUSY),
                                       "context busy on another thread") == 0);
  model_destroy(ctx);
  return 0;
}

int soak(const char *weights, int cycles, const Io &reference,
         const std::vector<canao_rt::NpyArray> &arrays) {
  Io io(arrays);
  long start = 0;
  int errors = 0, mismatches = 0;
  for (int c = 0; c < cycles; ++c) {
    if (c == cycles / 10)
      start = residentKb();
    model_context *ctx = nullptr;
    if (model_create(weights, &ctx) != CANAO_OK || io.run(ctx) != CANAO_OK)
      errors++;
    else if (io.outData != reference.outData)
      mismatches++;
    model_destroy(ctx);
  }
  long end = residentKb();
  check(std::to_string(cycles) + " create/run/destroy cycles succeed",
        errors == 0 && mismatches == 0,
        std::to_string(errors) + " errors, " + std::to_string(mismatches) +
            " mismatches");
  check("resident memory flat (< 1 MB growth after the first tenth)",
        start > 0 && end - start < 1024,
        std::to_string(start) + " KB -> " + std::to_string(end) + " KB");
  return 0;
}

// Every entry point with null or out-of-range arguments: a status (and,
// where a context exists, a message), never a crash.
int misuse(const char *weights, const Io &reference) {
  model_context *ctx = nullptr;
  check("create with a null context pointer",
        model_create(weights, nullptr) == CANAO_ERROR_INVALID_ARGUMENT);
  check("create from memory with a null context pointer",
        model_create_from_memory(nullptr, 0, nullptr) ==
            CANAO_ERROR_INVALID_ARGUMENT);
  check("create from a null blob",
        model_create_from_memory(nullptr, 0, &ctx) == CANAO_ERROR_WEIGHTS &&
            std::strstr(model_last_error(ctx), "not a canao weight blob"),
        model_last_error(ctx));
  check("run on a context that failed to create",
        reference.in.empty() ||
            model_run(ctx, reference.in.data(), reference.in.size(), nullptr,
                      0) != CANAO_OK);
  model_destroy(ctx);
  model_destroy(nullptr);
  check("run, set_num_threads and last_error on a null context",
        model_run(nullptr, nullptr, 0, nullptr, 0) ==
                CANAO_ERROR_INVALID_ARGUMENT &&
            model_set_num_threads(nullptr, 2) == CANAO_ERROR_INVALID_ARGUMENT &&
            std::strcmp(model_last_error(nullptr), "null context") == 0);
  ctx = create(weights, 1);
  if (!ctx)
    return 1;
  for (int bad : {0, -1, -1000000})
    check("set_num_threads(" + std::to_string(bad) + ")",
          model_set_num_threads(ctx, bad) == CANAO_ERROR_INVALID_ARGUMENT &&
              std::strstr(model_last_error(ctx), "thread count"),
          model_last_error(ctx));
  Io io = reference;
  io.outData.assign(io.outData.size(), {});
  for (size_t i = 0; i < io.out.size(); ++i) {
    io.outData[i].assign(reference.outData[i].size(), 0);
    io.out[i].data = io.outData[i].data();
  }
  check("run with null output tensors",
        model_run(ctx, io.in.data(), io.in.size(), nullptr, io.out.size()) ==
            CANAO_ERROR_INVALID_ARGUMENT,
        model_last_error(ctx));
  check("run with one input too few",
        model_run(ctx, io.in.data(), io.in.size() - 1, io.out.data(),
                  io.out.size()) == CANAO_ERROR_INVALID_ARGUMENT,
        model_last_error(ctx));
  canao_tensor negative = io.in[0];
  negative.rank = -3;
  std::vector<canao_tensor> in = io.in;
  in[0] = negative;
  check("run with a negative rank",
        model_run(ctx, in.data(), in.size(), io.out.data(), io.out.size()) ==
            CANAO_ERROR_SHAPE,
        model_last_error(ctx));
  check("a good run after the bad ones",
        io.run(ctx) == CANAO_OK && io.outData == reference.outData,
        model_last_error(ctx));
  const char *const *names = nullptr;
  const double *ms = nullptr;
  check("profile on a null context",
        model_profile(nullptr, &names, &ms) > 0 && names && !ms);
  model_destroy(ctx);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: contexts WEIGHTS two-contexts|shared-context|"
                         "misuse|soak N INPUT.npy...\n");
    return 2;
  }
  const char *weights = argv[1];
  const std::string mode = argv[2];
  const int n = std::atoi(argv[3]);
  std::vector<canao_rt::NpyArray> arrays;
  for (int i = 4; i < argc; ++i) {
    canao_rt::NpyArray a;
    std::string err;
    if (!canao_rt::read_npy(argv[i], a, err)) {
      std::fprintf(stderr, "contexts: %s\n", err.c_str());
      return 2;
    }
    arrays.push_back(std::move(a));
  }
  Io reference(arrays);
  model_context *ctx = create(weights, 1);
  if (!ctx || reference.run(ctx) != CANAO_OK) {
    check("reference run", false, ctx ? model_last_error(ctx) : "create");
    model_destroy(ctx);
    return 1;
  }
  model_destroy(ctx);
  if (mode == "two-contexts")
    twoContexts(weights, n, reference, arrays);
  else if (mode == "shared-context")
    sharedContext(weights, n, reference, arrays);
  else if (mode == "soak")
    soak(weights, n, reference, arrays);
  else if (mode == "misuse")
    misuse(weights, reference);
  else {
    std::fprintf(stderr, "contexts: unknown mode '%s'\n", mode.c_str());
    return 2;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
