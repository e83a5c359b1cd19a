// The bench serve request loop; see serve_benchmark.h.
#include "clients/serve_benchmark.h"

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <semaphore>
#include <thread>

#include "clients/arrival_schedule.h"
#include "clients/connection_pool.h"
#include "clients/sse_stream.h"

namespace sieve::clients {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Sends one streamed request and times its chunks against `bench_start`.
RequestOutput SendOne(ConnectionPool& pool, const ServeBenchmarkOptions& options, const BenchRequest& request,
                      const std::string& request_id, Clock::time_point bench_start) {
  const std::string body = BenchRequestBody(options, request);
  StreamRecorder recorder(options.chat, SecondsSince(bench_start), request.prompt_len);
  auto connection = pool.Take();
  if (!connection.ok()) return recorder.Fail(connection.status().message());
  SseSplitter sse;
  size_t messages = 0;
  auto on_message = [&](const std::string& data) {
    ++messages;
    recorder.OnMessage(data, SecondsSince(bench_start));
  };
  auto reply = (*connection)->PostJsonStreamed(options.api_path, body, request_id, [&](std::string_view bytes) {
    sse.Feed(bytes, on_message);
    return true;
  });
  if (!reply.ok()) {
    // httplib reports a timeout and a dropped connection alike as a failed read; what arrived before tells them apart.
    const std::string what = messages > 0 ? fmt::format("the stream was cut after {} messages", messages)
                             : reply.status().code() == StatusCode::kDeadlineExceeded
                                 ? fmt::format("no reply within --timeout {}s or connection lost", options.timeout_s)
                                 : "no connection";
    return recorder.Fail(
        fmt::format("{} ({}{}: {})", what, options.origin, options.api_path, reply.status().message()));
  }
  sse.Flush(on_message);
  RequestOutput out = recorder.Finish(reply->status, reply->body);
  if (out.success) pool.Return(std::move(*connection));
  return out;
}

std::optional<SpecDecodeCounters> SnapshotSpecDecode(ConnectionPool& pool, const ServeBenchmarkOptions& options) {
  auto connection = pool.Take();
  if (!connection.ok()) return std::nullopt;
  auto reply = (*connection)->Get(options.metrics_path);
  if (!reply.ok() || reply->status != 200) return std::nullopt;
  pool.Return(std::move(*connection));
  return ParseSpecDecodeCounters(reply->body);
}

// asyncio.Semaphore(max_concurrency), or no limit.
class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(std::optional<int> limit)
      : semaphore_(limit ? std::make_unique<std::counting_semaphore<>>(*limit) : nullptr) {}
  void Acquire() {
    if (semaphore_) semaphore_->acquire();
  }
  void Release() {
    if (semaphore_) semaphore_->release();
  }

 private:
  std::unique_ptr<std::counting_semaphore<>> semaphore_;
};

// Runs `send(i)` for i in [0, n) on one thread each, thread i started at `start + arrivals[i]`, each
// holding a concurrency slot while it sends; returns when all have finished.
template <typename SendFn>
void SendAll(size_t n, const std::vector<double>& arrivals, Clock::time_point start, ConcurrencyLimit& limit,
             SendFn&& send) {
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::this_thread::sleep_until(
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(arrivals[i])));
    threads.emplace_back([&, i] {
      const Clock::time_point arrived = Clock::now();
      limit.Acquire();
      send(i, std::chrono::duration<double>(Clock::now() - arrived).count());
      limit.Release();
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

std::string BenchRequestBody(const ServeBenchmarkOptions& options, const BenchRequest& request) {
  // Keys in the order vLLM's request functions build them.
  nlohmann::ordered_json body;
  body["model"] = options.model;
  if (options.chat) {
    body["messages"] = {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", request.prompt}}}}}};
    body["max_completion_tokens"] = request.expected_output_len;
  } else {
    body["prompt"] = request.prompt;
    body["repetition_penalty"] = 1.0;
    body["max_tokens"] = request.expected_output_len;
    body["logprobs"] = nullptr;
  }
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  if (options.ignore_eos) body["ignore_eos"] = true;
  return body.dump();
}

StatusOr<ServeBenchmarkRun> RunServeBenchmark(const ServeBenchmarkOptions& options,
                                              const std::vector<BenchRequest>& requests, const ProgressFn& on_done) {
  if (requests.empty()) return Status::InvalidArgument("no requests to send");
  ConnectionPool pool(options.origin, options.timeout_s);
  const Clock::time_point probe_start = Clock::now();
  // vLLM's "initial single prompt test run": a wrong URL or model name stops here, not 1000 times.
  const RequestOutput test = SendOne(pool, options, requests[0], options.request_id_prefix + "test", probe_start);
  if (!test.success) {
    return Status::Unavailable(
        fmt::format("initial test run failed; check --base-url/--host/--port, --endpoint and --model: {}", test.error));
  }
  ConcurrencyLimit limit(options.max_concurrency);
  if (options.num_warmups > 0) {
    const std::vector<double> at_once(static_cast<size_t>(options.num_warmups), 0.0);
    SendAll(at_once.size(), at_once, Clock::now(), limit, [&](size_t i, double) {
      SendOne(pool, options, requests[0], fmt::format("{}warmup-{}", options.request_id_prefix, i), probe_start);
    });
  }
  const auto spec_before = SnapshotSpecDecode(pool, options);
  const std::vector<double> arrivals =
      ArrivalTimes(requests.size(), options.request_rate, options.burstiness, options.seed);

  ServeBenchmarkRun run;
  run.outputs.resize(requests.size());
  std::mutex progress_mutex;
  size_t done = 0;
  const Clock::time_point start = Clock::now();
  SendAll(requests.size(), arrivals, start, limit, [&](size_t i, double queue_time_s) {
    run.outputs[i] = SendOne(pool, options, requests[i], options.request_id_prefix + std::to_string(i), start);
    run.outputs[i].queue_time_s = queue_time_s;
    std::lock_guard<std::mutex> lock(progress_mutex);
    ++done;
    if (on_done) on_done(done, requests.size());
  });
  run.duration_s = SecondsSince(start);
  run.spec_decode = SpecDecodeDelta(spec_before, SnapshotSpecDecode(pool, options));
  return run;
}

}  // namespace sieve::clients
