#include "server/sse.h"

#include <httplib.h>

namespace sieve::server {

// Invalid UTF-8 a client sent and an event echoes becomes U+FFFD instead of an exception.
std::string SseEvent(const nlohmann::ordered_json& data) {
  return "data: " + data.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n\n";
}

void StreamResponse(std::shared_ptr<Generation> generation, StreamRenderer renderer, httplib::Response& res) {
  auto render = std::make_shared<StreamRenderer>(std::move(renderer));
  res.set_chunked_content_provider(
      "text/event-stream",
      [generation, render](size_t /*offset*/, httplib::DataSink& sink) {
        const std::string events = render->on_updates(generation->Next());
        if (!events.empty() && !sink.write(events.data(), events.size())) {
          generation->Abort();
          generation->Finish();
          return false;
        }
        if (generation->done()) {
          const std::string tail = render->on_end() + kSseDone;
          generation->Finish();
          sink.write(tail.data(), tail.size());
          sink.done();
        }
        return true;
      },
      [generation](bool success) {
        if (!success) generation->Abort();
      });
}

}  // namespace sieve::server
