// StepCommand: one model call that rank 0 of a lock-step serving job (engine/lock_step_model.h) sends to
// the other ranks, so that each runs the same call on its own identical KV cache. Serialized compactly
// (the batch's token ids, positions, block tables and logits choice; the MTP hidden rows) because it
// crosses the network once per step.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "model/forward_batch.h"
#include "parallel/communicator.h"

namespace sieve::engine {

struct StepCommand {
  enum class Kind : int64_t { kForward = 1, kForwardMtp = 2, kStop = 3 } kind = Kind::kStop;
  // Copy-on-write block copies (src, dst) rank 0 made since the previous command, applied first.
  std::vector<std::pair<int32_t, int32_t>> block_copies{};
  model::ForwardBatch batch{};
  Tensor hidden{};  // kForwardMtp only: the main model's hidden rows
};

std::vector<std::byte> EncodeStepCommand(const StepCommand& command);
// InvalidArgument if the bytes are not a whole command.
StatusOr<StepCommand> DecodeStepCommand(std::span<const std::byte> bytes);

// Two broadcasts from rank 0 of `group`: the length, then the bytes.
Status SendStepCommand(parallel::Communicator& group, const StepCommand& command);
StatusOr<StepCommand> ReceiveStepCommand(parallel::Communicator& group);

}  // namespace sieve::engine
