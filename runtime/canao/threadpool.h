// threadpool.h - a small persistent thread pool for generated kernels.
//
// Header-only, standard library only. Work is split statically: of
// `count` independent items, participant t of n runs
// [count * t / n, count * (t + 1) / n), the caller being participant 0.
// Every output element is computed by one participant in a fixed order, so
// results are bit-identical for any thread count.
#ifndef CANAO_THREADPOOL_H
#define CANAO_THREADPOOL_H

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>
#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

namespace canao_rt {

class ThreadPool {
public:
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
    for (int t = 1; t < n; ++t) {
#if defined(__cpp_exceptions)
      try {
        workers_.emplace_back([this, t] { work(t); });
      } catch (...) {
        return false;
      }
#else
      workers_.emplace_back([this, t] { work(t); });
#endif
#ifdef __linux__
      // Workers pinned to cores keep their caches; the caller is left alone
      // (it belongs to the application).
      unsigned cores = std::thread::hardware_concurrency();
      if (cores > 1) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(t % cores, &set);
        pthread_setaffinity_np(workers_.back().native_handle(), sizeof set,
                               &set);
      }
#endif
    }
    return true;
  }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs f(begin, end, participant) over [0, count), split statically.
  template <typename F> void parallel_for(int64_t count, F &&f) {
    int n = size();
    if (n == 1 || count <= 1) {
      f(int64_t(0), count, 0);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = [](void *ctx, int64_t b, int64_t e, int t) {
        (*static_cast<F *>(ctx))(b, e, t);
      };
      ctx_ = &f;
      count_ = count;
      pending_ = n - 1;
      ++generation_;
    }
    start_.notify_all();
    f(int64_t(0), count / n, 0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

private:
  void work(int t) {
    uint64_t seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_)
        return;
      seen = generation_;
      int n = size();
      int64_t b = count_ * t / n, e = count_ * (t + 1) / n;
      auto fn = fn_;
      void *ctx = ctx_;
      lock.unlock();
      if (b < e)
        fn(ctx, b, e, t);
      lock.lock();
      if (--pending_ == 0)
        done_.notify_one();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (std::thread &w : workers_)
      w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  void (*fn_)(void *, int64_t, int64_t, int) = nullptr;
  void *ctx_ = nullptr;
  int64_t count_ = 0;
};

} // namespace canao_rt

#endif // CANAO_THREADPOOL_H
