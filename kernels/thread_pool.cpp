// Persistent thread pool: a ParallelFor splits [0, n) into a fixed set of chunks (chunk c of C covers
// units [c*U/C, (c+1)*U/C) of `grain` items) that the threads claim one at a time, so the chunk
// boundaries, and with them the arithmetic, never depend on which thread runs what. Decode made ~540
// ParallelFor calls per step on `small` (~360 since kernels::MatmulMany fused a MoE layer's experts); two costs made them slow (docs/performance.md): waking a worker through a
// condition variable (tens of microseconds on a loaded machine) and a static split that left the caller
// waiting for a worker the OS had not scheduled. Workers now spin briefly (kSpin) before sleeping, and the caller
// takes every chunk no worker has claimed, so it never waits for a wake-up, only for chunks in progress.
#include "kernels/thread_pool.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace sieve::kernels {

namespace {

int ReadSysfsInt(const std::string& path) {
  std::ifstream f(path);
  int v = -1;
  f >> v;
  return v;
}

// One logical CPU per physical core (the first sibling seen), from this process's affinity mask and
// /sys/devices/system/cpu/cpuN/topology; every allowed CPU when the topology is unreadable.
std::vector<int> OneCpuPerCore() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return cpus;
  std::set<std::pair<int, int>> cores_seen;  // (package, core)
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    const std::string topo = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    const int package = ReadSysfsInt(topo + "physical_package_id"), core = ReadSysfsInt(topo + "core_id");
    if (core < 0 || cores_seen.insert({package, core}).second) cpus.push_back(cpu);
  }
  return cpus;
}

// Layout of the job word (thread_pool.h): generation, per-thread flag, chunk count, next chunk.
constexpr int kGenerationShift = 32;
constexpr uint64_t kPerThread = uint64_t{1} << 31;
constexpr int kCountShift = 16;
constexpr uint64_t kFieldMask = 0x7fff;  // count and next: 15 bits used, next has one bit of headroom
uint64_t Generation(uint64_t job) { return job >> kGenerationShift; }
int64_t Count(uint64_t job) { return static_cast<int64_t>((job >> kCountShift) & kFieldMask); }
int64_t Next(uint64_t job) { return static_cast<int64_t>(job & 0xffff); }

// Chunks per thread of a ParallelFor: several, so a thread that starts late or is preempted leaves its
// share to the others; few, since each claim is an atomic on a line every thread writes. Each claim past
// the last chunk bumps `next` once per thread, so count + threads must stay below 2^16.
constexpr int64_t kChunksPerThread = 4;
constexpr int64_t kMaxChunks = 4096;

// How long an idle thread polls before it sleeps: longer than most serial gaps between a decode step's
// ParallelFor calls (norms, RoPE, routing, sampling). At 10 us a batch-1 step on `small` made ~134 futex
// calls (a park, then a wake that costs the caller a syscall and leaves the late worker's chunks to it),
// at 50 us ~16, and the step ran 0.4-1 ms faster in 6 of 7 interleaved pairs on a quiet machine
// (docs/performance.md, round 13). Longer spins cost more than they save when other processes share the
// cores: each spinning thread spends CPU time the scheduler then takes from our working threads (bench
// latency at load average 5 on 2 cores, decode ms/step over two rounds: 100 us 59-112, 30 us 60-68,
// 10 us 49-78, 0 us 50-59).
constexpr auto kSpin = std::chrono::microseconds(50);

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();  // frees the core's shared resources while polling, and saves power
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls `ready` for kSpin; true when it became true.
template <class Ready>
bool Spin(const Ready& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 1;; ++i) {
    if (ready()) return true;
    CpuRelax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return false;
  }
}

}  // namespace

int ThreadPool::DefaultThreadCount() {
  const size_t cores = OneCpuPerCore().size();
  return cores > 0 ? static_cast<int>(cores) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = DefaultThreadCount();
  num_threads_ = num_threads;
  const std::vector<int> cpus = OneCpuPerCore();
  const bool pin = num_threads_ <= static_cast<int>(cpus.size());  // oversubscribed: let the OS place them
  for (int w = 1; w < num_threads_; ++w) {
    workers_.emplace_back([this, w] { WorkerLoop(w); });
    if (pin) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpus[w], &one);
      pthread_setaffinity_np(workers_.back().native_handle(), sizeof(one), &one);  // best effort
    }
  }
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

uint64_t ThreadPool::AwaitJob(uint64_t seen_generation) {
  const auto ready = [&] { return stop_.load() || Generation(job_.load()) != seen_generation; };
  if (!Spin(ready)) {
    std::unique_lock<std::mutex> lock(mu_);
    sleeping_workers_.fetch_add(1);  // before the check: Publish reads it after writing the job word
    work_cv_.wait(lock, ready);
    sleeping_workers_.fetch_sub(1);
  }
  return job_.load();
}

void ThreadPool::Publish(uint64_t flags_and_count) {
  chunks_done_.store(0, std::memory_order_relaxed);  // published by the job word's store below
  job_.store(((Generation(job_.load()) + 1) << kGenerationShift) | flags_and_count);
  if (sleeping_workers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mu_); }  // a worker between its check and its wait holds mu_
    work_cv_.notify_all();
  }
}

void ThreadPool::FinishChunk(int64_t count) {
  if (chunks_done_.fetch_add(1) + 1 == count && caller_sleeping_.load()) {
    { std::lock_guard<std::mutex> lock(mu_); }
    done_cv_.notify_one();
  }
}

void ThreadPool::AwaitDone(int64_t count) {
  const auto done = [&] { return chunks_done_.load() == count; };
  if (Spin(done)) return;
  std::unique_lock<std::mutex> lock(mu_);
  caller_sleeping_.store(true);  // before the check: FinishChunk reads it after counting its chunk
  done_cv_.wait(lock, done);
  caller_sleeping_.store(false);
}

void ThreadPool::RunChunk(uint64_t claim) {
  const int64_t units = (n_ + grain_ - 1) / grain_, count = Count(claim), c = Next(claim);
  const int64_t begin = std::min(n_, units * c / count * grain_);
  const int64_t end = std::min(n_, units * (c + 1) / count * grain_);
  if (begin < end) (*range_fn_)(begin, end);
}

void ThreadPool::Participate(uint64_t job, int thread) {
  if (job & kPerThread) {
    (*thread_fn_)(thread);
    FinishChunk(Count(job));
    return;
  }
  for (;;) {
    // acq_rel: the claim reads the job word that published n_, grain_ and range_fn_.
    const uint64_t claim = job_.fetch_add(1, std::memory_order_acq_rel);
    if ((claim & kPerThread) || Next(claim) >= Count(claim)) return;
    RunChunk(claim);
    FinishChunk(Count(claim));
  }
}

void ThreadPool::WorkerLoop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    const uint64_t job = AwaitJob(seen);
    if (stop_.load()) return;
    seen = Generation(job);
    Participate(job, worker);
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t units = (n + grain - 1) / grain;
  if (num_threads_ == 1 || units == 1) {
    fn(0, n);
    return;
  }
  range_fn_ = &fn;
  n_ = n;
  grain_ = grain;
  const int64_t chunks = std::min({units, kChunksPerThread * num_threads_, kMaxChunks});
  Publish(static_cast<uint64_t>(chunks) << kCountShift);
  Participate(job_.load(), 0);
  AwaitDone(chunks);
}

void ThreadPool::OnEachThread(const std::function<void(int)>& fn) {
  if (num_threads_ == 1) {
    fn(0);
    return;
  }
  thread_fn_ = &fn;
  Publish(kPerThread | (static_cast<uint64_t>(num_threads_) << kCountShift));
  Participate(job_.load(), 0);
  AwaitDone(num_threads_);
}

}  // namespace sieve::kernels
