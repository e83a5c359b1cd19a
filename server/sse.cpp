// SSE framing and the stream pump.
#include "server/sse.h"

namespace sieve::server {

namespace {
// How long the pump waits for outputs before checking that the client can still be written to.
constexpr std::chrono::milliseconds kPollInterval(50);

bool Write(httplib::DataSink& sink, const std::string& data) { return sink.write(data.data(), data.size()); }
}  // namespace

std::string SseEvent(const Json& chunk) {
  return "data: " + chunk.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

void StreamGeneration(httplib::Response& res, std::shared_ptr<Generation> generation, StreamCallbacks callbacks) {
  auto cb = std::make_shared<StreamCallbacks>(std::move(callbacks));
  auto completed = std::make_shared<bool>(false);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [generation, cb, completed](size_t /*offset*/, httplib::DataSink& sink) {
        const std::vector<GenerationOutput> outputs = generation->Next(kPollInterval);
        if (outputs.empty() && !generation->done()) return sink.is_writable();
        for (const Json& chunk : cb->on_outputs(outputs))
          if (!Write(sink, SseEvent(chunk))) return false;
        if (!generation->done()) return true;
        for (const Json& chunk : cb->on_done())
          if (!Write(sink, SseEvent(chunk))) return false;
        if (!Write(sink, kSseDone)) return false;
        *completed = true;
        sink.done();
        return true;
      },
      [generation, cb, completed](bool /*success*/) { cb->on_end(*completed); });
}

}  // namespace sieve::server
