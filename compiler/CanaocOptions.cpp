//===- CanaocOptions.cpp - canaoc's command line --------------------------===//
#include "CanaocOptions.h"

#include "CppModelEmitter.h"
#include "Target.h"
#include "passes/Passes.h"
#include "passes/Pipeline.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace canao {
namespace canaoc {
namespace {

const char *kUsage =
    "usage: canaoc MODEL.onnx -o OUTDIR [options]\n"
    "       canaoc prune MODEL.onnx -o PRUNED.onnx --ratio F [options]\n"
    "\n"
    "Compiles an ONNX BERT-family model into a standalone C++ library.\n"
    "`canaoc prune` zeroes blocks of the encoder weights by magnitude and\n"
    "writes a new ONNX model (see canaoc prune --help).\n"
    "\n"
    "options:\n"
    "  -o, --output DIR        output directory (a CMake project)\n"
    "  --name NAME             C identifier for the API (default: model "
    "file stem)\n"
    "  --shape INPUT=D0xD1     static shape for an input with symbolic dims\n"
    "                          (repeatable; dims named *batch* default to 1,\n"
    "                          *seq* to 128)\n"
    "  --freeze INPUT=FILE.npy make an input a compile-time constant with\n"
    "                          the array's values (repeatable): it leaves\n"
    "                          the C API, and shapes computed from it fold\n"
    "                          (token_type_ids of zeros, a node test's\n"
    "                          shape operand)\n"
    "  --emit=cpp|mlir|mlir-import\n"
    "                          output kind (default cpp; mlir is the IR after\n"
    "                          the pass pipeline, mlir-import the IR as\n"
    "                          imported; to stdout without -o)\n"
    "  --target NAME           generic (portable C++, default), x86-avx2,\n"
    "                          x86-avx512, neon (AArch64 phones, built with\n"
    "                          a cross compiler), opencl, opencl-mali\n"
    "                          (OpenCL C 1.2 for phone GPUs, with the\n"
    "                          portable CPU kernels as a fallback), or host\n"
    "                          (the best this machine's CPU runs)\n"
    "  --tune FILE             time the target's GEMM microkernels, k\n"
    "                          blocks and prefetch spreads, then the "
    "LayerNorm\n"
    "                          fusion variants, on this machine with the\n"
    "                          model's shapes (needs a C++ compiler, $CXX or\n"
    "                          c++), write the fastest to FILE and compile\n"
    "                          with it; OpenCL targets: time the model on\n"
    "                          this machine's OpenCL device with each GEMM\n"
    "                          tile and work-group geometry\n"
    "  --tuning FILE           compile with a tuning file from --tune\n"
    "                          (output is deterministic given the file)\n"
    "  --embed-weights         put the weights in the library as a C++ array\n"
    "                          instead of NAME.weights\n"
    "  --threads N             threads of a new context (default 1;\n"
    "                          NAME_set_num_threads changes it)\n"
    "  --max-memory BYTES      refuse a model whose weights, activation\n"
    "                          arena or any one tensor would need more\n"
    "                          (suffixes K, M, G: powers of 1024; default\n"
    "                          8G), before allocating it\n"
    "  --check OUTDIR          compile, compare with OUTDIR instead of\n"
    "                          writing it: exit 0 if OUTDIR is exactly what\n"
    "                          canaoc writes now, 3 (with the changed files\n"
    "                          and a diff) if not; OUTDIR may omit the\n"
    "                          weight blob and runtime/\n"
    "  --depfile FILE          write a Make-style depfile: OUTDIR/NAME.h\n"
    "                          depends on the model and its external data\n"
    "  --report[=json]         print kernels, arena and weight sizes\n"
    "  --dense                 keep every weight dense (by default weights\n"
    "                          with enough all-zero blocks run on\n"
    "                          block-sparse kernels; --report shows the\n"
    "                          analysis either way)\n"
    "  --disable-pass=NAME     leave a pass out of the pipeline (repeatable)\n"
    "  --mlir-print-ir-after=PASS, --mlir-print-ir-after-all,\n"
    "  --mlir-timing, ...      MLIR's own options, as in canao-opt and\n"
    "                          mlir-opt (IR to stderr)\n"
    "  -v, --verbose           progress with timings (default on a terminal)\n"
    "  -q, --quiet             no progress output and no notes\n"
    "  --version               print the version\n"
    "  -h, --help              this help\n"
    "\n"
    "exit status: 0 success, 1 error (one line on stderr: canaoc: error:),\n"
    "3 --check found OUTDIR out of date\n";

bool parseShape(const std::string &spec, Options &o, std::string &err) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    err = "--shape expects INPUT=D0xD1, got '" + spec + "'";
    return false;
  }
  std::vector<int64_t> dims;
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(spec).drop_front(eq + 1).split(parts, 'x');
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d <= 0) {
      err =
          "--shape " + spec + ": '" + p.str() + "' is not a positive dimension";
      return false;
    }
    dims.push_back(d);
  }
  o.shapes[spec.substr(0, eq)] = dims;
  return true;
}

} // namespace

int error(const std::string &msg) {
  llvm::errs() << "canaoc: error: " << msg << "\n";
  return 1;
}

std::optional<uint64_t> parseBytes(llvm::StringRef v) {
  uint64_t scale = 1;
  if (!v.empty()) {
    switch (v.back()) {
    case 'K':
    case 'k':
      scale = uint64_t(1) << 10;
      break;
    case 'M':
    case 'm':
      scale = uint64_t(1) << 20;
      break;
    case 'G':
    case 'g':
      scale = uint64_t(1) << 30;
      break;
    }
    if (scale != 1)
      v = v.drop_back();
  }
  uint64_t n;
  if (v.empty() || v.getAsInteger(10, n) || n == 0 || n > UINT64_MAX / scale)
    return std::nullopt;
  return n * scale;
}

int parseArgs(int argc, char **argv, Options &o) {
  std::string err;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag) -> const char * {
      if (i + 1 >= argc) {
        err = std::string(flag) + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      llvm::outs() << kUsage;
      return 0;
    }
    if (a == "--version") {
      llvm::outs() << "canaoc " << CANAO_VERSION << "\n";
      return 0;
    }
    if (a == "--threads") {
      const char *v = value("--threads");
      if (!v)
        return error(err);
      if (llvm::StringRef(v).getAsInteger(10, o.threads) || o.threads < 1 ||
          o.threads > 1024)
        return error("--threads expects an integer in [1, 1024], got '" +
                     std::string(v) + "'");
    } else if (a == "--max-memory") {
      const char *v = value("--max-memory");
      if (!v)
        return error(err);
      auto bytes = parseBytes(v);
      if (!bytes)
        return error("--max-memory expects a positive byte count (suffix K, "
                     "M or G allowed), got '" +
                     std::string(v) + "'");
      o.maxMemory = *bytes;
    } else if (a == "--check" || a == "--depfile") {
      const char *v = value(a.c_str());
      if (!v)
        return error(err);
      if (a == "--depfile")
        o.depfile = v;
      else
        o.check = true, o.outDir = v;
    } else if (a == "-o" || a == "--output") {
      const char *v = value("-o");
      if (!v)
        return error(err);
      o.outDir = v;
    } else if (a == "--name") {
      const char *v = value("--name");
      if (!v)
        return error(err);
      o.name = v;
    } else if (a == "--shape" || a.rfind("--shape=", 0) == 0) {
      const char *v = a == "--shape" ? value("--shape") : argv[i] + 8;
      if (!v || !parseShape(v, o, err))
        return error(err);
    } else if (a == "--freeze" || a.rfind("--freeze=", 0) == 0) {
      const char *v = a == "--freeze" ? value("--freeze") : argv[i] + 9;
      if (!v)
        return error(err);
      std::string spec = v;
      size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        return error("--freeze expects INPUT=FILE.npy, got '" + spec + "'");
      std::string input = spec.substr(0, eq);
      if (o.frozen.count(input))
        return error("--freeze names '" + input + "' twice");
      o.frozen[input] = spec.substr(eq + 1);
    } else if (a.rfind("--emit=", 0) == 0) {
      o.emit = a.substr(7);
      if (o.emit != "cpp" && o.emit != "mlir" && o.emit != "mlir-import")
        return error("--emit must be cpp, mlir or mlir-import, got '" + o.emit +
                     "'");
    } else if (a == "--report" || a == "--report=text") {
      o.report = "text";
    } else if (a == "--report=json") {
      o.report = "json";
    } else if (a == "--dense") {
      o.denseOnly = true;
    } else if (a.rfind("--disable-pass=", 0) == 0) {
      std::string name = a.substr(15);
      const auto &known = pipelinePassNames();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const std::string &k : known)
          list += (list.empty() ? "" : ", ") + k;
        return error("--disable-pass: unknown pass '" + name +
                     "' (passes: " + list + ")");
      }
      o.disabledPasses.insert(name);
    } else if (a.rfind("--target=", 0) == 0 || a == "--target") {
      const char *v = a == "--target" ? value("--target") : argv[i] + 9;
      if (!v)
        return error(err);
      o.target = v;
      o.targetGiven = true;
      if (!lookupTarget(o.target)) {
        std::string list = "host";
        for (const TargetDesc &t : targets())
          list += ", " + t.name;
        return error("unknown target '" + o.target + "' (targets: " + list +
                     ")");
      }
    } else if (a == "--tune" || a == "--tuning") {
      const char *v = value(a.c_str());
      if (!v)
        return error(err);
      (a == "--tune" ? o.tuneOut : o.tuningIn) = v;
      if (!o.tuneOut.empty() && !o.tuningIn.empty())
        return error("give --tune or --tuning, not both");
    } else if (a == "--embed-weights") {
      o.embedWeights = true;
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else if (llvm::StringRef(a).starts_with("--mlir-")) {
      o.mlirArgs.push_back(argv[i]); // MLIR's own options, parsed by MLIR
    } else if (!a.empty() && a[0] == '-') {
      return error("unknown option '" + a + "' (see --help)");
    } else if (o.model.empty()) {
      o.model = a;
    } else {
      return error("more than one model given ('" + o.model + "' and '" + a +
                   "')");
    }
  }
  if (o.model.empty())
    return error("no model given (usage: canaoc MODEL.onnx -o OUTDIR)");
  if (o.outDir.empty() && o.emit == "cpp")
    return error("no output directory given (-o OUTDIR)");
  if (o.check && (o.emit != "cpp" || !o.tuneOut.empty() || !o.depfile.empty()))
    return error("--check compares generated C++ (no --emit, --tune or "
                 "--depfile with it)");
  if (o.name.empty())
    o.name = cIdentifier(llvm::sys::path::stem(o.model));
  else if (cIdentifier(o.name) != o.name)
    return error("--name '" + o.name + "' is not a C identifier");
  if (!o.tuneOut.empty() && !runsOnThisMachine(*lookupTarget(o.target)))
    return error("--tune times the kernels on this machine, which cannot run "
                 "target '" +
                 o.target +
                 "': run --tune where the target runs (the same canaoc) and "
                 "compile here with --tuning FILE");
  return -1;
}

int parseMlirOptions(const char *argv0, const Options &o) {
  if (o.mlirArgs.empty())
    return -1;
  // Pass names for --mlir-print-ir-after=PASS: canao's and MLIR's.
  mlir::registerTransformsPasses();
  registerAllCanaoPasses();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  std::vector<const char *> args = {argv0};
  args.insert(args.end(), o.mlirArgs.begin(), o.mlirArgs.end());
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (!llvm::cl::ParseCommandLineOptions(int(args.size()), args.data(),
                                         "canaoc", &os)) {
    // llvm::cl names the tool first; a bad pass name it reports itself.
    llvm::StringRef first = llvm::StringRef(msg).trim().split('\n').first;
    first.consume_front("canaoc: ");
    if (first.empty())
      return 1;
    return error(first.split("  Try:").first.str() +
                 " (canao-opt --help lists the --mlir-* options)");
  }
  return -1;
}

int applyMlirOptions(mlir::PassManager &pm, const Options &o) {
  if (o.mlirArgs.empty()) // not registered then: nothing to apply
    return -1;
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return error("bad --mlir-* pass manager options");
  mlir::applyDefaultTimingPassManagerCLOptions(pm);
  return -1;
}

} // namespace canaoc
} // namespace canao
