// The HTTP side of `sieve serve`: cpp-httplib wiring of every route, API-key check, request log, and a
// stop that lets in-flight requests end. Routes live in their own files; this file only connects them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/server_state.h"

namespace httplib {
class Server;
}

namespace sieve::server {

// --max-request-body-bytes default: far above any prompt max_model_len allows, far below what hurts.
inline constexpr int64_t kDefaultMaxRequestBodyBytes = int64_t{64} << 20;

class HttpServer {
 public:
  // `num_threads` bounds concurrent connections (each streaming client holds one thread); a request body
  // longer than `max_request_body_bytes` gets 413.
  HttpServer(ServerState& state, int num_threads, int64_t max_request_body_bytes = kDefaultMaxRequestBodyBytes);
  ~HttpServer();

  // Binds host:port (port 0: any free port); returns the port bound.
  StatusOr<int> Bind(const std::string& host, int port);
  // Serves until Stop(); returns after every in-flight request has been answered.
  Status Run();
  // Stops accepting connections; callable from any thread.
  void Stop();

 private:
  ServerState& state_;
  std::unique_ptr<httplib::Server> http_;
  // httplib's stop() does nothing until its accept loop runs; these close that window.
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};
};

}  // namespace sieve::server
