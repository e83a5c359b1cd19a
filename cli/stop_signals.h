// SIGINT/SIGTERM for `sieve serve`: caught by a handler that writes the signal number to a pipe, and
// waited for by reading that pipe.
//
// Not blocked in every thread and sigwait()ed: libraries may start threads of their own before main ever
// runs (OpenBLAS's pthread server in its load-time constructor, when Sieve linked it), outside any signal
// mask main could set, and the kernel may deliver a process-directed SIGTERM to such a thread, where a signal that main blocked
// still has its default action there: the process would end with status 143 instead of draining.
#pragma once

#include "core/status.h"

namespace sieve::cli {

class StopSignals {
 public:
  // Installs the handlers; call once, before serving.
  static Status Install();
  // Blocks until SIGINT or SIGTERM arrives (returns its number) or Wake() is called (returns 0).
  static int Wait();
  // Ends a Wait() without a signal (the server stopped on its own).
  static void Wake();
};

}  // namespace sieve::cli
