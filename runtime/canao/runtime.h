// runtime.h - the canao runtime: weights, arena, errors.
//
// Header-only and copied into every generated library, so two models can be
// linked into one program. Depends only on the C++17 standard library.
#ifndef CANAO_RUNTIME_H
#define CANAO_RUNTIME_H

#include "canao/canao_types.h"
#include "canao/threadpool.h"

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace canao_rt {

// Weight blob layout (little-endian): a 64-byte header, then the payload.
//   0  char[8]  magic "CANAOWTS"
//   8  uint32   format version (1)
//  12  uint32   header size (64)
//  16  uint64   payload bytes
//  24  uint64   payload checksum (checksum64 below)
//  32  ...      zero
constexpr char kBlobMagic[8] = {'C', 'A', 'N', 'A', 'O', 'W', 'T', 'S'};
constexpr uint32_t kBlobVersion = 1;
constexpr size_t kBlobHeaderBytes = 64;

// FNV-1a over 64-bit little-endian words (the tail zero-padded): fast
// enough to check a 440 MB blob at load, and good at catching corruption.
// `h` continues an earlier call over the preceding bytes when every earlier
// size was a multiple of 8 (canaoc hashes the blob one constant at a time).
constexpr uint64_t kChecksumSeed = 1469598103934665603ull;
inline uint64_t checksum64(const void *data, size_t size,
                           uint64_t h = kChecksumSeed) {
  const unsigned char *p = static_cast<const unsigned char *>(data);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ull;
  }
  if (i < size) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, size - i);
    h = (h ^ w) * 1099511628211ull;
  }
  return h;
}

// 64-byte aligned, zero-initialized heap memory. Buffers of 8 MB and more
// (the weights) are 2 MB aligned and, on Linux, asked for transparent huge
// pages: a run streams every weight once, and with 4 KB pages that is a TLB
// miss every 4 KB and a hardware prefetcher that stops at each page
// boundary. -DCANAO_NO_HUGE_PAGES turns this off.
class AlignedBuffer {
public:
  static constexpr size_t kHugeThreshold = size_t(8) << 20;
  static constexpr size_t kHugePage = size_t(2) << 20;

  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer &) = delete;
  AlignedBuffer &operator=(const AlignedBuffer &) = delete;
  ~AlignedBuffer() { release(); }

  bool allocate(size_t bytes) {
    release();
    if (bytes == 0)
      return true;
    const size_t align = bytes >= kHugeThreshold ? kHugePage : 64;
    const size_t rounded = (bytes + align - 1) / align * align;
    data_ = static_cast<char *>(
        ::operator new(rounded, std::align_val_t(align), std::nothrow));
    if (!data_)
      return false;
#if defined(__linux__) && defined(MADV_HUGEPAGE) &&                            \
    !defined(CANAO_NO_HUGE_PAGES)
    if (align == kHugePage)
      madvise(data_, rounded, MADV_HUGEPAGE); // advisory: failure is fine
#endif
    std::memset(data_, 0, bytes);
    size_ = bytes;
    align_ = align;
    return true;
  }
  void release() {
    if (data_)
      ::operator delete(data_, std::align_val_t(align_));
    data_ = nullptr;
    size_ = 0;
  }
  char *data() const { return data_; }
  size_t size() const { return size_; }

private:
  char *data_ = nullptr;
  size_t size_ = 0;
  size_t align_ = 64;
};

// What every generated context holds: weights, the arena, the last error.
class ContextBase {
public:
  canao_status fail(canao_status status, const char *fmt, ...) {
    char buf[512];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    error_ = buf;
    return status;
  }
  const char *last_error() const { return error_.c_str(); }
  void clear_error() { error_.clear(); }

  // Verifies a blob held in memory and uses its payload (not copied).
  canao_status use_blob(const void *blob, size_t size, uint64_t payload_bytes,
                        uint64_t checksum, const char *what) {
    const char *p = static_cast<const char *>(blob);
    if (!p || size < kBlobHeaderBytes ||
        std::memcmp(p, kBlobMagic, sizeof kBlobMagic) != 0)
      return fail(CANAO_ERROR_WEIGHTS, "%s is not a canao weight blob", what);
    uint32_t version;
    uint64_t bytes, sum;
    std::memcpy(&version, p + 8, 4);
    std::memcpy(&bytes, p + 16, 8);
    std::memcpy(&sum, p + 24, 8);
    if (version != kBlobVersion)
      return fail(CANAO_ERROR_WEIGHTS,
                  "%s has weight format version %u; this model needs %u", what,
                  version, kBlobVersion);
    if (bytes != payload_bytes || sum != checksum)
      return fail(CANAO_ERROR_WEIGHTS,
                  "%s belongs to another model (size or checksum differs)",
                  what);
    if (size - kBlobHeaderBytes < bytes ||
        checksum64(p + kBlobHeaderBytes, bytes) != checksum)
      return fail(CANAO_ERROR_WEIGHTS, "%s is truncated or corrupt", what);
    weights_ = p + kBlobHeaderBytes;
    return CANAO_OK;
  }

  // Reads a blob file into aligned memory and verifies it.
  canao_status load_blob_file(const char *path, uint64_t payload_bytes,
                              uint64_t checksum) {
    std::FILE *f = std::fopen(path, "rb");
    if (!f)
      return fail(CANAO_ERROR_IO, "cannot open weights '%s': %s", path,
                  std::strerror(errno));
    size_t want = kBlobHeaderBytes + payload_bytes;
    if (!owned_weights_.allocate(want + 1)) {
      std::fclose(f);
      return fail(CANAO_ERROR_OUT_OF_MEMORY, "cannot allocate %zu bytes", want);
    }
    // Reading one byte more than expected detects oversized files.
    size_t got = std::fread(owned_weights_.data(), 1, want + 1, f);
    std::fclose(f);
    if (got != want)
      return fail(CANAO_ERROR_WEIGHTS,
                  "weights '%s' have %zu bytes; this model needs %zu", path,
                  got, want);
    std::string what = "weights '" + std::string(path) + "'";
    return use_blob(owned_weights_.data(), got, payload_bytes, checksum,
                    what.c_str());
  }

  canao_status allocate_arena(size_t bytes) {
    if (!arena_.allocate(bytes))
      return fail(CANAO_ERROR_OUT_OF_MEMORY, "cannot allocate a %zu-byte arena",
                  bytes);
    return CANAO_OK;
  }

  // Checks caller tensors against the model's signature.
  canao_status check_tensors(const canao_tensor *tensors, size_t count,
                             const canao_tensor_info *info, size_t expected,
                             const char *kind) {
    if (count != expected)
      return fail(CANAO_ERROR_INVALID_ARGUMENT, "expected %zu %ss, got %zu",
                  expected, kind, count);
    if (expected && !tensors)
      return fail(CANAO_ERROR_INVALID_ARGUMENT, "%ss is null", kind);
    for (size_t i = 0; i < count; ++i) {
      const canao_tensor &t = tensors[i];
      const canao_tensor_info &want = info[i];
      if (t.dtype != want.dtype)
        return fail(CANAO_ERROR_DTYPE, "%s '%s': expected %s, got %s", kind,
                    want.name, canao_dtype_name(want.dtype),
                    canao_dtype_name(t.dtype));
      bool same = t.rank == want.rank;
      for (int32_t d = 0; same && d < t.rank; ++d)
        same = t.dims[d] == want.dims[d];
      if (!same)
        return fail(CANAO_ERROR_SHAPE, "%s '%s': expected shape %s, got %s",
                    kind, want.name, shape_string(want.rank, want.dims).c_str(),
                    shape_string(t.rank, t.dims).c_str());
      if (!t.data)
        return fail(CANAO_ERROR_INVALID_ARGUMENT, "%s '%s' has no data", kind,
                    want.name);
    }
    return CANAO_OK;
  }

  static std::string shape_string(int32_t rank, const int64_t *dims) {
    if (rank < 0 || rank > CANAO_MAX_RANK)
      return "(rank " + std::to_string(rank) + ")";
    std::string s = "[";
    for (int32_t d = 0; d < rank; ++d)
      s += (d ? "x" : "") + std::to_string(dims[d]);
    return s + "]";
  }

  // Starts the pool and gives each participant `scratch_per_thread` bytes
  // of scratch (kernels' per-thread tiles), so run() allocates nothing.
  canao_status set_threads(int n, size_t scratch_per_thread) {
    if (n < 1)
      return fail(CANAO_ERROR_INVALID_ARGUMENT,
                  "thread count must be >= 1, got %d", n);
    if (!pool.resize(n)) {
      pool.resize(1);
      return fail(CANAO_ERROR_OUT_OF_MEMORY, "cannot start %d threads", n);
    }
    if (!scratch_.allocate(scratch_per_thread * static_cast<size_t>(n)))
      return fail(CANAO_ERROR_OUT_OF_MEMORY,
                  "cannot allocate scratch for %d threads", n);
    scratch_stride_ = scratch_per_thread;
    threads = n;
    return CANAO_OK;
  }
  char *scratch(int participant) const {
    return scratch_.data() + scratch_stride_ * participant;
  }

  // Per-kernel time, summed over runs; filled only in libraries built with
  // CANAO_PROFILE (the generated code calls profile_point after each
  // kernel), so it costs nothing otherwise.
  void profile_point(size_t kernel, std::chrono::steady_clock::time_point &t) {
    auto now = std::chrono::steady_clock::now();
    if (profile_.size() <= kernel)
      profile_.resize(kernel + 1, 0.0);
    profile_[kernel] +=
        std::chrono::duration<double, std::milli>(now - t).count();
    t = now;
  }
  const double *profile_ms(size_t kernels) const {
    if (profile_.size() < kernels)
      profile_.resize(kernels, 0.0);
    return profile_.data();
  }

  const char *weights() const { return weights_; }
  char *arena() const { return arena_.data(); }

  // One call at a time per context (NAME_run, NAME_set_num_threads): a
  // second thread gets CANAO_ERROR_BUSY instead of sharing the arena. The
  // flag is all the refused call touches, so it races with nothing.
  class Exclusive {
  public:
    explicit Exclusive(ContextBase &b)
        : b_(b), held_(!b.busy_.exchange(true, std::memory_order_acquire)) {}
    ~Exclusive() {
      if (held_)
        b_.busy_.store(false, std::memory_order_release);
    }
    Exclusive(const Exclusive &) = delete;
    Exclusive &operator=(const Exclusive &) = delete;
    bool held() const { return held_; }

  private:
    ContextBase &b_;
    bool held_;
  };
  int threads = 1;
  ThreadPool pool;

private:
  std::atomic<bool> busy_{false};
  std::string error_;
  mutable std::vector<double> profile_;
  const char *weights_ = nullptr;
  AlignedBuffer owned_weights_;
  AlignedBuffer arena_;
  AlignedBuffer scratch_;
  size_t scratch_stride_ = 0;
};

} // namespace canao_rt

#endif // CANAO_RUNTIME_H
