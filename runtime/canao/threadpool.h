// threadpool.h - a small persistent thread pool for generated kernels.
//
// Header-only, standard library only. Work is split statically: of
// `count` independent items, participant t of n runs
// [count * t / n, count * (t + 1) / n), the caller being participant 0.
// Every output element is computed by one participant in a fixed order, so
// results are bit-identical for any thread count.
//
// A model run is a few hundred short parallel loops, each a fraction of a
// millisecond, so waking a sleeping thread (tens of microseconds) for each
// would cost more than the split gains. Workers and the caller therefore
// spin briefly on an atomic before they block on a condition variable.
#ifndef CANAO_THREADPOOL_H
#define CANAO_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>
#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

namespace canao_rt {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

class ThreadPool {
public:
  // Spin iterations (about 10-50 ns each) before a thread blocks.
  static constexpr int kSpins = 1 << 14;

  ThreadPool() = default;
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;
  ~ThreadPool() { stop(); }

  // Total participants, the caller included. False if threads could not be
  // started (the pool then runs everything on the caller).
  bool resize(int n) {
    if (n < 1)
      n = 1;
    if (n == size())
      return true;
    stop();
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
    // A worker starts at the current generation: a pool resized after use
    // must not replay the last (finished) job.
    const uint64_t now = generation_.load();
    for (int t = 1; t < n; ++t) {
#if defined(__cpp_exceptions)
      try {
        workers_.emplace_back([this, t, now] { work(t, now); });
      } catch (...) {
        size_.store(static_cast<int>(workers_.size()) + 1);
        return false;
      }
#else
      workers_.emplace_back([this, t, now] { work(t, now); });
#endif
    }
    size_.store(n);
    return true;
  }

  int size() const { return size_.load(std::memory_order_relaxed); }

  // Runs f(begin, end, participant) over [0, count), split statically.
  template <typename F> void parallel_for(int64_t count, F &&f) {
    const int n = size();
    if (n == 1 || count <= 1) {
      f(int64_t(0), count, 0);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    fn_ = [](void *ctx, int64_t b, int64_t e, int t) {
      (*static_cast<Fn *>(ctx))(b, e, t);
    };
    ctx_ = const_cast<void *>(static_cast<const void *>(&f));
    count_ = count;
    pending_.store(n - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    {
      // Sleeping workers re-check the generation under the lock.
      std::lock_guard<std::mutex> lock(mutex_);
    }
    start_.notify_all();
    f(int64_t(0), count / n, 0);
    for (int i = 0; i < kSpins; ++i) {
      if (pending_.load(std::memory_order_acquire) == 0)
        return;
      cpu_relax();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(
        lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
  }

private:
  // Workers pinned to cores keep their caches; the caller is left alone
  // (it belongs to the application). sched_setaffinity on the calling
  // thread, not pthread_setaffinity_np: Android's bionic has only the
  // former. Advisory: a refusal (a restricted cpuset) changes nothing else.
  static void pin_to_core(int t) {
#if defined(__linux__) && defined(CPU_SET)
    unsigned cores = std::thread::hardware_concurrency();
    if (cores > 1) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(t % cores, &set);
      (void)sched_setaffinity(0, sizeof set, &set);
    }
#else
    (void)t;
#endif
  }

  void work(int t, uint64_t seen) {
    pin_to_core(t);
    for (;;) {
      bool ready = false;
      for (int i = 0; i < kSpins && !ready; ++i) {
        ready = generation_.load(std::memory_order_acquire) != seen ||
                stopping_.load(std::memory_order_relaxed);
        if (!ready)
          cpu_relax();
      }
      if (!ready) {
        std::unique_lock<std::mutex> lock(mutex_);
        start_.wait(lock, [&] {
          return stopping_.load() ||
                 generation_.load(std::memory_order_acquire) != seen;
        });
      }
      if (stopping_.load())
        return;
      seen = generation_.load(std::memory_order_acquire);
      const int n = size();
      const int64_t b = count_ * t / n, e = count_ * (t + 1) / n;
      if (b < e)
        fn_(ctx_, b, e, t);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    start_.notify_all();
    for (std::thread &w : workers_)
      w.join();
    workers_.clear();
    size_.store(1);
  }

  std::vector<std::thread> workers_;
  std::atomic<int> size_{1};
  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
  // Written by the caller before the release increment of generation_,
  // read by workers after the acquire load that sees it.
  void (*fn_)(void *, int64_t, int64_t, int) = nullptr;
  void *ctx_ = nullptr;
  int64_t count_ = 0;
};

} // namespace canao_rt

#endif // CANAO_THREADPOOL_H
