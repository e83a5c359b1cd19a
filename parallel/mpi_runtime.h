// MpiRuntime: the process's MPI session (Open MPI from Debian, launched with `mpirun`) and the world
// communicator built on it. Collectives have a deadline, because a rank that died or hangs must stop the
// whole job with a clear message rather than leave the others waiting forever.
#pragma once

#include <chrono>
#include <memory>

#include "core/status.h"
#include "parallel/communicator.h"

namespace sieve::parallel {

// True when this process was started by mpirun/mpiexec (Open MPI, PMIx or PMI environment), so that a
// plain `sieve ...` never initializes MPI.
bool LaunchedByMpirun();

class MpiRuntime {
 public:
  // MPI_Init_thread asking for MPI_THREAD_SERIALIZED: the engine's step thread, not the main thread, makes
  // the calls, one at a time. Fails if the library offers less. Once per process.
  static StatusOr<std::unique_ptr<MpiRuntime>> Init();
  ~MpiRuntime();  // MPI_Finalize
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  // MPI_COMM_WORLD (duplicated, so Sieve's traffic never mixes with a library's). Every collective on it
  // and on groups split from it fails with kDeadlineExceeded after `timeout`; the communicator is unusable
  // afterwards (the stuck operation cannot be cancelled), so the caller ends the job with AbortJob.
  StatusOr<std::unique_ptr<Communicator>> World(std::chrono::milliseconds timeout) const;

 private:
  MpiRuntime() = default;
};

// Prints "sieve: rank R: <message>" on stderr and ends every process of the job (MPI_Abort).
[[noreturn]] void AbortJob(const Status& why);

}  // namespace sieve::parallel
