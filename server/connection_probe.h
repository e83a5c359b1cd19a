// Tells whether the client of a request has gone away, so its generation can be aborted before the next
// engine step rather than after the next failed write. cpp-httplib 0.11 does not expose the socket to
// handlers, so the socket is found once by its address pair (local port + peer address and port) among
// this process's descriptors; the connection keeps the descriptor open while its handler runs.
#pragma once

#include <string>

namespace sieve::server {

class ConnectionProbe {
 public:
  ConnectionProbe(const std::string& peer_addr, int peer_port, int local_port);
  // False once the peer has closed or reset the connection. True if the socket could not be found.
  bool PeerConnected() const;

 private:
  int fd_ = -1;
};

}  // namespace sieve::server
