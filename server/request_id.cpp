// Random object ids.
#include "server/request_id.h"

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <random>

namespace sieve::server {

std::string NewRequestId(const std::string& prefix) {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  return fmt::format("{}{:016x}{:016x}", prefix, rng(), rng());
}

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace sieve::server
