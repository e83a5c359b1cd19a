// Keep-alive connections to one server shared by the threads of `sieve bench serve` (like aiohttp's
// connector): a request takes an idle connection or opens one, and gives it back when it ended cleanly.
// httplib::Client is not thread-safe, so a connection is used by one request at a time.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "clients/http_connection.h"

namespace sieve::clients {

class ConnectionPool {
 public:
  ConnectionPool(std::string origin, double timeout_s) : origin_(std::move(origin)), timeout_s_(timeout_s) {}

  StatusOr<std::unique_ptr<HttpConnection>> Take();
  // Only connections whose last exchange succeeded come back; a broken one is dropped.
  void Return(std::unique_ptr<HttpConnection> connection);

 private:
  const std::string origin_;
  const double timeout_s_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<HttpConnection>> idle_;
};

}  // namespace sieve::clients
