//===- Tuner.cpp - measured choice of the GEMM tile for this host ---------===//
#include "Tuner.h"

#include "Canao/CanaoOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

using namespace canao;

static llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg.str());
}

std::vector<std::array<int64_t, 3>> canao::gemmShapes(mlir::ModuleOp module,
                                                      bool layerNormOnly) {
  std::vector<std::array<int64_t, 3>> out;
  std::set<std::array<int64_t, 3>> seen;
  module.walk([&](DenseOp op) {
    if (layerNormOnly && !op.getLnScale())
      return;
    auto shape = op.getResult().getType().getShape();
    int64_t m = 1;
    for (int64_t d : shape.drop_back())
      m *= d;
    std::array<int64_t, 3> s = {m, op.getWeight().getType().getDimSize(0),
                                shape.back()};
    if (seen.insert(s).second)
      out.push_back(s);
  });
  return out;
}

int64_t canao::denseWeightBytes(mlir::ModuleOp module) {
  int64_t bytes = 0;
  module.walk([&](DenseOp op) {
    auto w = op.getWeight().getType();
    if (w.hasStaticShape())
      bytes += w.getNumElements() * 4;
  });
  return bytes;
}

static std::string shapeName(const std::array<int64_t, 3> &s) {
  return std::to_string(s[0]) + "x" + std::to_string(s[1]) + "x" +
         std::to_string(s[2]);
}

static bool writeFile(const std::string &path, llvm::StringRef text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return false;
  os << text;
  return !os.has_error();
}

llvm::Expected<Tuning>
canao::tuneGemm(const TargetDesc &target,
                const std::vector<std::array<int64_t, 3>> &shapes,
                const std::vector<std::array<int64_t, 3>> &layerNormShapes,
                int64_t weightBytes, int threads,
                const std::vector<std::pair<std::string, std::string>> &files,
                const std::string &benchSource,
                const std::function<void(const std::string &)> &step) {
  if (shapes.empty())
    return fail("--tune: the model has no dense layers to tune");
  const char *cxxEnv = std::getenv("CXX");
  auto cxx = llvm::sys::findProgramByName(cxxEnv && *cxxEnv ? cxxEnv : "c++");
  if (!cxx)
    return fail("--tune needs a C++ compiler on this machine (set CXX): " +
                cxx.getError().message());
  llvm::SmallString<128> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("canao-tune", dir))
    return fail("--tune: cannot create a temporary directory: " + ec.message());
  struct Cleanup {
    std::string dir;
    ~Cleanup() { llvm::sys::fs::remove_directories(dir); }
  } cleanup{dir.str().str()};
  for (const auto &[rel, text] : files) {
    std::string p = (dir + "/runtime/" + rel).str();
    llvm::sys::fs::create_directories(llvm::sys::path::parent_path(p));
    if (!writeFile(p, text))
      return fail("--tune: cannot write " + p);
  }
  std::string src = (dir + "/gemm_bench.cpp").str(),
              exe = (dir + "/gemm_bench").str(), out = (dir + "/out.txt").str(),
              err = (dir + "/err.txt").str();
  if (!writeFile(src, benchSource))
    return fail("--tune: cannot write " + src);

  std::vector<std::string> args = {*cxx, "-O3", "-std=c++17", "-pthread"};
  for (const std::string &f : target.cxxFlags)
    args.push_back(f);
  args.insert(args.end(), {"-I", (dir + "/runtime").str(), src, "-o", exe});
  std::vector<llvm::StringRef> argv(args.begin(), args.end());
  // Runs the built benchmark with `run`, its standard output to DIR/NAME
  // (each run its own file: an earlier one may still be mapped); returns it.
  auto runBench = [&](llvm::ArrayRef<llvm::StringRef> run,
                      const std::string &name, const std::string &what)
      -> llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> {
    const std::string path = (dir + "/" + name).str();
    std::optional<llvm::StringRef> to[] = {std::nullopt, llvm::StringRef(path),
                                           llvm::StringRef(err)};
    if (llvm::sys::ExecuteAndWait(exe, run, std::nullopt, to) != 0)
      return fail("--tune: the " + what + " failed");
    auto text = llvm::MemoryBuffer::getFile(path);
    if (!text)
      return fail("--tune: the " + what + " wrote no results");
    return std::move(*text);
  };
  step("tuning: building the GEMM benchmark with " + *cxx);
  std::optional<llvm::StringRef> redirects[] = {
      std::nullopt, llvm::StringRef(out), llvm::StringRef(err)};
  if (llvm::sys::ExecuteAndWait(*cxx, argv, std::nullopt, redirects) != 0) {
    auto log = llvm::MemoryBuffer::getFile(err);
    return fail("--tune: building the benchmark failed" +
                (log ? ": " + (*log)->getBuffer().take_front(300).str()
                     : std::string()));
  }

  std::string shapeList, kcs = "256,512," + std::to_string(target.gemmDepth);
  if (target.gemmDepth == 256 || target.gemmDepth == 512)
    kcs = "256,512,768";
  for (const auto &s : shapes)
    shapeList += (shapeList.empty() ? "" : ",") + std::to_string(s[0]) + ":" +
                 std::to_string(s[1]) + ":" + std::to_string(s[2]);
  // The table's prefetch spread and the next wider one (2 vs 3 was a 3%
  // difference on Zen 3, the other way round on Sapphire Rapids).
  const std::string pfs = std::to_string(target.prefetchTilesLog2) + "," +
                          std::to_string(target.prefetchTilesLog2 + 1);
  std::vector<llvm::StringRef> run = {exe,         "--tune", shapeList,
                                      "--kc-list", kcs,      "--pf-list",
                                      pfs,         "--reps", "9"};
  // Candidates run as generated code will: A in place for the table's
  // directATiles.
  std::string direct;
  for (auto [r, c] : target.directATiles)
    direct += (direct.empty() ? "" : ",") + std::to_string(r) + "x" +
              std::to_string(c);
  if (!direct.empty()) {
    run.push_back("--direct-a");
    run.push_back(direct);
  }
  step("tuning: timing the " + target.isa + " microkernels x k blocks {" + kcs +
       "} x prefetch spreads {" + pfs + "} on " +
       std::to_string(shapes.size()) + " GEMM shapes");
  if (llvm::sys::ExecuteAndWait(exe, run, std::nullopt, redirects) != 0)
    return fail("--tune: the benchmark failed (does this machine run " +
                target.name + " code?)");
  auto text = llvm::MemoryBuffer::getFile(out);
  if (!text)
    return fail("--tune: the benchmark wrote no results");

  Tuning t;
  t.target = target.name;
  for (const auto &s : shapes)
    t.shapes.push_back(shapeName(s));
  llvm::SmallVector<llvm::StringRef> lines;
  (*text)->getBuffer().split(lines, '\n', -1, false);
  const std::string suffix = "_" + target.isa;
  for (llvm::StringRef line : lines) {
    llvm::SmallVector<llvm::StringRef> f;
    line.split(f, ' ');
    if (f.size() != 7 || f[0] != "candidate" || !f[1].ends_with(suffix))
      continue;
    TuningCandidate c;
    c.kernel = f[1].str();
    if (f[2].getAsInteger(10, c.rows) || f[3].getAsInteger(10, c.cols) ||
        f[4].getAsInteger(10, c.depth) || f[5].getAsInteger(10, c.pf) ||
        f[6].getAsDouble(c.ms))
      return fail("--tune: cannot parse benchmark output '" + line + "'");
    t.candidates.push_back(c);
    if (t.chosen.kernel.empty() || c.ms < t.chosen.ms)
      t.chosen = c;
  }
  if (t.chosen.kernel.empty())
    return fail("--tune: the benchmark measured no " + target.isa +
                " microkernel");

  // The block-sparse kernels against the dense one at 10% and 40% of the
  // blocks kept, paired run by run: a line through the two points is the
  // fixed + perFlop x kept of canao-sparse's cost model.
  {
    const double lo = 0.1, hi = 0.4;
    std::vector<std::string> blocks = {"1x" + std::to_string(target.gemmCols)};
    for (const TargetDesc::BsrKKernel &k : target.bsrKKernels)
      blocks.push_back(std::to_string(k.r) + "x1");
    std::string list;
    for (const std::string &blk : blocks)
      list += (list.empty() ? "" : ",") + blk + ":0.1," + blk + ":0.4";
    std::vector<llvm::StringRef> runSp = {exe, "--sparse", list, "--threads",
                                          "1", "--reps",   "7"};
    step("tuning: timing the block-sparse kernels (" + list + ")");
    auto spText = runBench(runSp, "out_sparse.txt", "sparse benchmark");
    if (!spText)
      return spText.takeError();
    // sparse ms / dense ms per "block density", over the shapes.
    std::map<std::string, std::vector<double>> ratios;
    lines.clear();
    (*spText)->getBuffer().split(lines, '\n', -1, false);
    for (llvm::StringRef line : lines) {
      llvm::SmallVector<llvm::StringRef> f;
      line.split(f, ' ');
      double dense = 0, sparse = 0;
      if (f.empty() || f[0] != "sparse")
        continue;
      if (f.size() < 8 || !f[5].consume_front("dense_ms=") ||
          f[5].getAsDouble(dense) || !f[6].consume_front("sparse_ms=") ||
          f[6].getAsDouble(sparse) || dense <= 0)
        return fail("--tune: cannot parse benchmark output '" + line + "'");
      ratios[(f[1] + " " + f[2]).str()].push_back(sparse / dense);
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.empty() ? -1.0 : v[v.size() / 2];
    };
    auto fit = [&](const std::string &blk,
                   TargetDesc::SparseCost &cost) -> bool {
      const double rlo = median(ratios[blk + " 0.1"]),
                   rhi = median(ratios[blk + " 0.4"]);
      if (rlo <= 0 || rhi <= 0)
        return false;
      // Noise can tilt the line; keep it inside what the file accepts.
      cost.perFlop = std::clamp((rhi - rlo) / (hi - lo), 0.05, 99.0);
      cost.fixed = std::clamp(rlo - lo * cost.perFlop, 0.0, 9.0);
      return true;
    };
    SparseCosts sc;
    bool all = fit(blocks[0], sc.bsrN);
    for (size_t i = 0; i < target.bsrKKernels.size(); ++i) {
      TargetDesc::SparseCost c;
      all = all && fit(blocks[i + 1], c);
      sc.bsrK.push_back({target.bsrKKernels[i].r, c});
    }
    if (!all)
      return fail("--tune: the sparse benchmark measured no " + target.isa +
                  " kernel for some block shape");
    t.sparse = sc;
  }
  if (layerNormShapes.empty() || threads < 2)
    return t;

  // The fusion variants of the LayerNorm dense layers, with the chosen tile.
  std::string lnList;
  for (const auto &s : layerNormShapes)
    lnList += (lnList.empty() ? "" : ",") + std::to_string(s[0]) + ":" +
              std::to_string(s[1]) + ":" + std::to_string(s[2]);
  const std::string kc = std::to_string(t.chosen.depth),
                    pf = std::to_string(t.chosen.pf),
                    th = std::to_string(threads),
                    wb = std::to_string(weightBytes);
  std::vector<llvm::StringRef> runLn = {exe,
                                        "--tune-layer-norm",
                                        lnList,
                                        "--kernel",
                                        t.chosen.kernel,
                                        "--kc",
                                        kc,
                                        "--pf",
                                        pf,
                                        "--threads",
                                        th,
                                        "--weights-bytes",
                                        wb,
                                        "--reps",
                                        "15"};
  if (!direct.empty()) {
    runLn.push_back("--direct-a");
    runLn.push_back(direct);
  }
  step("tuning: timing LayerNorm fused per thread's rows vs a pass of its "
       "own on " +
       std::to_string(layerNormShapes.size()) + " GEMM shapes, " + th +
       " threads");
  auto lnText = runBench(runLn, "out_layer_norm.txt", "LayerNorm benchmark");
  if (!lnText)
    return lnText.takeError();
  LayerNormSplit ln;
  ln.threads = threads;
  size_t measured = 0;
  lines.clear();
  (*lnText)->getBuffer().split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines) {
    llvm::SmallVector<llvm::StringRef> f;
    line.split(f, ' ');
    double panels = 0, rows = 0;
    if (f.size() != 6 || f[0] != "layer_norm" || f[4].getAsDouble(panels) ||
        f[5].getAsDouble(rows))
      return fail("--tune: cannot parse benchmark output '" + line + "'");
    ln.panelsMs += panels;
    ln.rowsMs += rows;
    ++measured;
  }
  if (measured != layerNormShapes.size())
    return fail("--tune: the LayerNorm benchmark measured " +
                std::to_string(measured) + " of " +
                std::to_string(layerNormShapes.size()) + " shapes");
  ln.split = ln.rowsMs <= ln.panelsMs ? "rows" : "panels";
  t.layerNorm = ln;
  return t;
}

std::string canao::tuningToJson(const Tuning &t) {
  llvm::json::Array shapes, candidates;
  for (const std::string &s : t.shapes)
    shapes.push_back(s);
  auto kernel = [](const TuningCandidate &c) {
    return llvm::json::Object{
        {"kernel", c.kernel}, {"mr", c.rows},
        {"nr", c.cols},       {"kc", c.depth},
        {"pf", c.pf},         {"ms", std::round(c.ms * 1000) / 1000}};
  };
  for (const TuningCandidate &c : t.candidates)
    candidates.push_back(kernel(c));
  llvm::json::Object root{{"canao_tuning", 1},
                          {"target", t.target},
                          {"gemm", kernel(t.chosen)},
                          {"shapes", std::move(shapes)},
                          {"candidates", std::move(candidates)}};
  if (t.layerNorm)
    root["layer_norm"] = llvm::json::Object{
        {"split", t.layerNorm->split},
        {"threads", t.layerNorm->threads},
        {"panels_ms", std::round(t.layerNorm->panelsMs * 1000) / 1000},
        {"rows_ms", std::round(t.layerNorm->rowsMs * 1000) / 1000}};
  if (t.sparse) {
    auto cost = [](const TargetDesc::SparseCost &c) {
      return llvm::json::Object{
          {"fixed", std::round(c.fixed * 1000) / 1000},
          {"per_flop", std::round(c.perFlop * 1000) / 1000}};
    };
    llvm::json::Array bsrK;
    for (auto [r, c] : t.sparse->bsrK) {
      llvm::json::Object o = cost(c);
      o["r"] = r;
      bsrK.push_back(std::move(o));
    }
    root["sparse"] = llvm::json::Object{{"bsr_n", cost(t.sparse->bsrN)},
                                        {"bsr_k", std::move(bsrK)}};
  }
  return jsonText(std::move(root));
}

std::string canao::jsonText(llvm::json::Object root) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return s;
}

llvm::Expected<llvm::json::Value>
canao::readTuningJson(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    return fail("cannot read tuning file '" + path +
                "': " + buf.getError().message());
  auto json = llvm::json::parse((*buf)->getBuffer());
  if (!json)
    return fail("tuning file '" + path +
                "' is not JSON: " + llvm::toString(json.takeError()));
  return json;
}

llvm::Expected<Tuning> canao::readTuning(const std::string &path,
                                         const TargetDesc &target) {
  auto json = readTuningJson(path);
  if (!json)
    return json.takeError();
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *gemm = root ? root->getObject("gemm") : nullptr;
  if (!root || root->getInteger("canao_tuning") != 1 || !gemm)
    return fail("'" + path + "' is not a canao tuning file (version 1)");
  Tuning t;
  t.target = root->getString("target").value_or("").str();
  if (t.target != target.name)
    return fail("tuning file '" + path + "' is for target '" + t.target +
                "', not '" + target.name + "'");
  auto mr = gemm->getInteger("mr"), nr = gemm->getInteger("nr"),
       kc = gemm->getInteger("kc");
  if (!mr || !nr || !kc || *kc < 1 || *kc > (1 << 20))
    return fail("tuning file '" + path + "': gemm needs integer mr, nr, kc");
  bool known = false;
  for (auto [r, c] : target.gemmTiles)
    known |= r == *mr && c == *nr;
  if (!known)
    return fail("tuning file '" + path + "': no " + target.isa +
                " microkernel has a " + std::to_string(*mr) + "x" +
                std::to_string(*nr) + " tile");
  // pf is optional (files written before it existed): the target's.
  auto pf = gemm->getInteger("pf");
  if (pf && (*pf < 0 || *pf > 6))
    return fail("tuning file '" + path + "': gemm pf must be in [0, 6]");
  t.chosen.rows = *mr;
  t.chosen.cols = *nr;
  t.chosen.depth = *kc;
  t.chosen.pf = pf ? static_cast<int>(*pf) : target.prefetchTilesLog2;
  t.chosen.kernel = gemm->getString("kernel").value_or("").str();
  // layer_norm is optional too (files from machines with one core, or
  // written before it existed): the table's split.
  if (const llvm::json::Value *v = root->get("layer_norm")) {
    const llvm::json::Object *ln = v->getAsObject();
    auto split = ln ? ln->getString("split") : std::nullopt;
    if (!split || (*split != "rows" && *split != "panels"))
      return fail("tuning file '" + path +
                  "': layer_norm split must be \"rows\" or \"panels\"");
    LayerNormSplit s;
    s.split = split->str();
    t.layerNorm = s;
  }
  // sparse is optional (older files): the table's costs. Each cost needs
  // fixed in [0, 10) and per_flop in (0, 100), and r a kernel of the target.
  if (const llvm::json::Value *v = root->get("sparse")) {
    const llvm::json::Object *sp = v->getAsObject();
    auto bad = [&](const std::string &why) {
      return fail("tuning file '" + path + "': sparse " + why);
    };
    auto cost = [](const llvm::json::Object *o, TargetDesc::SparseCost &c) {
      auto f = o ? o->getNumber("fixed") : std::nullopt;
      auto p = o ? o->getNumber("per_flop") : std::nullopt;
      if (!f || !p || !(*f >= 0 && *f < 10) || !(*p > 0 && *p < 100))
        return false;
      c = {*f, *p};
      return true;
    };
    SparseCosts sc;
    const llvm::json::Array *k = sp ? sp->getArray("bsr_k") : nullptr;
    if (!sp || !k || !cost(sp->getObject("bsr_n"), sc.bsrN))
      return bad("needs bsr_n {fixed in [0, 10), per_flop in (0, 100)} and "
                 "a bsr_k list");
    for (const llvm::json::Value &e : *k) {
      const llvm::json::Object *o = e.getAsObject();
      auto r = o ? o->getInteger("r") : std::nullopt;
      TargetDesc::SparseCost c;
      bool known = false;
      for (const TargetDesc::BsrKKernel &kk : target.bsrKKernels)
        known |= r && kk.r == *r;
      if (!known || !cost(o, c))
        return bad("bsr_k entries need an r the target has a kernel for, "
                   "fixed in [0, 10) and per_flop in (0, 100)");
      sc.bsrK.push_back({static_cast<int>(*r), c});
    }
    t.sparse = sc;
  }
  return t;
}

TargetDesc canao::applyTuning(const TargetDesc &target, const Tuning &t) {
  TargetDesc out = target;
  out.gemmRows = t.chosen.rows;
  out.gemmCols = t.chosen.cols;
  out.gemmDepth = t.chosen.depth;
  out.prefetchTilesLog2 = t.chosen.pf;
  if (t.sparse) {
    out.bsrNCost = t.sparse->bsrN;
    for (auto [r, c] : t.sparse->bsrK)
      for (TargetDesc::BsrKKernel &k : out.bsrKKernels)
        if (k.r == r)
          k.cost = c;
  }
  return out;
}
