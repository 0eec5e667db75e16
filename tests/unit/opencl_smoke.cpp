// opencl_smoke.cpp - checks runtime/canao/opencl.h against a real driver.
//
// Standalone, and linked without -lOpenCL (the header dlopens the driver):
//   g++ -std=c++17 -O1 -Iruntime tests/unit/opencl_smoke.cpp -ldl -o t
//   POCL_CACHE_DIR=$(mktemp -d) ./t
//   OCL_ICD_VENDORS=$(mktemp -d) ./t --expect-no-platform
//   CANAO_OPENCL_LIBRARY=/nonexistent.so ./t --expect-no-library
// The default mode needs a device (PoCL's CPU device will do). Prints
// "N passed, M failed" and exits non-zero on a failure.
#include "canao/opencl.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace canao_rt::ocl;

namespace {

int passed = 0, failed = 0;
double lastRunSeconds = 0; // of the last runAxpy: a driver may compile late

bool report(bool ok, const char *what, int line, const std::string &detail) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::printf("FAIL line %d: %s%s%s\n", line, what,
                detail.empty() ? "" : ": ", detail.c_str());
  }
  return ok;
}
#define CHECK(cond) report((cond), #cond, __LINE__, std::string())
#define CHECK_MSG(cond, detail) report((cond), #cond, __LINE__, (detail))

bool contains(const std::string &s, const char *part) {
  return s.find(part) != std::string::npos;
}

const char *kAxpy =
    "__kernel void axpy(__global float *y, __global const float *x, float a) "
    "{ size_t i = get_global_id(0); y[i] += a * x[i]; }\n";
const char *kOptions = "-cl-std=CL1.2";

// Runs axpy on 1000 floats; the values are exact in float, so the result
// must match bit for bit.
bool runAxpy(Device &d, cl_program program) {
  constexpr size_t n = 1000;
  std::vector<float> y(n), x(n), out(n, -1.0f);
  for (size_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(i);
    x[i] = static_cast<float>(i % 7) * 0.25f;
  }
  const float a = 2.0f;
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  cl_kernel k = createKernel(d, program, "axpy", error);
  cl_mem yb = createBuffer(d, CL_MEM_READ_WRITE, n * 4, y.data(), error);
  cl_mem xb = createBuffer(d, CL_MEM_READ_ONLY, n * 4, x.data(), error);
  bool ok = k && yb && xb;
  ok = ok &&
       check(d.api->clSetKernelArg(k, 0, sizeof yb, &yb), "arg 0", error) &&
       check(d.api->clSetKernelArg(k, 1, sizeof xb, &xb), "arg 1", error) &&
       check(d.api->clSetKernelArg(k, 2, sizeof a, &a), "arg 2", error);
  const size_t global = n;
  ok = ok &&
       check(d.api->clEnqueueNDRangeKernel(d.queue, k, 1, nullptr, &global,
                                           nullptr, 0, nullptr, nullptr),
             "clEnqueueNDRangeKernel", error) &&
       check(d.api->clEnqueueReadBuffer(d.queue, yb, CL_TRUE, 0, n * 4,
                                        out.data(), 0, nullptr, nullptr),
             "clEnqueueReadBuffer", error);
  size_t bad = 0;
  for (size_t i = 0; ok && i < n; ++i)
    bad += out[i] != y[i] + a * x[i];
  lastRunSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (bad)
    error = std::to_string(bad) + " wrong results";
  if (k)
    d.api->clReleaseKernel(k);
  if (yb)
    d.api->clReleaseMemObject(yb);
  if (xb)
    d.api->clReleaseMemObject(xb);
  return report(ok && bad == 0, "axpy runs and is exact", __LINE__, error);
}

std::vector<unsigned char> readFile(const std::string &path) {
  std::vector<unsigned char> bytes;
  if (std::FILE *f = std::fopen(path.c_str(), "rb")) {
    int c;
    while ((c = std::fgetc(f)) != EOF)
      bytes.push_back(static_cast<unsigned char>(c));
    std::fclose(f);
  }
  return bytes;
}

void writeFile(const std::string &path, const std::vector<unsigned char> &b) {
  if (std::FILE *f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
  }
}

// True if `path` holds a well-formed entry: magic, version, size, checksum.
bool validEntry(const std::string &path) {
  const std::vector<unsigned char> b = readFile(path);
  if (b.size() <= kCacheHeaderBytes || std::memcmp(b.data(), "CANAOCLB", 8))
    return false;
  uint32_t version;
  uint64_t size, sum;
  std::memcpy(&version, &b[8], 4);
  std::memcpy(&size, &b[20], 8);
  std::memcpy(&sum, &b[28], 8);
  return version == kCacheVersion && size == b.size() - kCacheHeaderBytes &&
         sum == fnv1a64(b.data() + kCacheHeaderBytes, size);
}

std::string makeTempDir() {
  std::error_code ec;
  fs::path tmp = fs::temp_directory_path(ec);
  std::string path =
      ((ec ? fs::path("/tmp") : tmp) / "canao-ocl-XXXXXX").string();
  return mkdtemp(&path[0]) ? path : std::string();
}

// Files in `dir` whose name ends with `suffix`.
int countFiles(const std::string &dir, const char *suffix) {
  int n = 0;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    n += name.size() >= std::strlen(suffix) &&
         name.compare(name.size() - std::strlen(suffix), std::string::npos,
                      suffix) == 0;
  }
  return n;
}

// Builds axpy with `cacheDir`, checks where the program came from, runs it.
BuildInfo buildAxpy(Device &d, const std::string &cacheDir, bool fromCache,
                    int line, const std::string &options = kOptions) {
  BuildInfo info;
  std::string error;
  cl_program p = buildProgram(d, kAxpy, options, cacheDir, info, error);
  report(p != nullptr, "buildProgram succeeds", line, error);
  report(info.fromCache == fromCache,
         fromCache ? "built from the cache" : "built from source", line,
         info.cacheNote);
  if (p) {
    runAxpy(d, p);
    d.api->clReleaseProgram(p);
  }
  return info;
}

void testErrorNames() {
  CHECK(std::strcmp(errorName(CL_SUCCESS), "CL_SUCCESS") == 0);
  CHECK(std::strcmp(errorName(-11), "CL_BUILD_PROGRAM_FAILURE") == 0);
  CHECK(std::strcmp(errorName(-54), "CL_INVALID_WORK_GROUP_SIZE") == 0);
  CHECK(std::strcmp(errorName(-1001), "CL_PLATFORM_NOT_FOUND_KHR") == 0);
  CHECK(std::strcmp(errorName(-9999), "OpenCL error -9999") == 0);
  std::string error;
  CHECK(check(CL_SUCCESS, "clFinish", error) && error.empty());
  CHECK(!check(CL_OUT_OF_RESOURCES, "clFinish", error) &&
        error == "clFinish failed: CL_OUT_OF_RESOURCES");
}

void testLoader() {
  std::string error;
  const Api *api = loadOpenCL(error);
  CHECK_MSG(api != nullptr, error);
  if (!api)
    return;
  std::printf("library: %s\n", api->path.c_str());
  CHECK(api->library != nullptr && api->clGetPlatformIDs && api->clFinish &&
        api->clCreateSubBuffer && api->clReleaseEvent);
  // The first call is cached: every thread gets the same table.
  const Api *seen[4] = {};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&seen, t] {
      std::string e;
      seen[t] = loadOpenCL(e);
    });
  for (auto &t : threads)
    t.join();
  for (const Api *s : seen)
    CHECK(s == api);
}

void testCache(Device &d, const std::string &root) {
  const std::string dir = root + "/cache";
  std::error_code ec;
  fs::create_directory(dir, ec);
  const BuildInfo first = buildAxpy(d, dir, false, __LINE__);
  std::printf("cache: first build %.3f s, run %.3f s -> %s\n", first.seconds,
              lastRunSeconds, first.cachePath.c_str());
  CHECK_MSG(first.cacheWritten, first.cacheNote);
  const std::string path = first.cachePath;
  const std::string name = fs::path(path).filename().string();
  CHECK_MSG(name.size() == 26 && name.compare(0, 6, "canao-") == 0 &&
                name.find_first_not_of("0123456789abcdef", 6) == 22 &&
                name.compare(22, 4, ".bin") == 0,
            name);
  const std::vector<unsigned char> good = readFile(path);
  uint64_t size = 0, sum = 0;
  uint32_t version = 0;
  if (CHECK(good.size() > kCacheHeaderBytes)) {
    std::memcpy(&version, &good[8], 4);
    std::memcpy(&size, &good[20], 8);
    std::memcpy(&sum, &good[28], 8);
  }
  CHECK(good.size() > 8 && std::memcmp(good.data(), "CANAOCLB", 8) == 0);
  CHECK(version == kCacheVersion);
  CHECK(size == good.size() - kCacheHeaderBytes);
  CHECK(sum == fnv1a64(good.data() + kCacheHeaderBytes, size));
  std::printf("cache: entry %zu bytes, binary starts \"%.8s\"\n", good.size(),
              good.size() > kCacheHeaderBytes + 8
                  ? reinterpret_cast<const char *>(&good[kCacheHeaderBytes])
                  : "");
  CHECK(countFiles(dir, ".bin") == 1);
  CHECK(countFiles(dir, "") == 1); // no temporary left behind

  BuildInfo again = buildAxpy(d, dir, true, __LINE__);
  std::printf("cache: cached build %.3f s, run %.3f s\n", again.seconds,
              lastRunSeconds);
  CHECK(again.cachePath == path && !again.cacheWritten &&
        again.cacheNote.empty());
  // A trailing slash names the same entry.
  CHECK(buildAxpy(d, dir + "/", true, __LINE__).cachePath == path);

  // A new device (context) reads the same entry.
  closeDevice(d);
  std::string error;
  CHECK_MSG(openDevice(d, error), error);
  again = buildAxpy(d, dir, true, __LINE__);
  std::printf("cache: cached build, new context %.3f s, run %.3f s\n",
              again.seconds, lastRunSeconds);

  // Other options or source: another key, another file.
  const BuildInfo other =
      buildAxpy(d, dir, false, __LINE__, "-cl-std=CL1.2 -DUNUSED=1");
  CHECK(other.cachePath != path && other.cacheWritten);
  CHECK(countFiles(dir, ".bin") == 2);

  // Each damaged entry is rebuilt from source and rewritten whole.
  struct Damage {
    const char *what;
    const char *note;
    std::vector<unsigned char> bytes;
  };
  std::vector<Damage> damages;
  std::vector<unsigned char> b = good;
  for (size_t i = 0; i < 16; ++i)
    b[kCacheHeaderBytes + (b.size() - kCacheHeaderBytes) / 2 + i] ^= 0x5a;
  damages.push_back({"flipped binary bytes", "checksum", b});
  b = good;
  b[b.size() - 1] ^= 1;
  damages.push_back({"flipped last byte", "checksum", b});
  b.assign(good.begin(), good.begin() + kCacheHeaderBytes + size / 2);
  damages.push_back({"half the binary", "size", b});
  b.assign(good.begin(), good.begin() + 20);
  damages.push_back({"truncated header", "truncated", b});
  damages.push_back({"empty file", "truncated", {}});
  b = good;
  b.push_back(0);
  damages.push_back({"a byte appended", "size", b});
  b = good;
  b[0] = 'X';
  damages.push_back({"bad magic", "magic", b});
  b = good;
  b[8] = 99;
  damages.push_back({"another format version", "version", b});
  b = readFile(other.cachePath);
  damages.push_back({"another entry's file", "key", b});
  // Well-formed, checksum right, but not a binary the driver takes.
  b = good;
  for (size_t i = kCacheHeaderBytes; i < b.size(); ++i)
    b[i] = static_cast<unsigned char>(i * 37);
  sum = fnv1a64(b.data() + kCacheHeaderBytes, b.size() - kCacheHeaderBytes);
  std::memcpy(&b[28], &sum, 8);
  damages.push_back({"junk binary, valid checksum", "rejected", b});

  for (const Damage &damage : damages) {
    writeFile(path, damage.bytes);
    const BuildInfo info = buildAxpy(d, dir, false, __LINE__);
    report(info.cacheWritten && contains(info.cacheNote, damage.note),
           damage.what, __LINE__, info.cacheNote);
    std::printf("cache: %s -> rebuilt (%s)\n", damage.what,
                info.cacheNote.c_str());
    report(validEntry(path), "rewritten whole", __LINE__, damage.what);
    buildAxpy(d, dir, true, __LINE__);
  }
  CHECK(countFiles(dir, "") == 2);

  // A cache dir that cannot be written does not fail the build.
  writeFile(root + "/afile", {'x'});
  for (const std::string &bad : {root + "/afile/cache", root + "/missing"}) {
    const BuildInfo info = buildAxpy(d, bad, false, __LINE__);
    report(!info.cacheWritten && contains(info.cacheNote, "cannot create"),
           "unwritable cache dir", __LINE__, info.cacheNote);
  }

  // A failed build writes nothing.
  BuildInfo info;
  cl_program p =
      buildProgram(d, "__kernel void f() { x; }", kOptions, dir, info, error);
  CHECK(p == nullptr && countFiles(dir, "") == 2);
}

void testBuildErrors(Device &d) {
  BuildInfo info;
  std::string error;
  cl_program p =
      buildProgram(d, "__kernel void broken(__global float *y) { y[0] = ; }\n",
                   kOptions, "", info, error);
  CHECK(p == nullptr);
  CHECK_MSG(contains(error, "CL_BUILD_PROGRAM_FAILURE"), error);
  CHECK_MSG(contains(error, "error"), error); // the log came along
  std::printf("syntax error -> %s\n", error.c_str());

  // A long log is cut to its head.
  std::string many;
  for (int i = 0; i < 300; ++i)
    many += "__kernel void k" + std::to_string(i) + "() { undeclared" +
            std::to_string(i) + " = 1; }\n";
  p = buildProgram(d, many, kOptions, "", info, error);
  CHECK(p == nullptr);
  CHECK_MSG(error.size() > 500 && error.size() < 2300,
            std::to_string(error.size()) + " chars");
  CHECK(contains(error, "undeclared0"));

  p = buildProgram(d, kAxpy, "-no-such-option", "", info, error);
  CHECK(p == nullptr && !error.empty());
  std::printf("bad option -> %s\n", error.c_str());

  p = buildProgram(d, kAxpy, kOptions, "", info, error);
  if (CHECK_MSG(p != nullptr, error)) {
    cl_kernel k = createKernel(d, p, "nope", error);
    CHECK_MSG(k == nullptr && contains(error, "CL_INVALID_KERNEL_NAME"), error);
    d.api->clReleaseProgram(p);
  }
}

int expectNoPlatform() {
  std::string error;
  CHECK_MSG(loadOpenCL(error) != nullptr, error); // the ICD loader is there
  Device d;
  CHECK(!openDevice(d, error));
  CHECK_MSG(error == "no OpenCL platform", error);
  std::printf("no platform -> %s\n", error.c_str());
  CHECK(d.api == nullptr && d.context == nullptr && d.queue == nullptr);
  closeDevice(d); // safe on a device that never opened
  BuildInfo info;
  CHECK(buildProgram(d, kAxpy, kOptions, "", info, error) == nullptr &&
        contains(error, "not open"));
  return 0;
}

int expectNoLibrary() {
  const char *forced = std::getenv("CANAO_OPENCL_LIBRARY");
  CHECK(forced && *forced);
  std::string error;
  CHECK(loadOpenCL(error) == nullptr);
  CHECK_MSG(forced && contains(error, forced), error);
  std::printf("no library -> %s\n", error.c_str());
  Device d;
  std::string again;
  CHECK(!openDevice(d, again) && again == error);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--expect-no-platform")
    expectNoPlatform();
  else if (mode == "--expect-no-library")
    expectNoLibrary();
  else if (!mode.empty()) {
    std::printf("usage: %s [--expect-no-platform | --expect-no-library]\n",
                argv[0]);
    return 2;
  } else {
    testErrorNames();
    testLoader();
    Device d;
    std::string error;
    if (CHECK_MSG(openDevice(d, error), error)) {
      std::printf("device: %s | driver %s | %s | max work group %llu, "
                  "base align %llu B, global mem %llu MiB\n",
                  d.name.c_str(), d.driver.c_str(), d.version.c_str(),
                  static_cast<unsigned long long>(d.maxWorkGroup),
                  static_cast<unsigned long long>(d.memBaseAlign),
                  static_cast<unsigned long long>(d.globalMem >> 20));
      CHECK(!d.name.empty() && !d.version.empty());
      CHECK(d.maxWorkGroup > 0 && d.globalMem > 0);
      CHECK(d.memBaseAlign > 0 && (d.memBaseAlign & (d.memBaseAlign - 1)) == 0);
      const BuildInfo plain = buildAxpy(d, "", false, __LINE__);
      std::printf("no cache: build %.3f s, run %.3f s\n", plain.seconds,
                  lastRunSeconds);
      CHECK(!plain.cacheWritten && plain.cachePath.empty());
      const std::string root = makeTempDir();
      if (CHECK(!root.empty())) {
        testCache(d, root);
        std::error_code ec;
        fs::remove_all(root, ec);
      }
      testBuildErrors(d);
      closeDevice(d);
      closeDevice(d); // twice is fine
      BuildInfo info;
      CHECK(buildProgram(d, kAxpy, kOptions, "", info, error) == nullptr &&
            contains(error, "not open"));
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
