//===- canaoc.cpp - the canao compiler driver -----------------------------===//
//
//   canaoc MODEL.onnx -o OUTDIR [--name NAME] [--shape INPUT=D0xD1 ...]
//          [--emit=mlir|cpp] [--report[=json]] [--embed-weights]
//
// A thin driver: parse the options (CanaocOptions.h), run the compile's
// phases (Compile.h) with tuning and progress around them, and write OUTDIR
// atomically (a temporary sibling renamed into place).
//
//===----------------------------------------------------------------------===//
#include "CanaocOptions.h"
#include "Compile.h"
#include "CostModel.h"
#include "CppModelEmitter.h"
#include "GpuTuner.h"
#include "KernelEmitter.h"
#include "KernelPlan.h"
#include "OutputCheck.h"
#include "Prune.h"
#include "Target.h"
#include "Tuner.h"
#include "onnx/OnnxImporter.h"
#include "passes/Passes.h"
#include "passes/Pipeline.h"
#include "llvm/Support/FormatVariadic.h"

#include "Canao/CanaoDialect.h"
#include "Canao/CanaoOps.h"
#include "Canao/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "canao/npy.h"
#include "canao/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>
#include <unistd.h>

using namespace canao;
using canao::canaoc::applyMlirOptions;
using canao::canaoc::error;
using canao::canaoc::Options;
using canao::canaoc::parseArgs;
using canao::canaoc::parseMlirOptions;

namespace {

const std::pair<const char *, const char *> kRuntimeFiles[] = {
#include "RuntimeFiles.inc"
};

// bench/gemm_bench.cpp, which --tune builds and runs.
const char *const kGemmBenchSource =
#include "GemmBenchSource.inc"
    ;

/// The .npy file of `--freeze INPUT=PATH` as a host tensor.
llvm::Expected<HostTensor> loadFrozenInput(const std::string &input,
                                           const std::string &path) {
  canao_rt::NpyArray a;
  std::string err;
  if (!canao_rt::read_npy(path, a, err))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--freeze " + input + ": " + err);
  DType dtype = a.dtype == CANAO_FLOAT32 ? DType::F32
                : a.dtype == CANAO_INT64 ? DType::I64
                : a.dtype == CANAO_INT32 ? DType::I32
                                         : DType::Bool;
  // A view of the file's bytes, decoded (and copied) by toDoubles.
  HostTensor view;
  view.dtype = dtype;
  view.shape.assign(a.shape.begin(), a.shape.end());
  view.raw = llvm::ArrayRef<char>(a.data);
  std::vector<double> values = view.toDoubles();
  return HostTensor::fromValues(
      dtype, llvm::SmallVector<int64_t>(a.shape.begin(), a.shape.end()),
      std::move(values));
}

class Progress {
public:
  explicit Progress(bool quiet) : quiet_(quiet) {}
  void step(const std::string &what) {
    if (quiet_)
      return;
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    llvm::errs() << llvm::format("canaoc: [%6.2fs] ", s) << what << "\n";
  }

private:
  bool quiet_;
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

/// Writes files into a temporary sibling of `outDir`, then renames it into
/// place, so that a failure never leaves a half-written directory.
class AtomicDir {
public:
  explicit AtomicDir(std::string outDir) : outDir_(std::move(outDir)) {
    while (outDir_.size() > 1 && outDir_.back() == '/')
      outDir_.pop_back();
    tmp_ = outDir_ + ".canaoc-tmp-" + std::to_string(::getpid());
  }
  ~AtomicDir() {
    if (!committed_)
      llvm::sys::fs::remove_directories(tmp_, /*IgnoreErrors=*/true);
  }
  bool begin(std::string &err) {
    llvm::sys::fs::remove_directories(tmp_, true);
    if (auto ec = llvm::sys::fs::create_directories(tmp_)) {
      err = "cannot create '" + tmp_ + "': " + ec.message();
      return false;
    }
    return true;
  }
  std::string path(llvm::StringRef rel) const { return tmp_ + "/" + rel.str(); }
  bool write(llvm::StringRef rel, llvm::StringRef contents, std::string &err) {
    std::string p = path(rel);
    llvm::SmallString<256> dir(p);
    llvm::sys::path::remove_filename(dir);
    llvm::sys::fs::create_directories(dir);
    std::ofstream f(p, std::ios::binary);
    f.write(contents.data(), contents.size());
    f.close();
    if (!f) {
      err = "cannot write '" + p + "'";
      return false;
    }
    return true;
  }
  bool commit(std::string &err) {
    std::string old = outDir_ + ".canaoc-old-" + std::to_string(::getpid());
    bool hadOld = llvm::sys::fs::exists(outDir_);
    if (hadOld && !llvm::sys::fs::is_directory(outDir_)) {
      err = "'" + outDir_ + "' exists and is not a directory";
      return false;
    }
    if (hadOld && std::rename(outDir_.c_str(), old.c_str()) != 0) {
      err = "cannot replace '" + outDir_ + "': " + strerror(errno);
      return false;
    }
    if (std::rename(tmp_.c_str(), outDir_.c_str()) != 0) {
      err = "cannot create '" + outDir_ + "': " + strerror(errno);
      if (hadOld)
        std::rename(old.c_str(), outDir_.c_str());
      return false;
    }
    committed_ = true;
    if (hadOld)
      llvm::sys::fs::remove_directories(old, true);
    return true;
  }

private:
  std::string outDir_, tmp_;
  bool committed_ = false;
};

/// --check: the fresh output in `dir` against o.outDir.
int checkAgainst(const AtomicDir &dir, const Options &o) {
  std::string report;
  llvm::raw_string_ostream os(report);
  const std::string weights = o.embedWeights ? "" : o.name + ".weights";
  int diff = compareOutputDirs(dir.path(""), o.outDir, weights, os);
  if (diff < 0)
    return error("--check: '" + o.outDir + "' is not a directory");
  if (diff == 0) {
    if (!o.quiet)
      llvm::errs() << "canaoc: " << o.outDir << " is up to date\n" << report;
    return 0;
  }
  llvm::errs() << "canaoc: " << o.outDir << " is out of date: " << diff
               << (diff == 1 ? " file differs" : " files differ")
               << " from what canaoc writes now\n"
               << report;
  return 3;
}

/// A Make-style depfile (Ninja and CMake's DEPFILE read it): the header
/// depends on the model and every external data file it read.
bool writeDepfile(const Options &o, const OnnxModel &model, std::string &err) {
  auto escape = [](llvm::StringRef p) {
    std::string out;
    for (char c : p) {
      if (c == ' ' || c == '#' || c == '\\')
        out += '\\';
      if (c == '$')
        out += '$';
      out += c;
    }
    return out;
  };
  std::string text = escape(o.outDir + "/" + o.name + ".h") + ":";
  text += " " + escape(o.model);
  for (const std::string &f : model.externalFiles())
    text += " \\\n  " + escape(f);
  text += "\n";
  std::error_code ec;
  llvm::raw_fd_ostream os(o.depfile, ec);
  if (!ec)
    os << text;
  if (ec || os.has_error()) {
    err = "cannot write the depfile '" + o.depfile + "'";
    return false;
  }
  return true;
}

bool writeWeights(AtomicDir &dir, const Options &o, const KernelPlan &plan,
                  uint64_t checksum, std::string &err) {
  std::string header(canao_rt::kBlobHeaderBytes, '\0');
  std::memcpy(&header[0], canao_rt::kBlobMagic, 8);
  uint32_t version = canao_rt::kBlobVersion,
           headerBytes = canao_rt::kBlobHeaderBytes;
  uint64_t payload = plan.weightBytes;
  std::memcpy(&header[8], &version, 4);
  std::memcpy(&header[12], &headerBytes, 4);
  std::memcpy(&header[16], &payload, 8);
  std::memcpy(&header[24], &checksum, 8);
  if (!o.embedWeights) {
    std::ofstream f(dir.path(o.name + ".weights"), std::ios::binary);
    f.write(header.data(), header.size());
    if (auto e = streamWeights(plan, [&](const char *data, size_t size) {
          f.write(data, size);
        })) {
      err = llvm::toString(std::move(e));
      return false;
    }
    f.close();
    if (!f)
      err = "cannot write the weights";
    return static_cast<bool>(f);
  }
  std::ofstream f(dir.path(o.name + "_weights.cpp"), std::ios::binary);
  f << "// Generated by canaoc: the weight blob of " << o.name << ".\n"
    << "#include <cstddef>\n\nextern \"C\" {\nalignas(64) extern const "
       "unsigned char "
    << o.name << "_weights_blob[];\nextern const size_t " << o.name
    << "_weights_blob_size;\nalignas(64) const unsigned char " << o.name
    << "_weights_blob[] = {\n";
  std::string line;
  auto emitByte = [&](unsigned char c, size_t i) {
    line += std::to_string(c) + ",";
    if (i % 24 == 23) {
      f << line << "\n";
      line.clear();
    }
  };
  size_t i = 0;
  for (char c : header)
    emitByte(static_cast<unsigned char>(c), i++);
  if (auto e = streamWeights(plan, [&](const char *data, size_t size) {
        for (size_t j = 0; j < size; ++j)
          emitByte(static_cast<unsigned char>(data[j]), i++);
      })) {
    err = llvm::toString(std::move(e));
    return false;
  }
  f << line << "\n};\nconst size_t " << o.name << "_weights_blob_size = " << i
    << ";\n}\n";
  f.close();
  if (!f)
    err = "cannot write the embedded weights";
  return static_cast<bool>(f);
}

std::string jsonString(llvm::StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string kernelName(mlir::Operation *op) {
  if (auto loc = mlir::dyn_cast<mlir::NameLoc>(op->getLoc()))
    return loc.getName().str();
  return "";
}

/// --report: what the model became, per kernel, with FLOPs and bytes.
/// canao-sparse's analysis of one dense's weight, for --report.
struct MatrixReport {
  std::string name, format, block, kernel;
  int64_t k = 0, n = 0, kept = 0, blockElems = 0;
  double density = 1, cost = 1;
};

std::optional<MatrixReport> matrixReport(mlir::Operation *op) {
  auto dense = llvm::dyn_cast<DenseOp>(op);
  auto dict =
      dense ? op->getAttrOfType<mlir::DictionaryAttr>("canao.sparse") : nullptr;
  if (!dict)
    return std::nullopt;
  MatrixReport m;
  m.name = kernelName(op);
  auto w = llvm::cast<mlir::RankedTensorType>(dense.getWeight().getType());
  m.k = w.getDimSize(0);
  m.n = w.getDimSize(1);
  auto str = [&](llvm::StringRef key) {
    auto v = dict.getAs<mlir::StringAttr>(key);
    return v ? v.str() : std::string();
  };
  m.format = str("format");
  m.block = str("block");
  if (auto best = str("best"); !best.empty())
    m.block = "(" + best + ")";
  if (auto v = dict.getAs<mlir::IntegerAttr>("kept"))
    m.kept = v.getInt();
  if (auto v = dict.getAs<mlir::FloatAttr>("density"))
    m.density = v.getValueAsDouble();
  if (auto v = dict.getAs<mlir::FloatAttr>("cost"))
    m.cost = v.getValueAsDouble();
  if (auto tile = op->getAttrOfType<mlir::DictionaryAttr>("canao.tile"))
    if (auto k = tile.getAs<mlir::StringAttr>("kernel"))
      m.kernel = k.str();
  const SparseLayout l = sparseLayoutOf(op);
  m.blockElems = l.block; // floats per row (bsr_n) or block (bsr_k) kept
  return m;
}

void printReport(const Options &o, mlir::ModuleOp module,
                 const KernelPlan &plan) {
  int64_t onnxNodes = 0;
  if (auto a = module->getAttrOfType<mlir::IntegerAttr>("canao.onnx_nodes"))
    onnxNodes = a.getInt();
  int64_t totalFlops = 0, totalBytes = 0;
  std::vector<KernelCost> costs;
  std::vector<MatrixReport> matrices;
  // FLOPs the kernels do: a sparse dense only its blocks kept.
  int64_t workFlops = 0;
  for (const Kernel &k : plan.kernels) {
    costs.push_back(kernelCost(k.op));
    totalFlops += costs.back().flops;
    totalBytes += costs.back().bytes;
    double work = static_cast<double>(costs.back().flops);
    if (auto m = matrixReport(k.op)) {
      if (m->format != "dense")
        work *= double(m->kept) * double(m->blockElems) /
                (double(m->k) * double(m->n));
      matrices.push_back(*m);
    }
    workFlops += static_cast<int64_t>(work);
  }
  auto &os = llvm::outs();
  if (o.report == "json") {
    os << "{\"model\": " << jsonString(o.name)
       << ", \"onnx_nodes\": " << onnxNodes
       << ", \"kernels\": " << plan.kernels.size()
       << ", \"weight_bytes\": " << plan.weightBytes
       << ", \"arena_bytes\": " << plan.arenaBytes
       << ", \"flops\": " << totalFlops << ", \"bytes_moved\": " << totalBytes
       << ", \"kernel_list\": [";
    for (size_t i = 0; i < plan.kernels.size(); ++i)
      os << (i ? ", " : "") << "{\"op\": "
         << jsonString(plan.kernels[i].op->getName().getStringRef())
         << ", \"name\": " << jsonString(kernelName(plan.kernels[i].op))
         << ", \"flops\": " << costs[i].flops
         << ", \"bytes\": " << costs[i].bytes << "}";
    os << "], \"work_flops\": " << workFlops << ", \"matrices\": [";
    for (size_t i = 0; i < matrices.size(); ++i) {
      const MatrixReport &m = matrices[i];
      os << (i ? ", " : "") << "{\"name\": " << jsonString(m.name)
         << ", \"k\": " << m.k << ", \"n\": " << m.n
         << ", \"density\": " << llvm::format("%.6f", m.density)
         << ", \"format\": " << jsonString(m.format)
         << ", \"block\": " << jsonString(m.block)
         << ", \"kernel\": " << jsonString(m.kernel) << ", \"kept\": " << m.kept
         << ", \"cost\": " << llvm::format("%.4f", m.cost) << "}";
    }
    os << "]}\n";
    return;
  }
  os << "model " << o.name << ": " << onnxNodes << " ONNX nodes -> "
     << plan.kernels.size() << " kernels, "
     << llvm::format("%.3f", totalFlops / 1e9) << " GFLOP, "
     << llvm::format("%.1f", totalBytes / 1048576.0) << " MiB moved\n"
     << "  weights " << plan.weightBytes << " bytes, arena " << plan.arenaBytes
     << " bytes\n";
  os << llvm::format("  %4s  %-18s %12s %12s  %s\n", "#", "op", "MFLOP", "KiB",
                     "from");
  for (size_t i = 0; i < plan.kernels.size(); ++i)
    os << llvm::format(
              "  %4zu  %-18s %12.3f %12.1f  ", i,
              plan.kernels[i].op->getName().getStringRef().str().c_str(),
              costs[i].flops / 1e6, costs[i].bytes / 1024.0)
       << kernelName(plan.kernels[i].op) << "\n";
  if (matrices.empty())
    return;
  // The sparse analysis: what each weight holds and what it runs on.
  os << llvm::format("  %-11s %6s %-9s %-6s %10s %8s  %s\n", "[K, N]",
                     "nonzero", "format", "block", "kept", "cost", "weight of");
  for (const MatrixReport &m : matrices)
    os << llvm::format(
              "  %-11s %5.1f%% %-9s %-6s %10lld %7.3fx  ",
              (std::to_string(m.k) + "x" + std::to_string(m.n)).c_str(),
              100.0 * m.density, m.format.c_str(), m.block.c_str(),
              static_cast<long long>(m.kept), m.cost)
       << m.name << "\n";
  os << "  (nonzero: share of nonzero weights; kept: rows (bsr_n) or blocks "
        "(bsr_k) "
        "stored; cost: predicted time vs the dense kernel"
     << (llvm::any_of(matrices,
                      [](const MatrixReport &m) { return m.format == "dense"; })
             ? ", for dense weights of the best sparse layout"
             : "")
     << ")\n";
}

} // namespace

int main(int argc, char **argv) {
  // `canaoc prune ...` rewrites an ONNX model instead of compiling one.
  if (argc > 1 && llvm::StringRef(argv[1]) == "prune")
    return pruneMain(argc - 1, argv + 1);
  Options o;
  if (int rc = parseArgs(argc, argv, o); rc >= 0)
    return rc;
  if (int rc = parseMlirOptions(argv[0], o); rc >= 0)
    return rc;
  // Progress is for people at a terminal; scripts get errors and notes.
  Progress progress(o.quiet || !(o.verbose || ::isatty(2)));

  auto model = OnnxModel::load(o.model);
  if (!model)
    return error(llvm::toString(model.takeError()));
  progress.step("read " + o.model + " (opset " +
                std::to_string((*model)->opset()) + ", " +
                std::to_string((*model)->numNodes()) + " nodes)");

  mlir::MLIRContext context;
  context.disableMultithreading(); // deterministic and light: 2-core hosts
  ImportOptions importOptions;
  importOptions.inputShapes = o.shapes;
  importOptions.maxBytes = o.maxMemory;
  for (const auto &[input, path] : o.frozen) {
    auto array = loadFrozenInput(input, path);
    if (!array)
      return error(llvm::toString(array.takeError()));
    importOptions.frozen.emplace(input, std::move(*array));
  }
  importOptions.note = [&](const std::string &n) {
    if (!o.quiet)
      llvm::errs() << "canaoc: note: " << n << "\n";
  };
  auto module = importVerified(context, **model, importOptions);
  if (!module)
    return error(llvm::toString(module.takeError()));
  progress.step("imported to the canao dialect");

  // Diagnostics from passes become one-line errors.
  std::string diagText;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error && diagText.empty())
      diagText = d.str();
    return mlir::success();
  });
  if (o.emit != "mlir-import") {
    mlir::PassManager pm(&context);
    buildCanaoPipeline(pm, o.disabledPasses);
    if (int rc = applyMlirOptions(pm, o); rc >= 0)
      return rc;
    if (mlir::failed(pm.run(**module)))
      return error("pass pipeline failed: " + diagText);
    progress.step("ran the pass pipeline");
  }

  TargetDesc tuned = *lookupTarget(o.target);
  std::string lnSplit = "rows";
  // OpenCL targets tune their GPU geometry once the plan exists (below);
  // their CPU fallback keeps the table's tile.
  const bool cpuTune = !tuned.gpu && !o.tuneOut.empty();
  const bool cpuTuning = !tuned.gpu && !o.tuningIn.empty();
  if (o.emit != "mlir-import") {
    if (cpuTune) {
      std::vector<std::pair<std::string, std::string>> files;
      for (const auto &[path, text] : kRuntimeFiles)
        files.push_back({path, text});
      const int cores = static_cast<int>(std::thread::hardware_concurrency());
      auto t = tuneGemm(tuned, gemmShapes(**module),
                        gemmShapes(**module, /*layerNormOnly=*/true),
                        denseWeightBytes(**module), std::min(cores, 8), files,
                        kGemmBenchSource,
                        [&](const std::string &s) { progress.step(s); });
      if (!t)
        return error(llvm::toString(t.takeError()));
      std::string json = tuningToJson(*t);
      std::error_code ec;
      llvm::raw_fd_ostream os(o.tuneOut, ec);
      if (ec || !(os << json, os.close(), !os.has_error()))
        return error("cannot write tuning file '" + o.tuneOut + "'");
      progress.step("tuning: chose " + t->chosen.kernel + ", kc " +
                    std::to_string(t->chosen.depth) + ", pf " +
                    std::to_string(t->chosen.pf) + " (" +
                    llvm::formatv("{0:f3}", t->chosen.ms).str() +
                    " ms for the model's GEMMs); wrote " + o.tuneOut);
      if (t->layerNorm)
        progress.step(llvm::formatv("tuning: LayerNorm layers split {0} "
                                    "({1} threads: rows {2:f3} ms, panels "
                                    "{3:f3} ms)",
                                    t->layerNorm->split, t->layerNorm->threads,
                                    t->layerNorm->rowsMs,
                                    t->layerNorm->panelsMs)
                          .str());
      tuned = applyTuning(tuned, *t);
      if (t->layerNorm)
        lnSplit = t->layerNorm->split;
    } else if (cpuTuning) {
      auto t = readTuning(o.tuningIn, tuned);
      if (!t)
        return error(llvm::toString(t.takeError()));
      tuned = applyTuning(tuned, *t);
      if (t->layerNorm)
        lnSplit = t->layerNorm->split;
    }

    // The tiling and sparse decisions as IR, from the target table or the
    // tuning file.
    mlir::PassManager pm(&context);
    TargetPassOptions targetOptions;
    targetOptions.tuned = cpuTune || cpuTuning;
    targetOptions.lnSplit = lnSplit;
    targetOptions.denseOnly = o.denseOnly;
    addTargetPasses(pm, tuned, targetOptions);
    if (int rc = applyMlirOptions(pm, o); rc >= 0)
      return rc;
    if (mlir::failed(pm.run(**module)))
      return error("tiling failed: " + diagText);
  }

  if (o.emit != "cpp") {
    if (o.outDir.empty() || o.outDir == "-") {
      (*module)->print(llvm::outs());
      llvm::outs() << "\n";
      return 0;
    }
    AtomicDir dir(o.outDir);
    std::string err, text;
    llvm::raw_string_ostream os(text);
    (*module)->print(os);
    if (!dir.begin(err) || !dir.write(o.name + ".mlir", text, err) ||
        !dir.commit(err))
      return error(err);
    return 0;
  }

  const TargetDesc *target = &tuned;
  auto plan = planKernels(**module, target, o.maxMemory);
  if (!plan)
    return error(llvm::toString(plan.takeError()));
  if (tuned.gpu && !o.tuneOut.empty()) {
    auto t = tuneOpenCL(*plan, tuned,
                        [&](const std::string &s) { progress.step(s); });
    if (!t)
      return error(llvm::toString(t.takeError()));
    std::error_code ec;
    llvm::raw_fd_ostream os(o.tuneOut, ec);
    if (ec || !(os << gpuTuningToJson(*t), os.close(), !os.has_error()))
      return error("cannot write tuning file '" + o.tuneOut + "'");
    tuned.gpu = t->chosen;
    progress.step(llvm::formatv("tuning: chose tile {0}x{1}, group {2}x{3}, "
                                "1-D group {4} on {5}; wrote {6}",
                                t->chosen.tileRows, t->chosen.tileCols,
                                t->chosen.groupCols, t->chosen.groupRows,
                                t->chosen.groupSize, t->device, o.tuneOut)
                      .str());
  } else if (tuned.gpu && !o.tuningIn.empty()) {
    auto g = readGpuTuning(o.tuningIn, tuned);
    if (!g)
      return error(llvm::toString(g.takeError()));
    tuned.gpu = *g;
  }
  progress.step("planned " + std::to_string(plan->kernels.size()) +
                " kernels, arena " + std::to_string(plan->arenaBytes) +
                " bytes, weights " + std::to_string(plan->weightBytes) +
                " bytes");

  CppEmitOptions emitOptions;
  emitOptions.name = o.name;
  emitOptions.modelFile = llvm::sys::path::filename(o.model).str();
  emitOptions.compilerVersion = CANAO_VERSION;
  emitOptions.embedWeights = o.embedWeights;
  emitOptions.defaultThreads = o.threads;
  emitOptions.target = target;
  if (o.target == "host" && !o.quiet)
    llvm::errs() << "canaoc: note: target host is " << emitOptions.target->name
                 << " (L1 " << emitOptions.target->l1Bytes / 1024 << " KiB, L2 "
                 << emitOptions.target->l2Bytes / 1024 << " KiB per core)\n";
  // A first pass over the blob, one constant at a time: the checksum goes
  // into the generated code; writeWeights() streams the bytes again.
  auto checksum = weightsChecksum(*plan);
  if (!checksum)
    return error(llvm::toString(checksum.takeError()));
  emitOptions.weightsChecksum = *checksum;
  std::string shapes;
  for (size_t i = 0; i < plan->inputNames.size(); ++i)
    shapes += (i ? ", " : "") + plan->inputNames[i] + "=" +
              describeShape(plan->inputTypes[i].getShape());
  emitOptions.summary =
      "target " + target->name + " (" + defaultTile(*target).kernel + ", kc " +
      std::to_string(target->gemmDepth) + ")" + "; inputs: " + shapes + "; " +
      std::to_string(plan->kernels.size()) + " kernels";
  auto files = emitCppModel(*plan, emitOptions);
  if (!files)
    return error(llvm::toString(files.takeError()));

  AtomicDir dir(o.outDir);
  std::string err;
  if (!dir.begin(err))
    return error(err);
  for (const GeneratedFile &f : *files)
    if (!dir.write(f.path, f.contents, err))
      return error(err);
  for (const auto &[path, text] : kRuntimeFiles) {
    // The OpenCL host layer only where the library uses it.
    if (!target->gpu && llvm::StringRef(path).starts_with("canao/opencl"))
      continue;
    if (!dir.write(std::string("runtime/") + path, text, err))
      return error(err);
  }
  if (!writeWeights(dir, o, *plan, emitOptions.weightsChecksum, err))
    return error(err);
  if (o.check)
    return checkAgainst(dir, o);
  if (!dir.commit(err))
    return error(err);
  if (!o.depfile.empty() && !writeDepfile(o, **model, err))
    return error(err);
  progress.step("wrote " + o.outDir + " (" + shapes + ")");
  // The default stays generic, so that the output is the same bytes on
  // every machine (docs/ci.md); the note says what host would give here.
  const TargetDesc *host = lookupTarget("host");
  if (!o.targetGiven && !o.quiet && host->name != "generic")
    llvm::errs() << "canaoc: note: target generic (portable, the same bytes on "
                    "every machine); --target host would use "
                 << host->name << " here, up to "
                 << host->vectorBits / 32 * 2 / 4
                 << "x the generic build's peak fp32 rate ("
                 << host->vectorBits / 32 << " lanes with FMA vs 4 without)\n";
  if (!o.report.empty())
    printReport(o, **module, *plan);
  return 0;
}
