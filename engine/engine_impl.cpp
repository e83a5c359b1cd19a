// Engine::Create and the Engine implementation: validates options and requests, sizes the KV cache and
// wires BlockPool -> Scheduler, ModelRunner -> StepLoop. The hot path lives in StepLoop.
#include <fmt/format.h>

#include <mutex>
#include <random>

#include "core/available_memory.h"
#include "core/logging.h"
#include "engine/engine.h"
#include "engine/kv_cache.h"
#include "engine/request_validation.h"
#include "engine/speculative_config.h"
#include "engine/step_loop.h"
#include "text/tokenizer.h"

namespace sieve::engine {

namespace {

StatusOr<LogprobsMode> ParseLogprobsMode(const std::string& name) {
  if (name == "raw_logprobs") return LogprobsMode::kRaw;
  if (name == "processed_logprobs") return LogprobsMode::kProcessed;
  return Status::InvalidArgument(
      fmt::format("unknown logprobs mode '{}', expected raw_logprobs or processed_logprobs", name));
}

Status ValidateOptions(const EngineOptions& o) {
  if (o.max_num_seqs < 1) return Status::InvalidArgument(fmt::format("--max-num-seqs must be >= 1, got {}", o.max_num_seqs));
  if (o.max_num_batched_tokens < 1)
    return Status::InvalidArgument(fmt::format("--max-num-batched-tokens must be >= 1, got {}", o.max_num_batched_tokens));
  if (o.block_size < 1 || o.block_size > 1024)
    return Status::InvalidArgument(fmt::format("--block-size must be in [1, 1024], got {}", o.block_size));
  if (o.max_model_len < 0) return Status::InvalidArgument(fmt::format("--max-model-len must be >= 0, got {}", o.max_model_len));
  if (!(o.kv_cache_memory_gib >= 0))
    return Status::InvalidArgument(fmt::format("--kv-cache-memory must be >= 0 GiB, got {}", o.kv_cache_memory_gib));
  if (!(o.kv_cache_memory_fraction > 0 && o.kv_cache_memory_fraction <= 1))
    return Status::InvalidArgument(
        fmt::format("--kv-cache-memory-fraction must be in (0, 1], got {}", o.kv_cache_memory_fraction));
  return Status::Ok();
}

class EngineImpl final : public Engine {
 public:
  EngineImpl(std::shared_ptr<model::Model> model, std::shared_ptr<const text::Tokenizer> tokenizer,
             std::unique_ptr<model::PagedKvCache> cache, const SchedulerOptions& scheduler_options,
             bool enable_prefix_caching, LogprobsMode logprobs_mode, std::optional<uint64_t> seed,
             ReplicaSync* replicas)
      : model_(std::move(model)),
        tokenizer_(std::move(tokenizer)),
        cache_(std::move(cache)),
        pool_(cache_->num_blocks(), cache_->block_size(), enable_prefix_caching),
        limits_{model_->config().vocab_size, scheduler_options.max_model_len, scheduler_options.max_num_seqs,
                tokenizer_ != nullptr},
        seeds_(seed ? *seed : std::random_device{}()),
        loop_(std::make_unique<Scheduler>(scheduler_options, &pool_),
              std::make_unique<ModelRunner>(*model_, *cache_, logprobs_mode, tokenizer_.get(),
                                            scheduler_options.num_speculative_tokens),
              &pool_, replicas) {}

  ~EngineImpl() override { loop_.Stop(); }

  Status Submit(GenerationRequest request, OutputCallback callback) override {
    SIEVE_RETURN_IF_ERROR(ValidateRequest(request, limits_));
    std::unique_ptr<Request> r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const uint64_t seed = request.params.seed ? *request.params.seed : seeds_();
      r = MakeRequest(std::move(request), next_arrival_++, seed, static_cast<int32_t>(model_->config().eos_token_id),
                      limits_.max_model_len, tokenizer_.get());
    }
    return loop_.Enqueue(std::move(r), std::move(callback));
  }
  void Abort(const std::string& request_id) override { loop_.Abort(request_id); }
  EngineStats Stats() const override { return loop_.Stats(); }
  int64_t max_model_len() const override { return limits_.max_model_len; }
  void Shutdown() override { loop_.Stop(); }

 private:
  std::shared_ptr<model::Model> model_;
  std::shared_ptr<const text::Tokenizer> tokenizer_;
  std::unique_ptr<model::PagedKvCache> cache_;
  BlockPool pool_;
  RequestLimits limits_;
  std::mutex mu_;                 // guards seeds_ and next_arrival_ (Submit is called from any thread)
  std::mt19937_64 seeds_;         // seeds of requests that bring none
  int64_t next_arrival_ = 0;
  StepLoop loop_;                 // last: its thread stops before the members it uses are destroyed
};

}  // namespace

StatusOr<std::unique_ptr<Engine>> Engine::Create(std::shared_ptr<model::Model> model,
                                                 std::shared_ptr<const text::Tokenizer> tokenizer,
                                                 const EngineOptions& options, ReplicaSync* replicas) {
  SIEVE_RETURN_IF_ERROR(ValidateOptions(options));
  SIEVE_ASSIGN_OR_RETURN(const model::KvCacheDtype dtype, model::ParseKvCacheDtype(options.kv_cache_dtype));
  SIEVE_ASSIGN_OR_RETURN(const LogprobsMode logprobs_mode, ParseLogprobsMode(options.logprobs_mode));
  const model::ModelConfig& config = model->config();
  SIEVE_ASSIGN_OR_RETURN(const int num_speculative_tokens, ResolveNumSpeculativeTokens(options));
  // A speculative step makes several model calls, and an idle replica mirrors one (replica_sync.h).
  if (num_speculative_tokens > 0 && replicas != nullptr)
    return Status::InvalidArgument("speculative decoding with --data-parallel-size > 1 is not supported yet");
  if (num_speculative_tokens > 0 && model->num_cache_layers() == config.num_hidden_layers)
    return Status::InvalidArgument(
        config.num_nextn_predict_layers == 0
            ? "speculative decoding needs the checkpoint's MTP layer, but num_nextn_predict_layers is 0"
            : "speculative decoding needs the model loaded with its MTP layer (ModelOptions::enable_mtp)");

  int64_t max_model_len = options.max_model_len > 0 ? options.max_model_len : config.max_position_embeddings;
  if (max_model_len > config.max_position_embeddings)
    return Status::InvalidArgument(fmt::format("--max-model-len {} exceeds the model's max_position_embeddings {}",
                                               max_model_len, config.max_position_embeddings));
  const int64_t bytes_per_token = model::PagedKvCache::BytesPerToken(config, model->num_cache_layers(), dtype);
  SIEVE_ASSIGN_OR_RETURN(const KvCacheSize size, SizeKvCache(options, bytes_per_token, options.max_num_seqs * max_model_len,
                                                             AvailableMemoryBytes()));
  if (size.token_capacity() < max_model_len) {
    spdlog::warn("KV cache holds {} tokens, fewer than max_model_len {}: max_model_len lowered to {}",
                 size.token_capacity(), max_model_len, size.token_capacity());
    max_model_len = size.token_capacity();
  }
  if (!options.enable_chunked_prefill && options.max_num_batched_tokens < max_model_len)
    return Status::InvalidArgument(fmt::format(
        "without chunked prefill --max-num-batched-tokens ({}) must be >= max_model_len ({})",
        options.max_num_batched_tokens, max_model_len));
  spdlog::info("KV cache: {} blocks x {} tokens = {} tokens, {:.3f} GiB ({} bytes/token, dtype {}); max_model_len {}",
               size.num_blocks, size.block_size, size.token_capacity(), double(size.bytes()) / double(1 << 30),
               bytes_per_token, options.kv_cache_dtype, max_model_len);

  auto cache = std::make_unique<model::PagedKvCache>(config, model->num_cache_layers(), size.num_blocks,
                                                     size.block_size, dtype);
  const SchedulerOptions scheduler_options{options.max_num_seqs, options.max_num_batched_tokens, max_model_len,
                                           options.enable_chunked_prefill, num_speculative_tokens};
  return std::unique_ptr<Engine>(new EngineImpl(std::move(model), std::move(tokenizer), std::move(cache),
                                                scheduler_options, options.enable_prefix_caching, logprobs_mode,
                                                options.seed, replicas));
}

}  // namespace sieve::engine
