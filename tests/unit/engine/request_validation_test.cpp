// Request validation: each out-of-range field is rejected with InvalidArgument naming that field, and a
// valid request passes (the positive control for every case below).
#include "engine/request_validation.h"

#include <gtest/gtest.h>

#include <functional>

namespace sieve::engine {
namespace {

const RequestLimits kLimits{/*vocab_size=*/100, /*max_model_len=*/32, /*max_num_seqs=*/4, /*has_tokenizer=*/true};

GenerationRequest Valid() { return GenerationRequest{"id", {5, 6, 7}, {}}; }

TEST(RequestValidation, ValidRequestPasses) { EXPECT_TRUE(ValidateRequest(Valid(), kLimits).ok()); }

TEST(RequestValidation, EachBadFieldIsNamed) {
  const std::vector<std::pair<std::string, std::function<void(GenerationRequest&)>>> cases = {
      {"request_id", [](GenerationRequest& r) { r.request_id.clear(); }},
      {"prompt", [](GenerationRequest& r) { r.prompt_ids.clear(); }},
      {"prompt", [](GenerationRequest& r) { r.prompt_ids.assign(32, 5); }},  // no room for one output token
      {"prompt", [](GenerationRequest& r) { r.prompt_ids[1] = 100; }},
      {"prompt", [](GenerationRequest& r) { r.prompt_ids[1] = -1; }},
      {"n", [](GenerationRequest& r) { r.params.n = 5; }},
      {"temperature", [](GenerationRequest& r) { r.params.temperature = -0.1; }},
      {"top_p", [](GenerationRequest& r) { r.params.top_p = 0; }},
      {"top_k", [](GenerationRequest& r) { r.params.top_k = -2; }},
      {"min_p", [](GenerationRequest& r) { r.params.min_p = 1.5; }},
      {"presence_penalty", [](GenerationRequest& r) { r.params.presence_penalty = 2.5; }},
      {"frequency_penalty", [](GenerationRequest& r) { r.params.frequency_penalty = -3; }},
      {"repetition_penalty", [](GenerationRequest& r) { r.params.repetition_penalty = 0; }},
      {"logit_bias", [](GenerationRequest& r) { r.params.logit_bias[100] = 1; }},
      {"logit_bias", [](GenerationRequest& r) { r.params.logit_bias[3] = 101; }},
      {"max_tokens", [](GenerationRequest& r) { r.params.max_tokens = 0; }},
      {"min_tokens", [](GenerationRequest& r) { r.params.min_tokens = 17; }},
      {"stop_token_ids", [](GenerationRequest& r) { r.params.stop_token_ids = {100}; }},
      {"stop", [](GenerationRequest& r) { r.params.stop = {""}; }},
      {"logprobs", [](GenerationRequest& r) { r.params.logprobs = 21; }},
      {"prompt_logprobs", [](GenerationRequest& r) { r.params.prompt_logprobs = -1; }},
  };
  for (const auto& [param, mutate] : cases) {
    GenerationRequest r = Valid();
    mutate(r);
    const Status s = ValidateRequest(r, kLimits);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << param;
    EXPECT_EQ(s.param(), param) << s.message();
  }
}

TEST(RequestValidation, StopStringsNeedATokenizer) {
  GenerationRequest r = Valid();
  r.params.stop = {"\n"};
  EXPECT_TRUE(ValidateRequest(r, kLimits).ok());
  RequestLimits no_tokenizer = kLimits;
  no_tokenizer.has_tokenizer = false;
  EXPECT_EQ(ValidateRequest(r, no_tokenizer).param(), "stop");
}

}  // namespace
}  // namespace sieve::engine
