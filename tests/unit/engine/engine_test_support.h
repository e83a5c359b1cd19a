// Helpers for the engine tests on the tiny-dsv32-a fixture: the model loaded once, engines with small
// caches, and a thread-safe collector of streamed outputs that waits on a condition variable.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "model/checkpoint.h"
#include "model/model.h"
#include "tests/test_support.h"

namespace sieve::engine::test_support {

// The fixture model, loaded once per test binary; null when ../shared is absent.
inline std::shared_ptr<model::Model> TinyModel() {
  static std::shared_ptr<model::Model> model = [] () -> std::shared_ptr<model::Model> {
    auto fx = test::SharedFixture("tiny-dsv32-a");
    if (!fx) return nullptr;
    auto ckpt = model::Checkpoint::Open(*fx + "/checkpoint");
    if (!ckpt.ok()) return nullptr;
    model::ModelOptions options;
    options.num_threads = 2;
    auto m = model::Model::Load(std::shared_ptr<const model::Checkpoint>(std::move(ckpt).value()), options);
    return m.ok() ? std::shared_ptr<model::Model>(std::move(m).value()) : nullptr;
  }();
  return model;
}

// Options for a small engine: 16-token blocks, 256-token context, a cache of `cache_tokens` tokens.
inline EngineOptions SmallOptions(const model::Model& m, int64_t cache_tokens, int64_t max_num_seqs = 64) {
  EngineOptions o;
  o.block_size = 16;
  o.max_model_len = 256;
  o.max_num_seqs = max_num_seqs;
  o.max_num_batched_tokens = 512;
  o.kv_cache_dtype = "auto";
  const int64_t bytes_per_token =
      model::PagedKvCache::BytesPerToken(m.config(), m.num_cache_layers(), model::KvCacheDtype::kF32);
  o.kv_cache_memory_gib = double(cache_tokens * bytes_per_token) / double(int64_t{1} << 30);
  o.seed = 1234;
  return o;
}

struct Choice {
  std::vector<int32_t> tokens;
  std::string text;
  std::vector<std::string> deltas;
  std::vector<TokenLogprob> logprobs;
  std::vector<std::optional<TokenLogprob>> prompt_logprobs;
  bool finished = false;
  std::string finish_reason;
  std::optional<std::string> stop_reason;
  int64_t num_cached_prompt_tokens = 0;
  int updates_after_finish = 0;
};

class Collector {
 public:
  Engine::OutputCallback Callback() {
    return [this](const RequestOutput& o) {
      std::lock_guard<std::mutex> lock(mu_);
      Choice& c = choices_[{o.request_id, o.index}];
      if (c.finished) ++c.updates_after_finish;
      c.tokens.insert(c.tokens.end(), o.new_token_ids.begin(), o.new_token_ids.end());
      c.text += o.text_delta;
      c.deltas.push_back(o.text_delta);
      c.logprobs.insert(c.logprobs.end(), o.logprobs.begin(), o.logprobs.end());
      if (!o.prompt_logprobs.empty()) c.prompt_logprobs = o.prompt_logprobs;
      c.num_cached_prompt_tokens = o.num_cached_prompt_tokens;
      if (o.finished) {
        c.finished = true;
        c.finish_reason = o.finish_reason;
        c.stop_reason = o.stop_reason;
        ++num_finished_;
        done_.notify_all();
      }
    };
  }
  // Waits until `n` choices have finished. The deadline only guards against a hang; nothing is timed.
  bool WaitFinished(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return done_.wait_for(lock, std::chrono::seconds(300), [&] { return num_finished_ >= n; });
  }
  Choice Get(const std::string& id, int index = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    return choices_[{id, index}];
  }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  std::map<std::pair<std::string, int>, Choice> choices_;
  int num_finished_ = 0;
};

inline GenerationRequest Greedy(const std::string& id, std::vector<int32_t> prompt, int max_tokens) {
  GenerationRequest r{id, std::move(prompt), {}};
  r.params.temperature = 0;
  r.params.max_tokens = max_tokens;
  r.params.ignore_eos = true;
  return r;
}

// A deterministic prompt of `len` ids in [2, 2000) (0 and 1 are BOS and EOS of the fixture).
inline std::vector<int32_t> Prompt(int len, int salt) {
  std::vector<int32_t> p(len);
  for (int i = 0; i < len; ++i) p[i] = 2 + (i * 131 + salt * 977 + i * i * 7) % 1998;
  return p;
}

}  // namespace sieve::engine::test_support
