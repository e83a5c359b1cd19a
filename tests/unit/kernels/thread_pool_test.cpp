// kernels/thread_pool.h: every item exactly once in grain-aligned chunks, whichever thread claims them,
// over many back-to-back calls (workers spinning, sleeping and waking late), and OnEachThread once per thread.
#include "kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace sieve::kernels {
namespace {

TEST(ThreadPool, EveryItemOnceInGrainAlignedChunks) {
  for (const int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (const int64_t n : {int64_t{1}, int64_t{7}, int64_t{64}, int64_t{1000}, int64_t{129281}})
      for (const int64_t grain : {int64_t{1}, int64_t{4}, int64_t{16}, int64_t{256}}) {
        std::vector<std::atomic<int>> hits(n);
        std::atomic<bool> misaligned{false};
        pool.ParallelFor(n, [&](int64_t b, int64_t e) {
          if (b % grain != 0 || (e % grain != 0 && e != n)) misaligned = true;
          for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
        }, grain);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " threads, n=" << n << " item " << i;
        EXPECT_FALSE(misaligned) << threads << " threads, n=" << n << " grain=" << grain;
      }
  }
}

// The chunk boundaries depend on n, grain and the thread count only: callers rely on it for bit-identical
// results (e.g. which rows form a partial tile).
TEST(ThreadPool, ChunksDoNotDependOnWhoRunsThem) {
  ThreadPool pool(3);
  std::set<std::pair<int64_t, int64_t>> first;
  for (int call = 0; call < 200; ++call) {
    std::mutex mu;
    std::set<std::pair<int64_t, int64_t>> chunks;
    pool.ParallelFor(1000, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> lock(mu);
      chunks.insert({b, e});
    }, 4);
    if (call == 0) first = chunks;
    ASSERT_EQ(chunks, first) << "call " << call;
  }
}

TEST(ThreadPool, BackToBackCallsWithIdleGapsAndSleepingWorkers) {
  ThreadPool pool(4);
  int64_t total = 0;
  for (int call = 0; call < 3000; ++call) {
    std::atomic<int64_t> sum{0};
    pool.ParallelFor(100, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
    });
    total += sum.load();
    // Now and then idle long enough for the workers to stop spinning and sleep.
    if (call % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(total, int64_t{3000} * 4950);
}

TEST(ThreadPool, OnEachThreadRunsOncePerThreadAtTheSameTime) {
  for (const int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int call = 0; call < 50; ++call) {
      std::vector<std::atomic<int>> hits(threads);
      std::mutex mu;
      std::set<std::thread::id> ids;
      std::atomic<int> arrived{0};
      pool.OnEachThread([&](int t) {
        hits[t].fetch_add(1);
        {
          std::lock_guard<std::mutex> lock(mu);
          ids.insert(std::this_thread::get_id());
        }
        // Every thread must be running at once: wait until all have arrived.
        arrived.fetch_add(1);
        while (arrived.load() < threads) std::this_thread::yield();
      });
      for (int t = 0; t < threads; ++t) ASSERT_EQ(hits[t].load(), 1) << threads << " threads, thread " << t;
      ASSERT_EQ(static_cast<int>(ids.size()), threads);
      if (call % 10 == 0) pool.ParallelFor(10, [](int64_t, int64_t) {});  // interleaved with range jobs
    }
  }
}

}  // namespace
}  // namespace sieve::kernels
