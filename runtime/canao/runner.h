// runner.h - the command-line runner shared by every generated NAME_run.
//
//   NAME_run --input NAME=FILE.npy ... --output-dir DIR
//   NAME_run --input NAME=FILE.npy ... --bench N [--threads T]
#ifndef CANAO_RUNNER_H
#define CANAO_RUNNER_H

#include "canao/npy.h"
#include "canao/runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace canao_rt {

// mkdir -p: true if `dir` exists as a directory afterwards.
inline bool make_dirs(const std::string &dir, std::string &err) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/')
      continue;
    const std::string prefix = dir.substr(0, i);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      err = "cannot create '" + prefix + "': " + std::strerror(errno);
      return false;
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    err = "'" + dir + "' is not a directory";
    return false;
  }
  return true;
}

// The generated C API of one model, as function pointers.
struct ModelApi {
  const char *name;
  const canao_tensor_info *inputs;
  size_t num_inputs;
  const canao_tensor_info *outputs;
  size_t num_outputs;
  const char *default_weights; // path, or nullptr when embedded
  void *(*create)(const char *weights, canao_status *status);
  void (*destroy)(void *ctx);
  canao_status (*set_num_threads)(void *ctx, int threads);
  canao_status (*run)(void *ctx, const canao_tensor *in, size_t n_in,
                      canao_tensor *out, size_t n_out);
  const char *(*last_error)(const void *ctx);
  size_t (*profile)(const void *ctx, const char *const **names,
                    const double **ms);
  // OpenCL targets only (null otherwise).
  void *(*create_with_options)(const char *weights, const canao_options *o,
                               canao_status *status) = nullptr;
  const char *(*device)(const void *ctx) = nullptr;
};

// The per-kernel table of --profile, slowest first.
// The profile's running sums (ms per kernel), copied.
inline std::vector<double> profile_snapshot(const ModelApi &api,
                                            const void *ctx) {
  const char *const *names = nullptr;
  const double *ms = nullptr;
  size_t n = api.profile(ctx, &names, &ms);
  return std::vector<double>(ms, ms + n);
}

// Prints the time per kernel of the `runs` runs since `before` was taken.
inline void print_profile(const ModelApi &api, const void *ctx, long runs,
                          const std::vector<double> &before) {
  const char *const *names = nullptr;
  const double *sums = nullptr;
  size_t n = api.profile(ctx, &names, &sums);
  std::vector<double> ms(sums, sums + n);
  for (size_t k = 0; k < n && k < before.size(); ++k)
    ms[k] -= before[k];
  double total = 0;
  std::vector<size_t> order(n);
  for (size_t k = 0; k < n; ++k) {
    order[k] = k;
    total += ms[k];
  }
  if (total == 0) {
    std::printf("profile: no timings (build the library with "
                "-DCANAO_PROFILE=ON)\n");
    return;
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ms[a] > ms[b]; });
  std::printf("profile: %zu kernels, ms per run (mean of %ld runs)\n", n, runs);
  for (size_t k : order)
    std::printf("  %9.4f ms  %5.1f%%  #%zu %s\n", ms[k] / runs,
                100.0 * ms[k] / total, k, names[k]);
}

inline int runner_main(int argc, char **argv, const ModelApi &api) {
  std::string prog = std::string(api.name) + "_run";
  auto die = [&](const std::string &msg) {
    std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), msg.c_str());
    return 1;
  };
  std::map<std::string, std::string> inputFiles;
  std::string outDir, weights = api.default_weights ? api.default_weights : "";
  long bench = 0, threads = 0; // 0: the library's default (canaoc --threads)
  bool profile = false;
  std::string clCache; // OpenCL targets: --cl-cache DIR, --fallback cpu
  bool fallback = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char * {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    if (a == "--help" || a == "-h") {
      std::printf("usage: %s --input NAME=FILE.npy ... (--output-dir DIR | "
                  "--bench N [--profile]) [--threads T] [--weights FILE]\n"
                  "--profile: time per kernel over the --bench runs (library "
                  "built with\n  cmake -DCANAO_PROFILE=ON)\n",
                  prog.c_str());
      if (api.create_with_options)
        std::printf("OpenCL: [--cl-cache DIR] caches the program binary; "
                    "[--fallback cpu] runs\n  the CPU kernels when no OpenCL "
                    "device works\n");
      std::printf("inputs:\n");
      for (size_t k = 0; k < api.num_inputs; ++k)
        std::printf(
            "  %s %s %s\n", api.inputs[k].name,
            canao_dtype_name(api.inputs[k].dtype),
            ContextBase::shape_string(api.inputs[k].rank, api.inputs[k].dims)
                .c_str());
      return 0;
    }
    if (a == "--profile") {
      profile = true;
      continue;
    }
    const char *v = nullptr;
    const bool clFlag = a == "--cl-cache" || a == "--fallback";
    if (clFlag && !api.create_with_options)
      return die(a + " is for libraries generated for an OpenCL target");
    if (a != "--input" && a != "--output-dir" && a != "--bench" &&
        a != "--threads" && a != "--weights" && !clFlag)
      return die("unknown argument '" + a + "' (see --help)");
    if (!(v = next()))
      return die(a + " needs a value");
    std::string val = v;
    if (a == "--input") {
      size_t eq = val.find('=');
      if (eq == std::string::npos || eq == 0)
        return die("--input expects NAME=FILE.npy, got '" + val + "'");
      inputFiles[val.substr(0, eq)] = val.substr(eq + 1);
    } else if (a == "--output-dir") {
      outDir = val;
    } else if (a == "--weights") {
      weights = val;
    } else if (a == "--cl-cache") {
      clCache = val;
    } else if (a == "--fallback") {
      if (val != "cpu")
        return die("--fallback expects cpu, got '" + val + "'");
      fallback = true;
    } else {
      char *end = nullptr;
      long n = std::strtol(val.c_str(), &end, 10);
      if (*end != '\0' || n < 1 || n > 1000000)
        return die(a + " expects a positive integer, got '" + val + "'");
      (a == "--bench" ? bench : threads) = n;
    }
  }
  if (outDir.empty() && bench == 0)
    return die("give --output-dir DIR or --bench N (see --help)");
  if (profile && bench == 0)
    return die("--profile needs --bench N");
  std::string dirError;
  if (!outDir.empty() && !make_dirs(outDir, dirError))
    return die("--output-dir: " + dirError);
  if (!clCache.empty() && !make_dirs(clCache, dirError))
    return die("--cl-cache: " + dirError);

  std::vector<NpyArray> arrays(api.num_inputs);
  std::vector<canao_tensor> in(api.num_inputs);
  for (size_t k = 0; k < api.num_inputs; ++k) {
    auto it = inputFiles.find(api.inputs[k].name);
    if (it == inputFiles.end())
      return die(std::string("missing --input ") + api.inputs[k].name +
                 "=FILE.npy");
    std::string err;
    if (!read_npy(it->second, arrays[k], err))
      return die(err);
    in[k].dtype = arrays[k].dtype;
    in[k].rank = static_cast<int32_t>(arrays[k].shape.size());
    std::copy(arrays[k].shape.begin(), arrays[k].shape.end(), in[k].dims);
    in[k].data = arrays[k].data.data();
    inputFiles.erase(it);
  }
  if (!inputFiles.empty())
    return die("the model has no input named '" + inputFiles.begin()->first +
               "'");

  std::vector<std::vector<char>> outData(api.num_outputs);
  std::vector<canao_tensor> out(api.num_outputs);
  for (size_t k = 0; k < api.num_outputs; ++k) {
    const canao_tensor_info &o = api.outputs[k];
    size_t count = 1;
    for (int32_t d = 0; d < o.rank; ++d)
      count *= static_cast<size_t>(o.dims[d]);
    outData[k].resize(count * canao_dtype_size(o.dtype));
    out[k].dtype = o.dtype;
    out[k].rank = o.rank;
    std::copy(o.dims, o.dims + o.rank, out[k].dims);
    out[k].data = outData[k].data();
  }

  canao_status status;
  const char *w = weights.empty() ? nullptr : weights.c_str();
  void *ctx = nullptr;
  const auto created = std::chrono::steady_clock::now();
  if (api.create_with_options) {
    canao_options options{clCache.empty() ? nullptr : clCache.c_str(),
                          fallback ? 1 : 0};
    ctx = api.create_with_options(w, &options, &status);
  } else {
    ctx = api.create(w, &status);
  }
  if (!ctx)
    return die("out of memory creating the context");
  const double createMs = std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - created)
                              .count();
  if (api.device && status == CANAO_OK && (bench > 0 || fallback))
    std::fprintf(stderr, "%s: running on %s\n", prog.c_str(), api.device(ctx));
  if (bench > 0 && status == CANAO_OK)
    std::fprintf(stderr, "%s: create_ms=%.1f\n", prog.c_str(), createMs);
  auto check = [&](canao_status s) {
    if (s == CANAO_OK)
      return true;
    std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), api.last_error(ctx));
    return false;
  };
  int rc = 1;
  if (check(status) &&
      (threads == 0 ||
       check(api.set_num_threads(ctx, static_cast<int>(threads)))) &&
      check(api.run(ctx, in.data(), in.size(), out.data(), out.size()))) {
    rc = 0;
    if (bench > 0) {
      for (int w = 0; w < 2 && rc == 0; ++w)
        rc = check(api.run(ctx, in.data(), in.size(), out.data(), out.size()))
                 ? 0
                 : 1;
      // Only the timed runs count in the profile, as in the latency line.
      const std::vector<double> before = profile_snapshot(api, ctx);
      std::vector<double> ms;
      for (long r = 0; r < bench && rc == 0; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        rc = check(api.run(ctx, in.data(), in.size(), out.data(), out.size()))
                 ? 0
                 : 1;
        auto t1 = std::chrono::steady_clock::now();
        ms.push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      if (rc == 0) {
        std::sort(ms.begin(), ms.end());
        double median = ms.size() % 2
                            ? ms[ms.size() / 2]
                            : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
        double mean = 0;
        for (double x : ms)
          mean += x / ms.size();
        std::printf("latency_ms median=%.4f min=%.4f max=%.4f mean=%.4f\n",
                    median, ms.front(), ms.back(), mean);
        if (profile)
          print_profile(api, ctx, bench, before);
      }
    }
    for (size_t k = 0; k < api.num_outputs && rc == 0 && !outDir.empty(); ++k) {
      std::string err;
      // Output names come from the model file: never let them pick a folder.
      std::string file = api.outputs[k].name;
      for (char &c : file)
        if (c == '/' || c == '\\')
          c = '_';
      std::string path = outDir + "/" + file + ".npy";
      if (!write_npy(path, out[k].dtype, out[k].dims, out[k].rank, out[k].data,
                     err)) {
        std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), err.c_str());
        rc = 1;
      }
    }
  }
  api.destroy(ctx);
  return rc;
}

} // namespace canao_rt

#endif // CANAO_RUNNER_H
