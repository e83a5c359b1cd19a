// MpiRuntime and the MPI communicator: every collective is started non-blocking (MPI-3 MPI_I*) and
// polled against a deadline, which is how a blocking MPI call gets a timeout.
#include "parallel/mpi_runtime.h"

#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

namespace sieve::parallel {
namespace {

using Clock = std::chrono::steady_clock;

std::string MpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<size_t>(length));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, std::chrono::milliseconds timeout) : comm_(comm), timeout_(timeout) {
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    // Freeing a communicator with an operation still pending (after a timeout) is erroneous; the job is
    // being aborted then anyway.
    if (!failed_) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  Status AllReduceSum(std::span<float> data) override {
    SIEVE_ASSIGN_OR_RETURN(const int count, IntCount(data.size(), "all-reduce"));
    MPI_Request request;
    SIEVE_RETURN_IF_ERROR(Check(
        MPI_Iallreduce(MPI_IN_PLACE, data.data(), count, MPI_FLOAT, MPI_SUM, comm_, &request), "all-reduce"));
    return Wait(&request, "all-reduce");
  }

  Status AllGather(std::span<const float> local, std::span<float> out) override {
    if (out.size() != local.size() * static_cast<size_t>(size_)) {
      return Status::InvalidArgument(fmt::format("all-gather: output holds {} floats, the group needs {}",
                                                 out.size(), local.size() * static_cast<size_t>(size_)));
    }
    SIEVE_ASSIGN_OR_RETURN(const int count, IntCount(local.size(), "all-gather"));
    MPI_Request request;
    SIEVE_RETURN_IF_ERROR(Check(
        MPI_Iallgather(local.data(), count, MPI_FLOAT, out.data(), count, MPI_FLOAT, comm_, &request),
        "all-gather"));
    return Wait(&request, "all-gather");
  }

  Status Broadcast(std::span<std::byte> data, int root) override {
    if (root < 0 || root >= size_) {
      return Status::InvalidArgument(fmt::format("broadcast: root {} is not in a group of {}", root, size_));
    }
    SIEVE_ASSIGN_OR_RETURN(const int count, IntCount(data.size(), "broadcast"));
    MPI_Request request;
    SIEVE_RETURN_IF_ERROR(Check(MPI_Ibcast(data.data(), count, MPI_BYTE, root, comm_, &request), "broadcast"));
    return Wait(&request, "broadcast");
  }

  StatusOr<std::vector<std::byte>> AllToAllV(std::span<const std::byte> send, std::span<const int64_t> send_counts,
                                             std::vector<int64_t>* recv_counts) override {
    if (send_counts.size() != static_cast<size_t>(size_)) {
      return Status::InvalidArgument(
          fmt::format("all-to-all: {} send counts for a group of {}", send_counts.size(), size_));
    }
    // First every rank learns how much each other rank sends it.
    recv_counts->assign(static_cast<size_t>(size_), 0);
    MPI_Request request;
    SIEVE_RETURN_IF_ERROR(Check(MPI_Ialltoall(send_counts.data(), 1, MPI_INT64_T, recv_counts->data(), 1,
                                              MPI_INT64_T, comm_, &request),
                                "all-to-all counts"));
    SIEVE_RETURN_IF_ERROR(Wait(&request, "all-to-all counts"));
    // MPI-3 counts and displacements are ints: a step's traffic is far below 2 GiB per peer.
    std::vector<int> scounts(static_cast<size_t>(size_)), sdispls(scounts.size()), rcounts(scounts.size()),
        rdispls(scounts.size());
    int64_t sent = 0, received = 0;
    for (size_t r = 0; r < scounts.size(); ++r) {
      if (send_counts[r] < 0 || sent + send_counts[r] > INT_MAX || received + (*recv_counts)[r] > INT_MAX) {
        return Status::InvalidArgument("all-to-all: a count is negative or the exchange exceeds 2 GiB");
      }
      sdispls[r] = static_cast<int>(sent);
      scounts[r] = static_cast<int>(send_counts[r]);
      rdispls[r] = static_cast<int>(received);
      rcounts[r] = static_cast<int>((*recv_counts)[r]);
      sent += send_counts[r];
      received += (*recv_counts)[r];
    }
    if (sent != static_cast<int64_t>(send.size())) {
      return Status::InvalidArgument(
          fmt::format("all-to-all: counts add up to {} bytes, {} were given", sent, send.size()));
    }
    std::vector<std::byte> recv(static_cast<size_t>(received));
    SIEVE_RETURN_IF_ERROR(Check(MPI_Ialltoallv(send.data(), scounts.data(), sdispls.data(), MPI_BYTE, recv.data(),
                                               rcounts.data(), rdispls.data(), MPI_BYTE, comm_, &request),
                                "all-to-all"));
    SIEVE_RETURN_IF_ERROR(Wait(&request, "all-to-all"));
    return recv;
  }

  Status Barrier() override {
    MPI_Request request;
    SIEVE_RETURN_IF_ERROR(Check(MPI_Ibarrier(comm_, &request), "barrier"));
    return Wait(&request, "barrier");
  }

  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override {
    if (failed_) return Status::FailedPrecondition("split: the group already failed");
    if (color < 0) return Status::InvalidArgument(fmt::format("split: color {} is negative", color));
    MPI_Comm sub;
    SIEVE_RETURN_IF_ERROR(Check(MPI_Comm_split(comm_, color, key, &sub), "split"));
    return std::unique_ptr<Communicator>(std::make_unique<MpiCommunicator>(sub, timeout_));
  }

 private:
  Status Check(int code, const char* what) {
    if (failed_) return Status::FailedPrecondition(fmt::format("{}: the group already failed", what));
    if (code == MPI_SUCCESS) return Status::Ok();
    failed_ = true;
    return Status::Internal(fmt::format("{} failed: {}", what, MpiErrorText(code)));
  }

  StatusOr<int> IntCount(size_t count, const char* what) const {
    if (count > static_cast<size_t>(INT_MAX)) {
      return Status::InvalidArgument(fmt::format("{}: {} elements exceed MPI's int count", what, count));
    }
    return static_cast<int>(count);
  }

  // Polls `request` until it completes or the deadline passes. Spins first (a decode step's collectives
  // take microseconds), then sleeps briefly between tests so a long wait does not burn a core.
  Status Wait(MPI_Request* request, const char* what) {
    const auto deadline = Clock::now() + timeout_;
    for (int polls = 0;; ++polls) {
      int done = 0;
      const int code = MPI_Test(request, &done, MPI_STATUS_IGNORE);
      if (code != MPI_SUCCESS) return Check(code, what);
      if (done) return Status::Ok();
      if (Clock::now() >= deadline) {
        failed_ = true;
        return Status::DeadlineExceeded(fmt::format(
            "{} of a group of {} timed out after {:.1f} s: another rank failed or hangs", what, size_,
            std::chrono::duration<double>(timeout_).count()));
      }
      if (polls > 10000) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  MPI_Comm comm_;
  std::chrono::milliseconds timeout_;
  int rank_ = 0;
  int size_ = 1;
  bool failed_ = false;
};

}  // namespace

bool LaunchedByMpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

StatusOr<std::unique_ptr<MpiRuntime>> MpiRuntime::Init() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return Status::FailedPrecondition("MPI is already initialized in this process");
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    return Status::Unavailable("MPI_Init_thread failed");
  }
  std::unique_ptr<MpiRuntime> runtime(new MpiRuntime());
  if (provided < MPI_THREAD_SERIALIZED) {
    return Status::FailedPrecondition("this MPI library does not support MPI_THREAD_SERIALIZED");
  }
  return runtime;
}

MpiRuntime::~MpiRuntime() { MPI_Finalize(); }

StatusOr<std::unique_ptr<Communicator>> MpiRuntime::World(std::chrono::milliseconds timeout) const {
  MPI_Comm world;
  if (const int code = MPI_Comm_dup(MPI_COMM_WORLD, &world); code != MPI_SUCCESS) {
    return Status::Internal("MPI_Comm_dup failed: " + MpiErrorText(code));
  }
  return std::unique_ptr<Communicator>(std::make_unique<MpiCommunicator>(world, timeout));
}

void AbortJob(const Status& why) {
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "sieve: rank %d: %s\n", rank, why.message().c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();  // MPI_Abort does not return; this satisfies [[noreturn]].
}

}  // namespace sieve::parallel
