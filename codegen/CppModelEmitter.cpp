//===- CppModelEmitter.cpp - a KernelPlan as a standalone C++ project -----===//
#include "CppModelEmitter.h"
#include "KernelEmitter.h"
#include "OpenCLEmitter.h"

#include "Canao/CanaoOps.h"
#include "Canao/ShapeUtils.h"

#include "mlir/IR/Location.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
using namespace canao;

namespace {

// The start of NAME_run and NAME_set_num_threads: one thread at a time.
const std::string kExclusive =
    "  canao_rt::ContextBase::Exclusive exclusive(ctx->base);\n"
    "  if (!exclusive.held())\n    return CANAO_ERROR_BUSY;\n";

std::string dtypeEnum(Type t) {
  if (t.isF32())
    return "CANAO_FLOAT32";
  if (t.isInteger(64))
    return "CANAO_INT64";
  if (t.isInteger(32))
    return "CANAO_INT32";
  return "CANAO_BOOL";
}

std::string cString(llvm::StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(c));
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string locationName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  return op->getName().getStringRef().str();
}

std::string tensorInfo(const std::string &name, RankedTensorType t) {
  std::string dims;
  for (int64_t d : t.getShape())
    dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  return "  {" + cString(name) + ", " + dtypeEnum(t.getElementType()) + ", " +
         std::to_string(t.getRank()) + ", {" + (dims.empty() ? "0" : dims) +
         "}},\n";
}

/// Buffer expression for a kernel argument.
std::string bufferExpr(const KernelPlan &plan, int64_t id, bool isConst) {
  const Buffer &b = plan.buffers[id];
  const Buffer &s = plan.storage(id);
  std::string T = cType(b.type.getElementType());
  std::string q = isConst ? "const " : "";
  switch (s.kind) {
  case BufferKind::Input:
    return "static_cast<const " + T + " *>(inputs[" + std::to_string(s.index) +
           "].data)";
  case BufferKind::Weight:
    return "reinterpret_cast<const " + T + " *>(W + " +
           std::to_string(s.offset) + ")";
  case BufferKind::Arena:
    return "reinterpret_cast<" + q + T + " *>(A + " + std::to_string(s.offset) +
           ")";
  }
  return "";
}

} // namespace

std::string canao::cIdentifier(llvm::StringRef s) {
  std::string out;
  for (char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])))
    out = "m_" + out;
  return out;
}

llvm::Expected<std::vector<GeneratedFile>>
canao::emitCppModel(const KernelPlan &plan, const CppEmitOptions &opts) {
  const std::string &N = opts.name;
  for (const auto &t : plan.inputTypes)
    if (t.getRank() > 8)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "model inputs of rank > 8 are not "
                                     "supported");
  for (const ModelOutput &o : plan.outputs)
    if (plan.buffers[o.buffer].type.getRank() > 8)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "model outputs of rank > 8 are not "
                                     "supported");

  // --- kernels: identical bodies (e.g. the same op in every layer) are
  // emitted once and called with different buffers.
  std::map<std::string, std::string> bodyToName;
  std::string kernelsText, callsText, profileNames;
  std::vector<std::string> checkMessages; // in the order kernels number them
  int profileCount = 0;
  for (const Kernel &k : plan.kernels) {
    auto body = emitKernelBody(k.op, *opts.target);
    if (!body)
      return body.takeError();
    bool failing = kernelReportsErrors(k.op);
    std::string params;
    for (size_t i = 0; i < k.operands.size(); ++i)
      params += "const " +
                cType(plan.buffers[k.operands[i]].type.getElementType()) +
                " *__restrict in" + std::to_string(i) + ", ";
    params += cType(plan.buffers[k.result].type.getElementType()) +
              " *__restrict out";
    if (k.workspace >= 0)
      params += ", float *__restrict ws";
    if (kernelUsesRuntime(k.op))
      params += ", canao_rt::ContextBase &rt";
    if (failing)
      params += ", int64_t *bad_index";
    std::string signature =
        std::string(failing ? "bool" : "void") + " (" + params + ")";
    std::string key = signature + "{" + *body + "}";
    auto [it, inserted] = bodyToName.emplace(key, "");
    if (inserted) {
      it->second = "k" + std::to_string(bodyToName.size() - 1) + "_" +
                   cIdentifier(k.op->getName().stripDialect());
      kernelsText += "static " + std::string(failing ? "bool " : "void ") +
                     it->second + "(" + params + ") {\n" + *body + "}\n\n";
    }
    std::string args;
    for (int64_t id : k.operands)
      args += bufferExpr(plan, id, true) + ", ";
    args += bufferExpr(plan, k.result, false);
    if (k.workspace >= 0)
      args += ", " + bufferExpr(plan, k.workspace, false);
    if (kernelUsesRuntime(k.op))
      args += ", ctx->base";
    std::string comment = "  // " + locationName(k.op) + "\n";
    for (char &c : comment.substr(0, comment.size() - 1))
      (void)c;
    // Keep model-provided names from closing the comment or the line.
    std::string safe;
    for (char c : comment.substr(0, comment.size() - 1))
      safe += (c == '\n' || c == '\r' || c == '\\') ? ' ' : c;
    callsText += safe + "\n";
    profileNames +=
        "  " + cString(it->second + " " + locationName(k.op)) + ",\n";
    const std::string point =
        "  CANAO_PROFILE_POINT(" + std::to_string(profileCount++) + ");\n";
    if (!failing) {
      callsText += "  " + it->second + "(" + args + ");\n" + point;
      continue;
    }
    // Say which model input held the bad index when it came straight from
    // one, e.g. a token id outside the vocabulary.
    callsText += "  if (!" + it->second + "(" + args + ", bad_index)) {\n";
    for (auto [n, check] : llvm::enumerate(indexChecks(k.op))) {
      const Buffer &idx = plan.storage(k.operands[check.operand]);
      std::string source = idx.kind == BufferKind::Input
                               ? "input '" + plan.inputNames[idx.index] + "'"
                               : "an index";
      checkMessages.push_back(cString(source + " holds %lld, outside [-" +
                                      std::to_string(check.dim) + ", " +
                                      std::to_string(check.dim) + ") (" +
                                      k.op->getName().stripDialect().str() +
                                      " '" + locationName(k.op) + "')"));
      callsText += "    if (bad_index[1] == " + std::to_string(n) + ")\n" +
                   "      return ctx->base.fail(CANAO_ERROR_OUT_OF_RANGE, " +
                   checkMessages.back() +
                   ", static_cast<long long>(bad_index[0]));\n";
    }
    callsText += "  }\n" + point;
  }
  std::string copyOut;
  for (auto [i, o] : llvm::enumerate(plan.outputs))
    copyOut += "  std::memcpy(outputs[" + std::to_string(i) + "].data, " +
               bufferExpr(plan, o.buffer, true) + ", " +
               std::to_string(plan.buffers[o.buffer].bytes) + ");\n";

  uint64_t checksum = opts.weightsChecksum;
  std::string infoIn, infoOut;
  for (size_t i = 0; i < plan.inputNames.size(); ++i)
    infoIn += tensorInfo(plan.inputNames[i], plan.inputTypes[i]);
  for (const ModelOutput &o : plan.outputs)
    infoOut += tensorInfo(o.name, plan.buffers[o.buffer].type);

  std::vector<GeneratedFile> files;
  std::string banner = "// Generated by canaoc " + opts.compilerVersion +
                       " from " + opts.modelFile + ". Do not edit.\n";

  // --- NAME.h
  std::string guard = cIdentifier(N);
  for (char &c : guard)
    c = std::toupper(static_cast<unsigned char>(c));
  files.push_back(
      {N + ".h",
       banner + "// " + opts.summary + "\n#ifndef " + guard + "_H\n#define " +
           guard +
           "_H\n\n#include \"canao/canao_types.h\"\n\n"
           "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
           "typedef struct " +
           N + "_context " + N +
           "_context;\n\n"
           "#define " +
           guard + "_NUM_INPUTS " + std::to_string(plan.inputNames.size()) +
           "\n#define " + guard + "_NUM_OUTPUTS " +
           std::to_string(plan.outputs.size()) +
           "\n\n"
           "/* Static descriptions of the inputs and outputs, in order. */\n"
           "const canao_tensor_info *" +
           N +
           "_inputs(void);\n"
           "const canao_tensor_info *" +
           N +
           "_outputs(void);\n\n"
           "/* Creates a context. `weights_path` names the .weights blob; NULL "
           "uses the\n   embedded weights if the library has them. On error "
           "*ctx is still a context\n   whose " +
           N +
           "_last_error() says why; "
           "destroy it. */\n"
           "canao_status " +
           N + "_create(const char *weights_path, " + N +
           "_context **ctx);\n"
           "/* Same, with the blob already in memory (kept, not copied). */\n"
           "canao_status " +
           N +
           "_create_from_memory(const void *blob, "
           "size_t size, " +
           N +
           "_context **ctx);\n"
           "void " +
           N + "_destroy(" + N +
           "_context *ctx);\n"
           "canao_status " +
           N + "_set_num_threads(" + N +
           "_context *ctx, int threads);\n"
           "/* Runs the model. Tensors are checked against the signature; "
           "outputs are\n   caller-allocated. One call at a time per context: "
           "while another thread\n   runs it, this returns CANAO_ERROR_BUSY "
           "and leaves " +
           N +
           "_last_error to that\n   thread (see "
           "canao_status_name). */\n"
           "canao_status " +
           N + "_run(" + N +
           "_context *ctx, const canao_tensor *inputs, size_t num_inputs,\n"
           "                         canao_tensor *outputs, size_t "
           "num_outputs);\n"
           "const char *" +
           N + "_last_error(const " + N +
           "_context *ctx);\n"
           "/* Bytes of activation memory the context holds. */\n"
           "size_t " +
           N +
           "_arena_bytes(void);\n"
           "/* Per-kernel wall time in ms summed over runs, one entry per "
           "kernel in run\n   order with its name. *ms is all zeros unless the "
           "library was built with\n   CANAO_PROFILE defined (cmake "
           "-DCANAO_PROFILE=ON). Returns the kernel\n   count. */\n"
           "size_t " +
           N + "_profile(const " + N +
           "_context *ctx, const char *const **names,\n"
           "                     const double **ms);\n\n" +
           (opts.target->gpu
                ? "/* OpenCL: create with options (a program cache directory, "
                  "and whether to run\n   the CPU kernels when no OpenCL "
                  "device works; NAME_create: neither).\n   Without a device "
                  "and without the fallback: CANAO_ERROR_DEVICE. */\n"
                  "canao_status " +
                      N +
                      "_create_with_options(const char *weights_path,\n"
                      "                                 const canao_options "
                      "*options,\n                                 " +
                      N +
                      "_context **ctx);\n"
                      "/* Where the context runs: \"OpenCL: <device>\" or "
                      "\"CPU (fallback: <why>)\". */\n"
                      "const char *" +
                      N + "_device(const " + N + "_context *ctx);\n\n"
                : std::string()) +
           "#ifdef __cplusplus\n}\n#endif\n\n#endif\n"});

  // --- NAME.cpp
  std::string embedded = opts.embedWeights
                             ? "extern \"C\" const unsigned char " + N +
                                   "_weights_blob[];\n"
                                   "extern \"C\" const size_t " +
                                   N + "_weights_blob_size;\n"
                             : "";
  std::string loadWithoutPath =
      opts.embedWeights
          ? "  return ctx->base.use_blob(" + N + "_weights_blob, " + N +
                "_weights_blob_size, kWeightBytes, kWeightChecksum, "
                "\"the embedded weights\");\n"
          : "  return ctx->base.fail(CANAO_ERROR_INVALID_ARGUMENT, \"no "
            "weights path given and no weights embedded\");\n";
  std::string checksumText;
  {
    llvm::raw_string_ostream os(checksumText);
    os << llvm::format_hex(checksum, 18);
  }
  // OpenCL targets: the GPU program and its host tables beside the CPU
  // kernels (docs/opencl.md).
  const bool gpu = opts.target->gpu.has_value();
  std::string gpuInclude, gpuMembers, gpuTables, gpuCreate, gpuRun, gpuApi;
  std::string runInit = "  if (!ctx->base.weights() || (kArenaBytes && "
                        "!ctx->base.arena()))\n";
  std::string runCall = "run_kernels(ctx, inputs, outputs)";
  if (gpu) {
    auto program = emitOpenCL(plan, *opts.target);
    if (!program)
      return program.takeError();
    files.push_back({"kernels/" + N + ".cl", program->source});
    gpuInclude = "#include \"canao/opencl_model.h\"\n";
    gpuMembers = "  canao_rt::ocl::ClModel cl;\n  bool gpu = false;\n"
                 "  std::string device = \"none\";\n";
    std::string messages;
    for (const std::string &m : checkMessages)
      messages += "  " + m + ",\n";
    gpuTables = emitOpenCLTables(plan, *program) +
                "const char *const kCheckMessages[] = {\n" +
                (messages.empty() ? "  \"\"\n" : messages) + "};\n\n";
    gpuCreate =
        "  std::string error;\n"
        "  if (ctx->cl.open(kClDesc, ctx->base.weights(), kWeightBytes,\n"
        "                   options ? options->cl_cache_dir : nullptr, "
        "error)) {\n"
        "    ctx->gpu = true;\n"
        "    ctx->device = \"OpenCL: \" + ctx->cl.device().name +\n"
        "                  (ctx->cl.build_info().fromCache ? \" (program from "
        "cache)\"\n                                                  : \" "
        "(program built)\");\n"
        "    return ctx->base.set_threads(1, 0);\n  }\n"
        "  if (!options || !options->cpu_fallback)\n"
        "    return ctx->base.fail(CANAO_ERROR_DEVICE, \"OpenCL: %s\", "
        "error.c_str());\n"
        "  ctx->device = \"CPU (fallback: \" + error + \")\";\n";
    gpuRun =
        "canao_status run_opencl(" + N +
        "_context *ctx, const canao_tensor *inputs, canao_tensor *outputs) "
        "{\n"
        "  int32_t bad[3] = {0, 0, 0};\n  std::string error;\n"
        "  if (!ctx->cl.run(inputs, outputs, bad, error))\n"
        "    return ctx->base.fail(CANAO_ERROR_DEVICE, \"OpenCL: %s\", "
        "error.c_str());\n"
        "  if (bad[0] <= 0 || size_t(bad[0]) > sizeof kCheckMessages / "
        "sizeof *kCheckMessages)\n    return CANAO_OK;\n"
        "  const long long v = static_cast<long long>(\n"
        "      (uint64_t(uint32_t(bad[2])) << 32) | uint32_t(bad[1]));\n"
        "  return ctx->base.fail(CANAO_ERROR_OUT_OF_RANGE, "
        "kCheckMessages[bad[0] - 1], v);\n}\n\n";
    runInit = "  if (!ctx->gpu && (!ctx->base.weights() || (kArenaBytes && "
              "!ctx->base.arena())))\n";
    runCall = "ctx->gpu ? run_opencl(ctx, inputs, outputs) : " + runCall;
    gpuApi = "canao_status " + N +
             "_create_with_options(const char *weights_path, "
             "const canao_options *options,\n    " +
             N +
             "_context **out) {\n"
             "  canao_status s = new_context(out);\n"
             "  if (s != CANAO_OK)\n    return s;\n"
             "  s = load_weights(*out, weights_path);\n"
             "  return s != CANAO_OK ? s : finish_create(*out, options);\n}\n\n"
             "const char *" +
             N + "_device(const " + N +
             "_context *ctx) {\n"
             "  return ctx ? ctx->device.c_str() : \"null context\";\n}\n\n";
  }
  std::string isaGuard;
  if (!opts.target->requiredMacros.empty())
    isaGuard = "#if !(" + opts.target->requiredMacros +
               ")\n#error \"generated for --target " + opts.target->name +
               ": " + opts.target->requiredHint + "\"\n#endif\n\n";
  files.push_back(
      {N + ".cpp",
       banner + isaGuard + "#include \"" + N +
           ".h\"\n#include \"canao/runtime.h\"\n"
           "#include \"canao/ukernels/bsr.h\"\n"
           "#include \"canao/ukernels/gemm.h\"\n"
           "#include \"canao/ukernels/rows.h\"\n" +
           gpuInclude +
           "\n#include <algorithm>\n#include <cmath>\n#include <cstdint>\n"
           "#include <chrono>\n#include <cstring>\n\n" +
           embedded + "struct " + N +
           "_context {\n  canao_rt::ContextBase base;\n" + gpuMembers +
           "};\n\n"
           "namespace {\n\n"
           "constexpr uint64_t kWeightBytes = " +
           std::to_string(plan.weightBytes) +
           "ull;\n"
           "constexpr uint64_t kWeightChecksum = " +
           checksumText +
           "ull;\n"
           "#ifdef CANAO_PROFILE\n"
           "#define CANAO_PROFILE_BEGIN() \\\n"
           "  auto canao_profile_t = std::chrono::steady_clock::now()\n"
           "#define CANAO_PROFILE_POINT(k) "
           "ctx->base.profile_point(k, canao_profile_t)\n"
           "#else\n#define CANAO_PROFILE_BEGIN() (void)0\n"
           "#define CANAO_PROFILE_POINT(k) (void)0\n#endif\n\n"
           "constexpr size_t kKernelCount = " +
           std::to_string(profileCount) +
           ";\n"
           "const char *const kKernelNames[] = {\n" +
           profileNames +
           "};\n"
           "constexpr size_t kArenaBytes = " +
           std::to_string(plan.arenaBytes) +
           ";\n"
           "constexpr size_t kScratchBytes = " +
           std::to_string(plan.scratchBytesPerThread) +
           "; // per thread\n\nconst canao_tensor_info kInputs[] = {\n" +
           infoIn + (infoIn.empty() ? "  {}\n" : "") +
           "};\n"
           "const canao_tensor_info kOutputs[] = {\n" +
           infoOut + "};\n\n" + gpuTables + kernelsText +
           "canao_status run_kernels(" + N +
           "_context *ctx, const canao_tensor *inputs, canao_tensor *outputs) "
           "{\n"
           "  const char *W = ctx->base.weights();\n"
           "  char *A = ctx->base.arena();\n"
           "  int64_t bad_index[2] = {0, 0};\n  (void)W;\n  (void)A;\n  "
           "(void)bad_index;\n  CANAO_PROFILE_BEGIN();\n" +
           callsText + copyOut + "  return CANAO_OK;\n}\n\n" + gpuRun +
           "canao_status finish_create(" + N + "_context *ctx" +
           (gpu ? ", const canao_options *options = nullptr" : "") + ") {\n" +
           gpuCreate +
           "  canao_status s = ctx->base.allocate_arena(kArenaBytes);\n"
           "  return s != CANAO_OK ? s : ctx->base.set_threads(" +
           std::to_string(opts.defaultThreads) +
           ", kScratchBytes);\n}\n\n"
           "// On error *out is still a context (or null when out of memory).\n"
           "canao_status new_context(" +
           N +
           "_context **out) {\n"
           "  if (!out)\n    return CANAO_ERROR_INVALID_ARGUMENT;\n"
           "  *out = new (std::nothrow) " +
           N +
           "_context();\n"
           "  return *out ? CANAO_OK : CANAO_ERROR_OUT_OF_MEMORY;\n}\n\n"
           "// The blob at weights_path; without one, the embedded blob or an "
           "error.\n"
           "canao_status load_weights(" +
           N +
           "_context *ctx, const char *weights_path) {\n"
           "  if (weights_path)\n"
           "    return ctx->base.load_blob_file(weights_path, kWeightBytes, "
           "kWeightChecksum);\n" +
           loadWithoutPath +
           "}\n\n"
           "} // namespace\n\n"
           "extern \"C\" {\n\n"
           "const canao_tensor_info *" +
           N +
           "_inputs(void) { return kInputs; }\n"
           "const canao_tensor_info *" +
           N +
           "_outputs(void) { return kOutputs; }\n"
           "size_t " +
           N +
           "_arena_bytes(void) { return kArenaBytes; }\n\n"
           "canao_status " +
           N + "_create(const char *weights_path, " + N +
           "_context **out) {\n"
           "  canao_status s = new_context(out);\n"
           "  if (s != CANAO_OK)\n    return s;\n"
           "  s = load_weights(*out, weights_path);\n"
           "  return s != CANAO_OK ? s : finish_create(*out);\n}\n\n"
           "canao_status " +
           N +
           "_create_from_memory(const void *blob, size_t "
           "size, " +
           N +
           "_context **out) {\n"
           "  canao_status s = new_context(out);\n"
           "  if (s != CANAO_OK)\n    return s;\n"
           "  " +
           N +
           "_context *ctx = *out;\n"
           "  s = ctx->base.use_blob(blob, size, kWeightBytes, "
           "kWeightChecksum, \"the weight blob\");\n"
           "  return s != CANAO_OK ? s : finish_create(ctx);\n}\n\n"
           "void " +
           N + "_destroy(" + N +
           "_context *ctx) { delete ctx; }\n\n"
           "canao_status " +
           N + "_set_num_threads(" + N +
           "_context *ctx, int threads) {\n"
           "  if (!ctx)\n    return CANAO_ERROR_INVALID_ARGUMENT;\n" +
           kExclusive +
           "  return ctx->base.set_threads(threads, kScratchBytes);\n}\n\n"
           "canao_status " +
           N + "_run(" + N +
           "_context *ctx, const canao_tensor *inputs, size_t num_inputs,\n"
           "                         canao_tensor *outputs, size_t "
           "num_outputs) {\n"
           "  if (!ctx)\n    return CANAO_ERROR_INVALID_ARGUMENT;\n" +
           kExclusive + runInit +
           "    return ctx->base.fail(CANAO_ERROR_INVALID_ARGUMENT, \"the "
           "context "
           "failed to initialize\");\n"
           "  canao_status s = ctx->base.check_tensors(inputs, num_inputs, "
           "kInputs, " +
           std::to_string(plan.inputNames.size()) +
           ", \"input\");\n"
           "  if (s == CANAO_OK)\n"
           "    s = ctx->base.check_tensors(outputs, num_outputs, kOutputs, " +
           std::to_string(plan.outputs.size()) +
           ", \"output\");\n"
           "  if (s == CANAO_OK)\n    s = " +
           runCall +
           ";\n"
           "  if (s == CANAO_OK)\n    ctx->base.clear_error();\n"
           "  return s;\n}\n\n"
           "const char *" +
           N + "_last_error(const " + N +
           "_context *ctx) {\n"
           "  return ctx ? ctx->base.last_error() : \"null context\";\n}\n\n"
           "size_t " +
           N + "_profile(const " + N +
           "_context *ctx, const char *const **names, const double **ms) {\n"
           "  if (names)\n    *names = kKernelNames;\n"
           "  if (ms)\n    *ms = ctx ? ctx->base.profile_ms(kKernelCount) : "
           "nullptr;\n"
           "  return kKernelCount;\n}\n\n" +
           gpuApi + "} // extern \"C\"\n"});

  // --- NAME_run.cpp
  std::string defaultWeights =
      opts.embedWeights ? "nullptr" : "CANAO_DEFAULT_WEIGHTS";
  files.push_back(
      {N + "_run.cpp",
       banner + "#include \"" + N +
           ".h\"\n#include \"canao/runner.h\"\n\n"
           "#ifndef CANAO_DEFAULT_WEIGHTS\n#define CANAO_DEFAULT_WEIGHTS \"" +
           N +
           ".weights\"\n#endif\n\n"
           "int main(int argc, char **argv) {\n"
           "  canao_rt::ModelApi api;\n"
           "  api.name = " +
           cString(N) +
           ";\n"
           "  api.inputs = " +
           N +
           "_inputs();\n"
           "  api.num_inputs = " +
           guard +
           "_NUM_INPUTS;\n"
           "  api.outputs = " +
           N +
           "_outputs();\n"
           "  api.num_outputs = " +
           guard +
           "_NUM_OUTPUTS;\n"
           "  api.default_weights = " +
           defaultWeights +
           ";\n"
           "  api.create = [](const char *w, canao_status *s) -> void * {\n"
           "    " +
           N +
           "_context *ctx = nullptr;\n"
           "    *s = " +
           N +
           "_create(w, &ctx);\n    return ctx;\n  };\n"
           "  api.destroy = [](void *c) { " +
           N + "_destroy(static_cast<" + N +
           "_context *>(c)); };\n"
           "  api.set_num_threads = [](void *c, int t) {\n"
           "    return " +
           N + "_set_num_threads(static_cast<" + N +
           "_context *>(c), t);\n  };\n"
           "  api.run = [](void *c, const canao_tensor *i, size_t ni, "
           "canao_tensor *o, size_t no) {\n"
           "    return " +
           N + "_run(static_cast<" + N +
           "_context *>(c), i, ni, o, no);\n  };\n"
           "  api.last_error = [](const void *c) {\n"
           "    return " +
           N + "_last_error(static_cast<const " + N +
           "_context *>(c));\n  };\n"
           "  api.profile = [](const void *c, const char *const **n, "
           "const double **ms) {\n    return " +
           N + "_profile(static_cast<const " + N +
           "_context *>(c), n, ms);\n  };\n" +
           (opts.target->gpu
                ? "  api.create_with_options = [](const char *w, const "
                  "canao_options *o,\n"
                  "                                canao_status *s) -> void "
                  "* {\n    " +
                      N + "_context *ctx = nullptr;\n    *s = " + N +
                      "_create_with_options(w, o, &ctx);\n    return ctx;\n"
                      "  };\n  api.device = [](const void *c) {\n    return " +
                      N + "_device(static_cast<const " + N +
                      "_context *>(c));\n  };\n"
                : std::string()) +
           "  return canao_rt::runner_main(argc, argv, api);\n}\n"});

  // --- CMakeLists.txt: the target's ISA flags apply to the library only.
  std::string targetFlags;
  if (!opts.target->cxxFlags.empty()) {
    targetFlags = "# target " + opts.target->name +
                  "\nif(CMAKE_CXX_COMPILER_ID MATCHES \"GNU|Clang\")\n"
                  "  target_compile_options(" +
                  N + " PRIVATE";
    for (const std::string &f : opts.target->cxxFlags)
      targetFlags += " " + f;
    targetFlags += ")\nendif()\n";
  }
  // The same flags as a GCC/Clang response file, for builds that compile
  // the sources without this CMakeLists (canao_add_model: `@NAME.isa-flags`).
  std::string isaFlags;
  for (const std::string &f : opts.target->cxxFlags)
    isaFlags += (isaFlags.empty() ? "" : " ") + f;
  files.push_back({N + ".isa-flags", isaFlags + "\n"});
  std::string sources = N + ".cpp";
  if (opts.embedWeights)
    sources += " " + N + "_weights.cpp";
  files.push_back(
      {"CMakeLists.txt",
       "# Generated by canaoc " + opts.compilerVersion + " from " +
           opts.modelFile +
           ".\n"
           "cmake_minimum_required(VERSION 3.16)\n"
           "project(" +
           N +
           " LANGUAGES CXX)\n\n"
           "if(NOT CMAKE_BUILD_TYPE)\n"
           "  set(CMAKE_BUILD_TYPE Release CACHE STRING \"\" FORCE)\n"
           "endif()\n\n"
           "add_library(" +
           N + " STATIC " + sources +
           ")\n"
           "target_compile_features(" +
           N +
           " PUBLIC cxx_std_17)\n"
           "find_package(Threads REQUIRED)\n"
           "target_link_libraries(" +
           N + " PUBLIC Threads::Threads" +
           // dlopen of the OpenCL driver (libdl before glibc 2.34, Android).
           (opts.target->gpu ? " ${CMAKE_DL_LIBS}" : "") + ")\n" + targetFlags +
           "option(CANAO_PROFILE \"per-kernel timing (" + N +
           "_run --bench N --profile)\" OFF)\n"
           "if(CANAO_PROFILE)\n  target_compile_definitions(" +
           N + " PRIVATE CANAO_PROFILE)\nendif()\n" +
           "target_include_directories(" + N +
           " PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} "
           "${CMAKE_CURRENT_SOURCE_DIR}/runtime)\n\n"
           "add_executable(" +
           N + "_run " + N +
           "_run.cpp)\n"
           "target_link_libraries(" +
           N + "_run PRIVATE " + N + ")\n" +
           (opts.embedWeights
                ? std::string()
                : "target_compile_definitions(" + N +
                      "_run PRIVATE\n  CANAO_DEFAULT_WEIGHTS=\"${CMAKE_CURRENT_"
                      "SOURCE_DIR}/" +
                      N + ".weights\")\n")});
  return files;
}
