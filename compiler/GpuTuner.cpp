//===- GpuTuner.cpp - measured OpenCL geometry for this device ------------===//
#include "GpuTuner.h"
#include "OpenCLEmitter.h"
#include "Tuner.h"

#include "canao/opencl_model.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <chrono>

using namespace canao;
using mlir::RankedTensorType;
using mlir::Type;

namespace {

llvm::Error fail(const std::string &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The geometries tried: GEMM tiles of 1-8 rows by 4 or 8 columns (the
/// panel width, 8, bounds the columns), the table's work-groups and their
/// halves, and three 1-D group sizes. Small on purpose: each candidate is a
/// program build (1-3 s on PoCL, more on phones).
std::vector<GpuDesc> candidates(const GpuDesc &table) {
  std::vector<GpuDesc> out = {table};
  auto add = [&](GpuDesc g) {
    for (const GpuDesc &o : out)
      if (o.tileRows == g.tileRows && o.tileCols == g.tileCols &&
          o.groupCols == g.groupCols && o.groupRows == g.groupRows &&
          o.groupSize == g.groupSize)
        return;
    out.push_back(g);
  };
  for (auto [tr, tc] : {std::pair{4, 8}, {2, 8}, {8, 8}, {4, 4}, {1, 8}})
    for (auto [gc, gr] : {std::pair{8, 16}, {8, 8}, {16, 8}})
      add({tr, tc, gc, gr, table.groupSize});
  for (int gs : {32, 128})
    add({table.tileRows, table.tileCols, table.groupCols, table.groupRows, gs});
  return out;
}

std::string describe(const GpuDesc &g) {
  return llvm::formatv("tile {0}x{1}, group {2}x{3}, 1-D group {4}", g.tileRows,
                       g.tileCols, g.groupCols, g.groupRows, g.groupSize)
      .str();
}

} // namespace

llvm::Expected<GpuTuning>
canao::tuneOpenCL(const KernelPlan &plan, const TargetDesc &target,
                  const std::function<void(const std::string &)> &step) {
  if (!target.gpu)
    return fail("--tune: target " + target.name + " has no OpenCL geometry");
  // The real weights (the module is alive), so index constants are valid.
  std::vector<char> weights;
  weights.reserve(plan.weightBytes);
  if (auto e = streamWeights(plan, [&](const char *d, size_t n) {
        weights.insert(weights.end(), d, d + n);
      }))
    return std::move(e);
  std::vector<std::vector<char>> inData, outData;
  std::vector<canao_tensor> in, out;
  for (RankedTensorType t : plan.inputTypes) {
    Type e = t.getElementType();
    int64_t bytes = t.getNumElements() *
                    (e.isInteger(1) ? 1 : e.getIntOrFloatBitWidth() / 8);
    inData.emplace_back(bytes, 0); // token id 0 is in every vocabulary
  }
  for (const ModelOutput &o : plan.outputs)
    outData.emplace_back(plan.buffers[o.buffer].bytes, 0);
  for (auto &d : inData)
    in.push_back({CANAO_FLOAT32, 0, {}, d.data()});
  for (auto &d : outData)
    out.push_back({CANAO_FLOAT32, 0, {}, d.data()});

  GpuTuning result;
  result.target = target.name;
  double best = -1;
  for (const GpuDesc &g : candidates(*target.gpu)) {
    TargetDesc t = target;
    t.gpu = g;
    GpuTuning::Candidate c;
    c.gpu = g;
    c.ms = -1;
    auto program = emitOpenCL(plan, t);
    if (!program)
      return program.takeError();
    const ClHostTables tables = clHostTables(plan, *program);
    canao_rt::ocl::ClModel model;
    std::string error;
    if (!model.open(tables.desc(plan.arenaBytes), weights.data(),
                    weights.size(), nullptr, error)) {
      if (error.rfind("no OpenCL", 0) == 0)
        return fail("--tune: " + error +
                    " (an OpenCL target is tuned on its device)");
      c.failure = error;
      step("tuning: " + describe(g) + ": " + error);
      result.candidates.push_back(c);
      continue;
    }
    result.device = model.device().name;
    // Two warm-ups (the first launch compiles per local size on some
    // drivers), then the median of five whole runs.
    std::vector<double> ms;
    int32_t bad[3];
    for (int r = 0; r < 7 && error.empty(); ++r) {
      auto t0 = std::chrono::steady_clock::now();
      if (!model.run(in.data(), out.data(), bad, error))
        break;
      if (r >= 2)
        ms.push_back(std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - t0)
                         .count());
    }
    if (!error.empty()) {
      c.failure = error;
    } else {
      std::sort(ms.begin(), ms.end());
      c.ms = ms[ms.size() / 2];
      if (best < 0 || c.ms < best)
        best = c.ms, result.chosen = g;
    }
    step("tuning: " + describe(g) + ": " +
         (c.ms >= 0 ? llvm::formatv("{0:f3} ms", c.ms).str() : c.failure));
    result.candidates.push_back(c);
  }
  if (best < 0)
    return fail("--tune: no OpenCL geometry ran on " + result.device);
  return result;
}

static llvm::json::Object gpuJson(const GpuDesc &g) {
  return llvm::json::Object{{"tile_rows", g.tileRows},
                            {"tile_cols", g.tileCols},
                            {"group_cols", g.groupCols},
                            {"group_rows", g.groupRows},
                            {"group_size", g.groupSize}};
}

std::string canao::gpuTuningToJson(const GpuTuning &t) {
  llvm::json::Array candidates;
  for (const GpuTuning::Candidate &c : t.candidates) {
    llvm::json::Object o = gpuJson(c.gpu);
    if (c.ms >= 0)
      o["ms"] = std::round(c.ms * 1000) / 1000;
    else
      o["failure"] = c.failure;
    candidates.push_back(std::move(o));
  }
  llvm::json::Object root{{"canao_tuning", 1},
                          {"target", t.target},
                          {"device", t.device},
                          {"gpu", gpuJson(t.chosen)},
                          {"candidates", std::move(candidates)}};
  return jsonText(std::move(root));
}

llvm::Expected<GpuDesc> canao::readGpuTuning(const std::string &path,
                                             const TargetDesc &target) {
  auto json = readTuningJson(path);
  if (!json)
    return json.takeError();
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *gpu = root ? root->getObject("gpu") : nullptr;
  if (!root || root->getInteger("canao_tuning") != 1 || !gpu)
    return fail("'" + path + "' is not a canao OpenCL tuning file (version 1)");
  std::string for_ = root->getString("target").value_or("").str();
  if (for_ != target.name)
    return fail("tuning file '" + path + "' is for target '" + for_ +
                "', not '" + target.name + "'");
  GpuDesc g;
  int *fields[] = {&g.tileRows, &g.tileCols, &g.groupCols, &g.groupRows,
                   &g.groupSize};
  const char *names[] = {"tile_rows", "tile_cols", "group_cols", "group_rows",
                         "group_size"};
  for (int i = 0; i < 5; ++i) {
    auto v = gpu->getInteger(names[i]);
    if (!v || *v < 1 || *v > 1024)
      return fail("tuning file '" + path + "': gpu." + names[i] +
                  " must be an integer in [1, 1024]");
    *fields[i] = static_cast<int>(*v);
  }
  if (8 % g.tileCols != 0 || int64_t(g.groupCols) * g.groupRows > 1024)
    return fail("tuning file '" + path +
                "': gpu.tile_cols must divide 8 and group_cols x group_rows "
                "be at most 1024");
  return g;
}
