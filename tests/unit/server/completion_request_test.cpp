// /v1/completions request parsing: the four prompt shapes, echo/logprobs, and one exact error (status
// code + param) for each kind of bad field.
#include "server/completion_request.h"

#include <gtest/gtest.h>

#include "tests/unit/server/server_test_support.h"

namespace sieve::server {
namespace {

StatusOr<CompletionRequest> Parse(const char* body) {
  return ParseCompletionRequest(Json::parse(body), "cmpl-1", test_support::TestContext());
}

// The failure's code and param, for one-line expectations.
std::pair<StatusCode, std::string> Failure(const char* body) {
  const StatusOr<CompletionRequest> r = Parse(body);
  EXPECT_FALSE(r.ok()) << body;
  return {r.status().code(), r.status().param()};
}

TEST(CompletionRequest, StringPromptGetsBosThenItsTokens) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  const auto r = Parse(R"({"model": "tiny", "prompt": "Hello world", "max_tokens": 5, "temperature": 0})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->prompts.size(), 1u);
  std::vector<int32_t> want = {0};
  for (int32_t id : test_support::VendoredTokenizer()->Encode("Hello world")) want.push_back(id);
  EXPECT_EQ(r->prompts[0].prompt_ids, want);
  EXPECT_EQ(r->prompts[0].request_id, "cmpl-1-0");
  EXPECT_EQ(r->prompts[0].params.max_tokens, 5);
  EXPECT_EQ(r->prompts[0].params.temperature, 0.0);
}

TEST(CompletionRequest, ListShapes) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  auto strings = Parse(R"({"prompt": ["a", "b c"]})");
  ASSERT_TRUE(strings.ok());
  EXPECT_EQ(strings->prompts.size(), 2u);
  EXPECT_EQ(strings->prompts[1].request_id, "cmpl-1-1");
  auto ids = Parse(R"({"prompt": [5, 6, 7]})");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->prompts[0].prompt_ids, (std::vector<int32_t>{5, 6, 7}));
  auto nested = Parse(R"({"prompt": [[5, 6], [7]], "max_tokens": 3})");
  ASSERT_TRUE(nested.ok());
  ASSERT_EQ(nested->prompts.size(), 2u);
  EXPECT_EQ(nested->prompts[1].prompt_ids, (std::vector<int32_t>{7}));
  EXPECT_EQ(nested->prompts[0].params.max_tokens, 3);
}

TEST(CompletionRequest, DefaultsAndExplicitNulls) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  // vllm bench sends "logprobs": null; unknown fields (user, metadata) are ignored.
  const auto r = Parse(R"({"prompt": [1, 2], "logprobs": null, "stream": true,
                           "stream_options": {"include_usage": true}, "user": "x", "metadata": {}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->prompts[0].params.max_tokens, 16);
  EXPECT_FALSE(r->logprobs);
  EXPECT_TRUE(r->stream.stream);
  EXPECT_TRUE(r->stream.include_usage);
}

TEST(CompletionRequest, LmEvalLoglikelihoodRequest) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  const auto r = Parse(R"({"model": "tiny", "prompt": [[10, 11, 12]], "temperature": 0, "max_tokens": 1,
                           "logprobs": 1, "seed": 1234, "echo": true})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->echo);
  EXPECT_FALSE(r->prompt_only);
  EXPECT_EQ(r->prompts[0].params.logprobs, 1);
  EXPECT_EQ(r->prompts[0].params.prompt_logprobs, 1);
  EXPECT_EQ(r->prompts[0].params.seed, 1234u);
  // max_tokens 0 with echo scores the prompt alone; without echo it is an error.
  const auto prompt_only = Parse(R"({"prompt": [10, 11], "max_tokens": 0, "logprobs": 0, "echo": true})");
  ASSERT_TRUE(prompt_only.ok());
  EXPECT_TRUE(prompt_only->prompt_only);
  EXPECT_EQ(prompt_only->prompts[0].params.max_tokens, 1);
  EXPECT_EQ(Failure(R"({"prompt": [10, 11], "max_tokens": 0})"),
            std::make_pair(StatusCode::kInvalidArgument, std::string("max_tokens")));
}

TEST(CompletionRequest, EachBadFieldIsNamed) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  using P = std::pair<StatusCode, std::string>;
  const StatusCode bad = StatusCode::kInvalidArgument;
  EXPECT_EQ(Failure(R"({"max_tokens": 5})"), P(bad, "prompt"));
  EXPECT_EQ(Failure(R"({"prompt": 5})"), P(bad, "prompt"));
  EXPECT_EQ(Failure(R"({"prompt": []})"), P(bad, "prompt"));
  EXPECT_EQ(Failure(R"({"prompt": ["a", 5]})"), P(bad, "prompt[1]"));
  EXPECT_EQ(Failure(R"({"prompt": [[1], [2, "x"]]})"), P(bad, "prompt[1][1]"));
  EXPECT_EQ(Failure(R"({"prompt": [1, -2]})"), P(bad, "prompt[1]"));
  EXPECT_EQ(Failure(R"({"prompt": [1, 999999]})"), P(bad, "prompt"));  // outside the vocabulary
  EXPECT_EQ(Failure(R"({"prompt": "a", "model": "gpt-4"})"), P(StatusCode::kNotFound, "model"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "max_tokens": "5"})"), P(bad, "max_tokens"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "max_tokens": 5000})"), P(bad, "max_tokens"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "max_tokens": -1})"), P(bad, "max_tokens"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "n": 9})"), P(bad, "n"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "n": 0})"), P(bad, "n"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "n": 10000000000})"), P(bad, "n"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "best_of": 3})"), P(bad, "best_of"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "temperature": -1})"), P(bad, "temperature"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "temperature": "hot"})"), P(bad, "temperature"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "top_p": 0})"), P(bad, "top_p"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "logprobs": 21})"), P(bad, "logprobs"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "stop": [1]})"), P(bad, "stop[0]"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "logit_bias": {"x": 1}})"), P(bad, "logit_bias"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "stream_options": {"include_usage": true}})"), P(bad, "stream_options"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "echo": "yes"})"), P(bad, "echo"));
  EXPECT_EQ(Failure(R"({"prompt": "a", "suffix": "b"})"), P(bad, "suffix"));
}

TEST(CompletionRequest, PromptLongerThanTheContextNamesThePrompt) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  std::string ids = "[";
  for (int i = 0; i < test_support::kMaxModelLen; ++i) {
    if (i > 0) ids += ',';
    ids += std::to_string(100 + i);
  }
  ids += ']';
  std::string body = R"({"prompt": )";
  body += ids;
  body += '}';
  EXPECT_EQ(Failure(body.c_str()), std::make_pair(StatusCode::kInvalidArgument, std::string("prompt")));
  // One token fewer leaves room for one: the default max_tokens (16) shrinks to fit, as the negative control.
  std::string fits = R"({"prompt": )";
  fits += ids.substr(0, ids.rfind(','));
  fits += "]}";
  const auto r = Parse(fits.c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->prompts[0].params.max_tokens, 1);
}

}  // namespace
}  // namespace sieve::server
