// Status -> OpenAI error JSON. Types follow OpenAI's API ("invalid_request_error", "server_error");
// `param` is the request field the Status names (Status::param), or null.
#include "server/openai_errors.h"

#include <nlohmann/json.hpp>

namespace sieve::server {

namespace {

ErrorReply Reply(int http_status, const char* type, const Status& s, const char* code = nullptr) {
  nlohmann::json error = {{"message", s.message()},
                          {"type", type},
                          {"param", s.param().empty() ? nlohmann::json() : nlohmann::json(s.param())},
                          {"code", code == nullptr ? nlohmann::json() : nlohmann::json(code)}};
  return {http_status, nlohmann::json{{"error", error}}.dump()};
}

}  // namespace

ErrorReply ToOpenAiError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kFailedPrecondition:
      return Reply(400, "invalid_request_error", s);
    case StatusCode::kUnauthenticated:
      return Reply(401, "invalid_request_error", s, "invalid_api_key");
    case StatusCode::kPermissionDenied:
      return Reply(403, "invalid_request_error", s);
    case StatusCode::kNotFound:  // unknown model or route
      return Reply(404, "invalid_request_error", s, "not_found");
    // The only resource a single request can exhaust: the body is over --max-request-body-bytes (the
    // engine queues requests rather than refusing them).
    case StatusCode::kResourceExhausted:
      return Reply(413, "invalid_request_error", s, "request_too_large");
    case StatusCode::kUnavailable:  // shutting down
      return Reply(503, "server_error", s, "service_unavailable");
    default:
      return Reply(500, "server_error", s);
  }
}

}  // namespace sieve::server
