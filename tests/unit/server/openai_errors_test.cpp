// Status -> OpenAI error reply: HTTP status, type, param and code for each class of failure.
#include "server/openai_errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sieve::server {
namespace {

nlohmann::json Error(const ErrorReply& r) { return nlohmann::json::parse(r.body)["error"]; }

TEST(OpenAiErrors, InvalidArgumentIs400WithParam) {
  const ErrorReply r = ToOpenAiError(Status::InvalidArgument("n must be in [1, 8], got 9").WithParam("n"));
  EXPECT_EQ(r.http_status, 400);
  const nlohmann::json e = Error(r);
  EXPECT_EQ(e["message"], "n must be in [1, 8], got 9");
  EXPECT_EQ(e["type"], "invalid_request_error");
  EXPECT_EQ(e["param"], "n");
  EXPECT_TRUE(e["code"].is_null());
  EXPECT_EQ(e.size(), 4u);
}

TEST(OpenAiErrors, ParamIsNullWhenTheStatusNamesNoField) {
  const nlohmann::json e = Error(ToOpenAiError(Status::InvalidArgument("the request body is not valid JSON")));
  EXPECT_TRUE(e["param"].is_null());
}

TEST(OpenAiErrors, EachCodeHasItsHttpStatus) {
  struct Case {
    Status status;
    int http_status;
    const char* type;
  };
  const Case cases[] = {
      {Status::Unauthenticated("no key"), 401, "invalid_request_error"},
      {Status::NotFound("The model `x` does not exist"), 404, "invalid_request_error"},
      {Status::ResourceExhausted("body too large"), 413, "invalid_request_error"},
      {Status::Unavailable("shutting down"), 503, "server_error"},
      {Status::Internal("bug"), 500, "server_error"},
      {Status::OutOfRange("too many"), 400, "invalid_request_error"},
  };
  for (const Case& c : cases) {
    const ErrorReply r = ToOpenAiError(c.status);
    EXPECT_EQ(r.http_status, c.http_status) << c.status.ToString();
    EXPECT_EQ(Error(r)["type"], c.type) << c.status.ToString();
    EXPECT_EQ(Error(r)["message"], c.status.message());
  }
  EXPECT_EQ(Error(ToOpenAiError(Status::Unauthenticated("no key")))["code"], "invalid_api_key");
}

}  // namespace
}  // namespace sieve::server
