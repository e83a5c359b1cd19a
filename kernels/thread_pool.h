// ThreadPool: one persistent set of worker threads that splits a range of independent work items
// (usually output rows) into contiguous chunks. Each item is computed by exactly one thread with the
// same code, so results are bit-identical for any thread count (no cross-thread reductions).
#pragma once

#include <atomic>
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
  // Which thread runs a chunk is decided at run time (whoever is free takes the next one), so fn must
  // not depend on the thread it runs on. Not reentrant: fn must not call the pool.
  void ParallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn, int64_t grain = 1);
  // Calls fn(t) once on each pool thread t = 0 .. num_threads() - 1 (t = 0 the caller), all at once:
  // for probes that must measure every core (kernels/machine_limits.h).
  void OnEachThread(const std::function<void(int thread)>& fn);

 private:
  void WorkerLoop(int worker);
  // Runs `job` (the published job word) for a thread: its own chunk of a per-thread job, or chunks
  // claimed from a ParallelFor until none is left.
  void Participate(uint64_t job, int thread);
  void RunChunk(uint64_t chunk);
  void FinishChunk(int64_t count);
  uint64_t AwaitJob(uint64_t seen_generation);
  void Publish(uint64_t flags_and_chunks);
  void AwaitDone(int64_t count);

  int num_threads_;
  std::vector<std::thread> workers_;
  // The job word: generation (bits 32..63), per-thread flag (bit 31), chunk count (bits 16..30), next
  // unclaimed chunk (bits 0..15). Claiming is one fetch_add; a claim whose index is below the count
  // is a chunk of exactly the generation it returned, whoever made it, so a worker that wakes late takes
  // a chunk of the current job or none, and the caller never waits for a sleeping worker to wake.
  std::atomic<uint64_t> job_{0};
  std::atomic<int64_t> chunks_done_{0};
  // Sleeping (after a short spin) on either side; the counters say whether a notify is needed.
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
  // The current job's arguments, written before its job word is published.
  const std::function<void(int64_t, int64_t)>* range_fn_ = nullptr;
  const std::function<void(int)>* thread_fn_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
};

}  // namespace sieve::kernels
