// What every route shares: the engine, the model's limits, chat settings, metrics and the draining flag.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "engine/engine.h"
#include "server/chat_request.h"
#include "server/metrics.h"
#include "server/serving_limits.h"

namespace sieve::server {

struct ServerState {
  engine::Engine* engine = nullptr;
  ServingLimits limits;
  ChatSettings chat;
  ServerMetrics* metrics = nullptr;
  std::string api_key;                    // empty: no authentication
  std::atomic<bool> draining{false};      // set at SIGINT/SIGTERM: new generations get 503
  std::atomic<int64_t> in_flight{0};      // generations not yet finished
  std::atomic<uint64_t> next_request{0};  // for request ids

  const std::string& model_name() const { return limits.served_model_names.front(); }
};

}  // namespace sieve::server
