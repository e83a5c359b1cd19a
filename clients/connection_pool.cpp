// Connection reuse; see connection_pool.h.
#include "clients/connection_pool.h"

namespace sieve::clients {

StatusOr<std::unique_ptr<HttpConnection>> ConnectionPool::Take() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
  }
  return HttpConnection::Open(origin_, timeout_s_);
}

void ConnectionPool::Return(std::unique_ptr<HttpConnection> connection) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(connection));
}

}  // namespace sieve::clients
