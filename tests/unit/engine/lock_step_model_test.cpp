// Lock-step serving without MPI: StepCommand's wire format round-trips, and what a LockStepModel sends,
// replayed into RunLockStepFollower, makes the follower's model see the same calls in the same order, with
// rank 0's copy-on-write block copies applied before the call that follows them.
#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "engine/lock_step_model.h"
#include "model/checkpoint_presets.h"

namespace sieve::engine {
namespace {

model::ForwardBatch TwoChunks() {
  model::ForwardBatch b;
  b.all_hidden = true;
  b.seqs.resize(2);
  b.seqs[0] = {.token_ids = {5, 6, 7}, .start_pos = 0, .block_table = {3}, .logits = model::SequenceChunk::Logits::kAll};
  b.seqs[1] = {.token_ids = {9}, .start_pos = 70, .block_table = {0, 4}, .logits = model::SequenceChunk::Logits::kNone};
  return b;
}

void ExpectSameBatch(const model::ForwardBatch& a, const model::ForwardBatch& b) {
  EXPECT_EQ(a.all_hidden, b.all_hidden);
  ASSERT_EQ(a.seqs.size(), b.seqs.size());
  for (size_t i = 0; i < a.seqs.size(); ++i) {
    EXPECT_EQ(a.seqs[i].token_ids, b.seqs[i].token_ids);
    EXPECT_EQ(a.seqs[i].start_pos, b.seqs[i].start_pos);
    EXPECT_EQ(a.seqs[i].block_table, b.seqs[i].block_table);
    EXPECT_EQ(a.seqs[i].logits, b.seqs[i].logits);
  }
}

TEST(StepCommand, RoundTripsEveryField) {
  StepCommand c{.kind = StepCommand::Kind::kForwardMtp, .block_copies = {{1, 2}, {3, 4}}, .batch = TwoChunks(),
                .hidden = Tensor({4, 3})};
  for (int64_t i = 0; i < c.hidden.numel(); ++i) c.hidden.data[i] = 0.5f * static_cast<float>(i) - 1;
  auto back = DecodeStepCommand(EncodeStepCommand(c));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->kind, c.kind);
  EXPECT_EQ(back->block_copies, c.block_copies);
  ExpectSameBatch(back->batch, c.batch);
  EXPECT_EQ(back->hidden.shape, c.hidden.shape);
  EXPECT_EQ(back->hidden.data, c.hidden.data);
}

TEST(StepCommand, RefusesTruncatedOrPaddedBytes) {
  std::vector<std::byte> bytes = EncodeStepCommand({.kind = StepCommand::Kind::kForward, .batch = TwoChunks()});
  EXPECT_FALSE(DecodeStepCommand(std::span(bytes).first(bytes.size() - 1)).ok());
  bytes.push_back(std::byte{0});
  EXPECT_FALSE(DecodeStepCommand(bytes).ok());
}

// Rank 0's broadcasts are queued; a follower's broadcasts take them in order (one process plays both).
class QueueChannel final : public parallel::Communicator {
 public:
  explicit QueueChannel(int rank) : rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return 2; }
  Status Broadcast(std::span<std::byte> data, int root) override {
    if (rank_ == root) {
      queue_->emplace_back(data.begin(), data.end());
      return Status::Ok();
    }
    if (queue_->empty() || queue_->front().size() != data.size()) return Status::Internal("no matching broadcast");
    std::copy(queue_->front().begin(), queue_->front().end(), data.begin());
    queue_->pop_front();
    return Status::Ok();
  }
  Status AllReduceSum(std::span<float>) override { return Status::Unimplemented("not used"); }
  Status AllGather(std::span<const float>, std::span<float>) override { return Status::Unimplemented("not used"); }
  StatusOr<std::vector<std::byte>> AllToAllV(std::span<const std::byte>, std::span<const int64_t>,
                                             std::vector<int64_t>*) override {
    return Status::Unimplemented("not used");
  }
  Status Barrier() override { return Status::Unimplemented("not used"); }
  StatusOr<std::unique_ptr<Communicator>> Split(int, int) override { return Status::Unimplemented("not used"); }

  std::shared_ptr<std::deque<std::vector<std::byte>>> queue_ = std::make_shared<std::deque<std::vector<std::byte>>>();

 private:
  int rank_;
};

// Records the calls it gets as text.
class RecordingModel final : public model::Model {
 public:
  RecordingModel() : config_(model::FindCheckpointPreset("tiny").value().config) {}
  const model::ModelConfig& config() const override { return config_; }
  int64_t num_cache_layers() const override { return 1; }
  Status Forward(const model::ForwardBatch& batch, model::PagedKvCache&, model::ForwardOutput*) override {
    calls.push_back("forward " + std::to_string(batch.seqs.size()));
    batches.push_back(batch);
    return Status::Ok();
  }
  Status ForwardMtp(const model::ForwardBatch& batch, const Tensor& hidden, model::PagedKvCache&,
                    model::ForwardOutput*) override {
    calls.push_back("mtp " + std::to_string(hidden.numel()));
    batches.push_back(batch);
    return Status::Ok();
  }
  void CopyCacheBlocks(const std::vector<std::pair<int32_t, int32_t>>& copies, model::PagedKvCache&) override {
    for (const auto& [src, dst] : copies) calls.push_back("copy " + std::to_string(src) + "->" + std::to_string(dst));
  }

  std::vector<std::string> calls;
  std::vector<model::ForwardBatch> batches;

 private:
  model::ModelConfig config_;
};

TEST(LockStepModel, FollowerRepeatsRankZerosCallsInOrder) {
  QueueChannel leader_channel(0), follower_channel(1);
  follower_channel.queue_ = leader_channel.queue_;
  auto leader_inner = std::make_shared<RecordingModel>();
  LockStepModel leader(leader_inner, leader_channel);
  RecordingModel follower;
  const model::ModelConfig config = follower.config();
  model::PagedKvCache cache(config, 1, 4, 16, model::KvCacheDtype::kF32);
  model::ForwardOutput out;

  ASSERT_TRUE(leader.Forward(TwoChunks(), cache, &out).ok());
  leader.CopyCacheBlocks({{3, 5}}, cache);
  ASSERT_TRUE(leader.ForwardMtp(TwoChunks(), Tensor({4, 2}), cache, &out).ok());
  ASSERT_TRUE(leader.StopFollowers().ok());

  ASSERT_TRUE(RunLockStepFollower(follower, cache, follower_channel).ok());
  const std::vector<std::string> want = {"forward 2", "copy 3->5", "mtp 8"};
  EXPECT_EQ(leader_inner->calls, want);
  EXPECT_EQ(follower.calls, want);
  ASSERT_EQ(follower.batches.size(), 2u);
  for (const model::ForwardBatch& b : follower.batches) ExpectSameBatch(b, TwoChunks());
  EXPECT_TRUE(leader_channel.queue_->empty());
}

}  // namespace
}  // namespace sieve::engine
