// Persistent thread pool with a static split: chunk c of T covers items [c*n/T, (c+1)*n/T) rounded to
// the grain, so which thread computes an item never changes the arithmetic.
#include "kernels/thread_pool.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::RunChunk(int chunk) {
  const int64_t units = (n_ + grain_ - 1) / grain_;
  const int64_t begin = std::min(n_, units * chunk / num_threads_ * grain_);
  const int64_t end = std::min(n_, units * (chunk + 1) / num_threads_ * grain_);
  if (begin < end) (*fn_)(begin, end);
}

void ThreadPool::WorkerLoop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    RunChunk(worker);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (n <= 0) return;
  if (num_threads_ == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    grain_ = std::max<int64_t>(1, grain);
    pending_ = num_threads_ - 1;
    ++generation_;
  }
  work_cv_.notify_all();
  RunChunk(0);
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return pending_ == 0; });
  fn_ = nullptr;
}

}  // namespace sieve::kernels
