// Status -> OpenAI error mapping. Types follow OpenAI's documented error types; `code` carries the HTTP
// status as a number, as vLLM does (vllm/entrypoints/openai/protocol.py, ErrorResponse).
#include "server/openai_errors.h"

namespace sieve::server {

namespace {

struct ErrorKind {
  int http_status;
  const char* type;
};

ErrorKind KindFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kFailedPrecondition:
      return {400, "invalid_request_error"};
    case StatusCode::kUnauthenticated:
      return {401, "authentication_error"};
    case StatusCode::kPermissionDenied:
      return {403, "permission_error"};
    case StatusCode::kNotFound:
      return {404, "not_found_error"};  // unknown model or route
    case StatusCode::kUnimplemented:
      return {501, "not_implemented_error"};
    case StatusCode::kResourceExhausted:
      return {429, "rate_limit_error"};
    case StatusCode::kUnavailable:
      return {503, "service_unavailable_error"};  // draining at shutdown
    default:
      return {500, "server_error"};
  }
}

}  // namespace

int HttpStatusFor(const Status& status) { return KindFor(status.code()).http_status; }

nlohmann::json OpenAiErrorJson(const Status& status) {
  const ErrorKind kind = KindFor(status.code());
  nlohmann::json error = {{"message", status.message()},
                          {"type", kind.type},
                          {"param", status.param().empty() ? nlohmann::json(nullptr) : nlohmann::json(status.param())},
                          {"code", kind.http_status}};
  return {{"error", std::move(error)}};
}

HttpReply ToOpenAiError(const Status& status) {
  // Messages quote what the client sent (a path, a field value), which may be invalid UTF-8: replace those
  // bytes with U+FFFD rather than let the serializer throw (found by fuzz/http_handler_fuzz.cpp: GET /%88).
  return {HttpStatusFor(status), OpenAiErrorJson(status).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace sieve::server
