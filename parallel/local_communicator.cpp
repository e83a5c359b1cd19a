// LocalCommunicator: collectives over a group of one.
#include "parallel/local_communicator.h"

#include <algorithm>

#include <fmt/format.h>

namespace sieve::parallel {

Status LocalCommunicator::AllReduceSum(std::span<float>) { return Status::Ok(); }

Status LocalCommunicator::AllGather(std::span<const float> local, std::span<float> out) {
  if (out.size() != local.size()) {
    return Status::InvalidArgument(
        fmt::format("all-gather: output holds {} floats, the group needs {}", out.size(), local.size()));
  }
  std::copy(local.begin(), local.end(), out.begin());
  return Status::Ok();
}

Status LocalCommunicator::Broadcast(std::span<std::byte>, int root) {
  if (root != 0) return Status::InvalidArgument(fmt::format("broadcast: root {} is not in a group of 1", root));
  return Status::Ok();
}

StatusOr<std::vector<std::byte>> LocalCommunicator::AllToAllV(std::span<const std::byte> send,
                                                              std::span<const int64_t> send_counts,
                                                              std::vector<int64_t>* recv_counts) {
  if (send_counts.size() != 1 || send_counts[0] != static_cast<int64_t>(send.size())) {
    return Status::InvalidArgument("all-to-all: a group of 1 needs one count equal to the bytes sent");
  }
  recv_counts->assign(1, send_counts[0]);
  return std::vector<std::byte>(send.begin(), send.end());
}

Status LocalCommunicator::Barrier() { return Status::Ok(); }

StatusOr<std::unique_ptr<Communicator>> LocalCommunicator::Split(int, int) {
  return std::unique_ptr<Communicator>(std::make_unique<LocalCommunicator>());
}

}  // namespace sieve::parallel
