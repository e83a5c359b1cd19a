// The HTTP layer: binds cpp-httplib to the routes, checks --api-key, limits body size (413), turns
// unknown routes into OpenAI-shaped 404s, logs one line per request and shuts down gracefully (stop
// taking generation requests, let in-flight ones finish up to a deadline, abort the rest, stop).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

#include "core/status.h"
#include "server/server_state.h"

namespace sieve::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                                   // 0: any free port
  std::string api_key;                               // empty: no authentication
  size_t max_request_body_bytes = 32u << 20;
  int num_threads = 64;                              // one per open connection (streams hold theirs)
};

class HttpServer {
 public:
  HttpServer(ServerState& state, HttpServerOptions options);

  // Binds the listening socket; Unavailable when the address cannot be bound.
  Status Bind();
  int port() const { return port_; }
  // Serves until Shutdown() finished; returns once every connection thread has ended.
  Status Serve();
  // Graceful stop, callable from any thread, more than once: new generation requests get 503 at once,
  // in-flight ones get `drain_timeout` to finish before they are aborted in the engine.
  void Shutdown(std::chrono::milliseconds drain_timeout);

 private:
  void RegisterRoutes();

  ServerState& state_;
  HttpServerOptions options_;
  httplib::Server server_;
  int port_ = 0;
  std::atomic<bool> draining_{false};
};

}  // namespace sieve::server
