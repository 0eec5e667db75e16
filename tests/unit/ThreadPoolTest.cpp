// canao_rt::ThreadPool (runtime/canao/threadpool.h): coverage of the static
// split, resizing after use, and wake-ups.
//
// Worker threads never touch Catch2 (it is not thread-safe): the callables
// record into atomics or under a mutex, and the checks run on the caller.
//
// parallel_for is only ever given an rvalue here: with an lvalue callable
// it does not compile (F deduces to a reference, and `F *` is formed).
#include "canao/threadpool.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using canao_rt::ThreadPool;

namespace {

// Aborts the test binary if it is still alive after `seconds`: a lost
// wake-up would otherwise hang the suite instead of failing it.
class Watchdog {
public:
  Watchdog(const char *what, int seconds)
      : thread_([this, what, seconds] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!cv_.wait_for(lock, std::chrono::seconds(seconds),
                            [this] { return done_; })) {
            std::fprintf(stderr, "ThreadPoolTest: '%s' hung for %d s\n", what,
                         seconds);
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_; // last: starts after the members it uses
};

// What one parallel_for call did.
struct Record {
  explicit Record(int64_t count) : hits(new std::atomic<int>[count]()) {
    for (int64_t i = 0; i < count; ++i)
      hits[i].store(0);
  }
  std::unique_ptr<std::atomic<int>[]> hits;
  std::atomic<int> calls{0};
  std::atomic<int> badArgs{0};
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> ranges; // [b, e) by participant
};

// A callable that logs into a Record; kept alive by the test so that a
// stale replay of it (the pool's ctx_ still points at it) is counted, not
// undefined behaviour.
struct Job {
  Record *rec;
  int64_t count;
  int threads;
  void operator()(int64_t b, int64_t e, int t) const {
    rec->calls.fetch_add(1);
    if (b < 0 || e > count || b > e || t < 0 || t >= threads) {
      rec->badArgs.fetch_add(1);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(rec->mutex);
      rec->ranges[t] = {b, e};
    }
    for (int64_t i = b; i < e; ++i)
      rec->hits[i].fetch_add(1);
  }
};

// Runs a Job over [0, count) on `pool` and checks every index was run
// exactly once, by the participant the static split assigns it to.
void checkCoverage(ThreadPool &pool, int64_t count) {
  const int n = pool.size();
  Record rec(count);
  rec.ranges.assign(n, {-1, -1});
  Job job{&rec, count, n};
  pool.parallel_for(count, std::move(job));
  int64_t notOnce = 0;
  for (int64_t i = 0; i < count; ++i)
    notOnce += rec.hits[i].load() != 1;
  int64_t wrongSplit = 0;
  for (int t = 0; t < n && count > 1; ++t) {
    const auto range = rec.ranges[t];
    const int64_t b = count * t / n, e = count * (t + 1) / n;
    // A participant with an empty share may or may not be called.
    if (b < e ? range != std::make_pair(b, e)
              : range.first != -1 && range.first != range.second)
      ++wrongSplit;
  }
  CAPTURE(n, count, rec.calls.load());
  CHECK(rec.badArgs.load() == 0);
  CHECK(notOnce == 0);
  CHECK(wrongSplit == 0);
  CHECK(rec.calls.load() <= n);
}

} // namespace

TEST_CASE("parallel_for runs each index of [0, count) exactly once",
          "[threadpool]") {
  Watchdog dog("coverage", 60);
  for (int threads : {1, 2, 3}) {
    ThreadPool pool;
    REQUIRE(pool.resize(threads));
    REQUIRE(pool.size() == threads);
    for (int64_t count : {0, 1, 2, 3, 1000})
      checkCoverage(pool, count);
  }
}

TEST_CASE("resize 2 -> 1 -> 2 -> 3 -> 2 after use: parallel_for works and "
          "no finished job is run again",
          "[threadpool]") {
  Watchdog dog("resize", 60);
  ThreadPool pool;
  const int sizes[] = {2, 1, 2, 3, 2};
  const int64_t count = 1000;
  // Every job stays alive (and its calls counted) to the end.
  std::vector<std::unique_ptr<Record>> records;
  std::vector<int> callsAfterRun;
  std::vector<Job> jobs;
  jobs.reserve(std::size(sizes));
  for (int n : sizes) {
    REQUIRE(pool.resize(n));
    REQUIRE(pool.size() == n);
    // New workers start (and, with the old bug, replayed the last job)
    // right away; give them the time to.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (size_t i = 0; i < records.size(); ++i) {
      CAPTURE(n, i);
      CHECK(records[i]->calls.load() == callsAfterRun[i]);
    }
    records.emplace_back(new Record(count));
    records.back()->ranges.assign(n, {-1, -1});
    jobs.push_back(Job{records.back().get(), count, n});
    pool.parallel_for(count, std::move(jobs.back()));
    callsAfterRun.push_back(records.back()->calls.load());
    int64_t notOnce = 0;
    for (int64_t i = 0; i < count; ++i)
      notOnce += records.back()->hits[i].load() != 1;
    CAPTURE(n);
    CHECK(callsAfterRun.back() == n);
    CHECK(records.back()->badArgs.load() == 0);
    CHECK(notOnce == 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (size_t i = 0; i < records.size(); ++i) {
    CAPTURE(i);
    CHECK(records[i]->calls.load() == callsAfterRun[i]);
  }
  // The pool is still usable.
  checkCoverage(pool, count);
}

TEST_CASE("back-to-back parallel_for calls all complete", "[threadpool]") {
  Watchdog dog("back-to-back", 120);
  for (int threads : {2, 3}) {
    ThreadPool pool;
    REQUIRE(pool.resize(threads));
    // 3 threads on a 2-core machine wait on descheduled spinners: fewer.
    const int rounds = threads == 2 ? 10000 : 2000;
    std::atomic<int64_t> items{0}, calls{0};
    for (int i = 0; i < rounds; ++i)
      pool.parallel_for(7, [&](int64_t b, int64_t e, int) {
        items.fetch_add(e - b, std::memory_order_relaxed);
        calls.fetch_add(1, std::memory_order_relaxed);
      });
    CAPTURE(threads, rounds);
    CHECK(items.load() == 7 * int64_t(rounds));
    CHECK(calls.load() == int64_t(threads) * rounds);
  }
}

TEST_CASE("parallel_for wakes workers blocked on the condition variable",
          "[threadpool]") {
  Watchdog dog("wake after sleep", 60);
  for (int threads : {2, 3}) {
    ThreadPool pool;
    REQUIRE(pool.resize(threads));
    for (int round = 0; round < 3; ++round) {
      // Longer than the spin phase (kSpins pauses, about a millisecond):
      // every worker is asleep on the condition variable.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      CAPTURE(threads, round);
      checkCoverage(pool, 1000);
    }
  }
}
