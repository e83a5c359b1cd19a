// A scripted engine for server tests and the HTTP-handler fuzz target: each request "generates" a fixed
// list of text pieces, one token per piece, up to its max_tokens, for each of its n choices. Requests go
// through the real engine::ValidateRequest first, so admission errors are the engine's own. Inline
// delivery calls back inside Submit (no threads, thousands of requests a second for the fuzzer); threaded
// delivery runs each request on its own thread, one piece per `step`, and honors Abort between pieces.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/request_validation.h"

namespace sieve::test {

class ScriptedEngine final : public engine::Engine {
 public:
  enum class Delivery { kInline, kThreaded };

  ScriptedEngine(std::vector<std::string> pieces, std::chrono::milliseconds step, Delivery delivery = Delivery::kThreaded,
                 engine::RequestLimits limits = {129280, 4096, 256, true})
      : pieces_(std::move(pieces)), step_(step), delivery_(delivery), limits_(limits) {}
  ~ScriptedEngine() override { Shutdown(); }

  Status Submit(engine::GenerationRequest request, OutputCallback callback) override {
    if (Status s = engine::ValidateRequest(request, limits_); !s.ok()) return s;
    if (delivery_ == Delivery::kInline) {
      Run(request, callback);
      return Status::Ok();
    }
    std::lock_guard<std::mutex> lock(mu_);
    aborted_[request.request_id] = false;
    threads_.emplace_back([this, request, callback] { Run(request, callback); });
    return Status::Ok();
  }
  void Abort(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = aborted_.find(id); it != aborted_.end()) it->second = true;
    abort_time_ = std::chrono::steady_clock::now();
  }
  engine::EngineStats Stats() const override {
    engine::EngineStats s;
    s.num_running = running_.load();
    return s;
  }
  int64_t max_model_len() const override { return limits_.max_model_len; }
  void Shutdown() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [id, aborted] : aborted_) aborted = true;
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }
  // When Abort was last called (an inline request has always finished by then).
  std::optional<std::chrono::steady_clock::time_point> abort_time() {
    std::lock_guard<std::mutex> lock(mu_);
    return abort_time_;
  }

 private:
  bool Aborted(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = aborted_.find(id);
    return it != aborted_.end() && it->second;
  }

  void Run(const engine::GenerationRequest& request, const OutputCallback& callback) {
    ++running_;
    const size_t length = std::min(pieces_.size(), static_cast<size_t>(request.params.max_tokens));
    for (int k = 0; k < request.params.n; ++k) {
      for (size_t i = 0; i < length; ++i) {
        if (step_.count() > 0) std::this_thread::sleep_for(step_);
        engine::RequestOutput o;
        o.request_id = request.request_id;
        o.index = k;
        if (Aborted(request.request_id)) {
          o.finished = true;
          o.finish_reason = "abort";
          callback(o);
          break;
        }
        o.new_token_ids = {static_cast<int32_t>(100 + i)};
        o.text_delta = pieces_[i];
        o.num_prompt_tokens = static_cast<int64_t>(request.prompt_ids.size());
        o.num_output_tokens = static_cast<int64_t>(i + 1);
        if (i + 1 == length) {
          o.finished = true;
          o.finish_reason = length < pieces_.size() ? "length" : "stop";
        }
        callback(o);
      }
    }
    --running_;
  }

  const std::vector<std::string> pieces_;
  const std::chrono::milliseconds step_;
  const Delivery delivery_;
  const engine::RequestLimits limits_;
  std::mutex mu_;
  std::map<std::string, bool> aborted_;
  std::vector<std::thread> threads_;
  std::optional<std::chrono::steady_clock::time_point> abort_time_;
  std::atomic<int64_t> running_{0};
};

}  // namespace sieve::test
