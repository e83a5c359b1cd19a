#include "server/openai_errors.h"

#include <gtest/gtest.h>

namespace sieve::server {
namespace {

TEST(OpenAiErrors, InvalidArgumentIs400WithParam) {
  const HttpReply r = ToOpenAiError(Status::InvalidArgument("n must be in [1, 128], got 0").WithParam("n"));
  EXPECT_EQ(r.status, 400);
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["message"], "n must be in [1, 128], got 0");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "n");
  EXPECT_EQ(j["error"]["code"], 400);
}

TEST(OpenAiErrors, MissingParamIsNull) {
  const auto j = nlohmann::json::parse(ToOpenAiError(Status::InvalidArgument("bad")).body);
  EXPECT_TRUE(j["error"]["param"].is_null());
}

// Each status code lands on its own HTTP status; a wrong table row would show up as a mismatch here.
TEST(OpenAiErrors, StatusTable) {
  const std::pair<Status, int> rows[] = {
      {Status::NotFound("The model `x` does not exist."), 404},
      {Status::Unauthenticated("no key"), 401},
      {Status::Unavailable("draining"), 503},
      {Status::FailedPrecondition("no tokenizer"), 400},
      {Status::Internal("bug"), 500},
      {Status::ResourceExhausted("queue full"), 429},
  };
  for (const auto& [status, http] : rows) EXPECT_EQ(ToOpenAiError(status).status, http) << status.ToString();
  EXPECT_EQ(nlohmann::json::parse(ToOpenAiError(Status::Unauthenticated("x")).body)["error"]["type"],
            "authentication_error");
}

}  // namespace
}  // namespace sieve::server
