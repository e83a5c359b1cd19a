// Server-sent events for streamed completions: each chunk is `data: <json>\n\n` and the stream ends with
// `data: [DONE]\n\n`. StreamGeneration pumps a Generation's outputs into an httplib chunked response; a
// failed write (the client went away) ends the stream, which destroys the Generation and so aborts it.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/generation.h"
#include "server/json_fields.h"

namespace sieve::server {

std::string SseEvent(const Json& chunk);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

struct StreamCallbacks {
  // The chunks for newly arrived outputs (possibly none).
  std::function<std::vector<Json>(const std::vector<GenerationOutput>&)> on_outputs;
  // Chunks after every choice finished, before [DONE] (the usage chunk when asked for).
  std::function<std::vector<Json>()> on_done;
  // Called once when the response is torn down; `completed` is false when the client went away.
  std::function<void(bool completed)> on_end;
};

void StreamGeneration(httplib::Response& res, std::shared_ptr<Generation> generation, StreamCallbacks callbacks);

}  // namespace sieve::server
