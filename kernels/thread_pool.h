// ThreadPool: one persistent set of worker threads that splits a range of independent work items
// (usually output rows) into contiguous chunks. Each item is computed by exactly one thread with the
// same code, so results are bit-identical for any thread count (no cross-thread reductions).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sieve::kernels {

class ThreadPool {
 public:
  // `num_threads` <= 0 means DefaultThreadCount(). The calling thread works too, so num_threads - 1
  // workers are started; worker w is pinned to the w-th physical core this process may run on (so the
  // caller has core 0 and no two threads share a core while num_threads <= physical cores).
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // One thread per physical core of this process's CPU set: decode streams memory and prefill saturates
  // the FMA units, and neither gains from a second hyperthread on the same core.
  static int DefaultThreadCount();

  int num_threads() const { return num_threads_; }
  // Calls fn(begin, end) on disjoint chunks covering [0, n); returns when all chunks are done.
  // Chunks are multiples of `grain` items (except the last) so SIMD-width or block-aligned splits hold.
  // Not reentrant: fn must not call ParallelFor on the same pool.
  void ParallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn, int64_t grain = 1);

 private:
  void WorkerLoop(int worker);
  void RunChunk(int chunk);

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  uint64_t generation_ = 0;  // bumped per ParallelFor; workers run each generation once
  int pending_ = 0;          // workers still running the current generation
  bool stop_ = false;
  // The current job.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
};

}  // namespace sieve::kernels
