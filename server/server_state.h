// What every route handler gets: the serving context, the engine and the metrics. Owned by `sieve serve`
// (or a test), alive for the whole life of the HTTP server.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/engine.h"
#include "server/metrics.h"
#include "server/serving_context.h"

namespace sieve::server {

struct ServerState {
  const ServingContext& context;
  engine::Engine& engine;
  Metrics& metrics;
  // HTTP requests with a Generation alive (including streams still writing); shutdown waits for 0.
  std::atomic<int64_t> generations_in_flight{0};
};

}  // namespace sieve::server
