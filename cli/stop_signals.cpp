// Self-pipe stop signals (see stop_signals.h).
#include "cli/stop_signals.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>

namespace sieve::cli {

namespace {

int stop_pipe[2] = {-1, -1};  // [0] read by Wait, [1] written by the handler and Wake

void Notify(char code) {
  // write() is async-signal-safe; a full pipe already holds a pending stop, so a failed write loses nothing.
  while (write(stop_pipe[1], &code, 1) < 0 && errno == EINTR) {
  }
}

void OnStopSignal(int signal) {
  const int saved_errno = errno;  // the interrupted thread may be about to read errno
  Notify(static_cast<char>(signal));
  errno = saved_errno;
}

}  // namespace

Status StopSignals::Install() {
  if (pipe2(stop_pipe, O_CLOEXEC) != 0) return Status::Internal(std::string("pipe2: ") + std::strerror(errno));
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // other threads' blocking calls resume instead of failing with EINTR
  if (sigaction(SIGINT, &action, nullptr) != 0 || sigaction(SIGTERM, &action, nullptr) != 0)
    return Status::Internal(std::string("sigaction: ") + std::strerror(errno));
  return Status::Ok();
}

int StopSignals::Wait() {
  char code = 0;
  ssize_t n;
  while ((n = read(stop_pipe[0], &code, 1)) < 0 && errno == EINTR) {
  }
  return n == 1 ? code : 0;
}

void StopSignals::Wake() { Notify(0); }

}  // namespace sieve::cli
