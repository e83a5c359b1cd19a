// Server-sent events for streamed completions and chat: `data: <json>\n\n` events, ending with
// `data: [DONE]`. The response is written by cpp-httplib's chunked content provider on the handler's
// worker thread; a failed write means the client is gone and aborts the generation.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/generation.h"

namespace httplib {
struct Response;
}

namespace sieve::server {

std::string SseEvent(const nlohmann::ordered_json& data);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

// Renders a stream: `on_updates` turns engine updates into zero or more events (no event is written
// before the first token exists), `on_end` gives the closing events (usage chunk, if asked for) before
// [DONE]. Both run on the worker thread, one call at a time.
struct StreamRenderer {
  std::function<std::string(const std::vector<StreamUpdate>&)> on_updates;
  std::function<std::string()> on_end;
};

void StreamResponse(std::shared_ptr<Generation> generation, StreamRenderer renderer, httplib::Response& res);

}  // namespace sieve::server
