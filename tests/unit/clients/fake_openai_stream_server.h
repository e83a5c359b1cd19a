// A loopback OpenAI-compatible server (cpp-httplib) for the bench serve tests: POST /v1/completions streams
// a scripted SSE reply chosen by the x-request-id suffix, GET /metrics serves Prometheus counters. It
// records how many streams were in flight at once and every request body.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace sieve::clients {

// What the server does for one request.
struct StreamScript {
  int chunks = 3;           // token chunks, each one token
  int chunk_delay_ms = 10;  // before each chunk
  int http_status = 200;    // non-200: an error body instead of a stream
  bool truncate = false;    // stop after the chunks, before usage and [DONE]
  int stall_ms = 0;         // sleep this long before the first chunk
};

class FakeOpenAiStreamServer {
 public:
  // `script(request_id)` picks the reply; `with_spec_decode` adds vLLM's spec decode counters to /metrics,
  // growing by 2 drafts, 4 draft tokens and 3 accepted tokens (2 at position 0, 1 at 1) per request.
  FakeOpenAiStreamServer(std::function<StreamScript(const std::string&)> script, bool with_spec_decode,
                         std::string model = "tiny")
      : script_(std::move(script)), with_spec_decode_(with_spec_decode), model_(std::move(model)) {
    server_.Post("/v1/completions",
                 [this](const httplib::Request& req, httplib::Response& res) { Complete(req, res); });
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) { Metrics(res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost and the destructor's join would hang.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeOpenAiStreamServer() {
    server_.stop();
    thread_.join();
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int peak_in_flight() const { return peak_in_flight_; }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

 private:
  void Complete(const httplib::Request& req, httplib::Response& res) {
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      bodies_.push_back(req.body);
    }
    if (!body.is_object() || body.value("model", "") != model_) {
      res.status = 404;
      res.set_content(R"({"error":{"message":"The model does not exist.","type":"NotFoundError","code":404}})",
                      "application/json");
      return;
    }
    const StreamScript script = script_(req.get_header_value("x-request-id"));
    if (script.http_status != 200) {
      res.status = script.http_status;
      res.set_content(R"({"error":{"message":"scripted failure"}})", "application/json");
      return;
    }
    ++requests_;
    const int in_flight = ++in_flight_;
    int peak = peak_in_flight_;
    while (in_flight > peak && !peak_in_flight_.compare_exchange_weak(peak, in_flight)) {
    }
    res.set_chunked_content_provider("text/event-stream", [this, script](size_t, httplib::DataSink& sink) {
      std::this_thread::sleep_for(std::chrono::milliseconds(script.stall_ms));
      for (int i = 0; i < script.chunks; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(script.chunk_delay_ms));
        const std::string chunk = "data: {\"choices\":[{\"index\":0,\"text\":\"t" + std::to_string(i) + "\"}]}\n\n";
        if (!sink.write(chunk.data(), chunk.size())) break;
      }
      --in_flight_;
      if (script.truncate) return false;  // the connection closes without the final chunk
      const std::string tail = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":" +
                               std::to_string(script.chunks) + "}}\n\ndata: [DONE]\n\n";
      sink.write(tail.data(), tail.size());
      sink.done();
      return true;
    });
  }

  void Metrics(httplib::Response& res) {
    std::string text = "# HELP vllm:num_requests_running running\nvllm:num_requests_running{model_name=\"tiny\"} 0.0\n";
    if (with_spec_decode_) {
      const long n = requests_;
      text += "# TYPE vllm:spec_decode_num_drafts_total counter\n";
      text += "vllm:spec_decode_num_drafts_total{model_name=\"tiny\"} " + std::to_string(2 * n) + ".0\n";
      text += "vllm:spec_decode_num_draft_tokens_total{model_name=\"tiny\"} " + std::to_string(4 * n) + ".0\n";
      text += "vllm:spec_decode_num_accepted_tokens_total{model_name=\"tiny\"} " + std::to_string(3 * n) + ".0\n";
      text += "vllm:spec_decode_num_accepted_tokens_per_pos_total{model_name=\"tiny\",position=\"0\"} " +
              std::to_string(2 * n) + ".0\n";
      text += "vllm:spec_decode_num_accepted_tokens_per_pos_total{model_name=\"tiny\",position=\"1\"} " +
              std::to_string(n) + ".0\n";
    }
    res.set_content(text, "text/plain; version=0.0.4");
  }

  std::function<StreamScript(const std::string&)> script_;
  const bool with_spec_decode_;
  const std::string model_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::atomic<int> in_flight_{0}, peak_in_flight_{0};
  std::atomic<long> requests_{0};
};

}  // namespace sieve::clients
