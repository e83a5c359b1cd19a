// Data-parallel step agreement without MPI: one engine plays a replica, and a fake leaders' group plays
// the other replica (it has work for a given number of rounds, or is stopping). The engine must make
// exactly one model call per round in which any replica works (an empty batch when it has none of its
// own), none while every replica idles, produce the same tokens as an engine without replicas, and stop
// only once the other replica stops too, telling its server once that the other stopped first.
#include "engine/replica_sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/unit/engine/engine_test_support.h"
#include "tests/unit/engine/scripted_model.h"

namespace sieve::engine {
namespace {

using test_support::ScriptedModel;

// The other replica's leader: each all-reduce adds its counts (work while `busy_rounds` lasts, and
// whether it is stopping) to this replica's.
class OtherReplica final : public parallel::Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  Status AllReduceSum(std::span<float> data) override {
    if (data.size() != 2) return Status::InvalidArgument("a round is two counts");
    const bool busy = busy_rounds.load() > 0;
    if (busy) --busy_rounds;
    data[0] += busy ? 1.0f : 0.0f;
    data[1] += stopping.load() ? 1.0f : 0.0f;
    ++rounds;
    if (data[0] > 0) ++stepping_rounds;
    return Status::Ok();
  }
  Status AllGather(std::span<const float>, std::span<float>) override { return Status::Unimplemented("not used"); }
  Status Broadcast(std::span<std::byte>, int) override { return Status::Unimplemented("not used"); }
  StatusOr<std::vector<std::byte>> AllToAllV(std::span<const std::byte>, std::span<const int64_t>,
                                             std::vector<int64_t>*) override {
    return Status::Unimplemented("not used");
  }
  Status Barrier() override { return Status::Unimplemented("not used"); }
  StatusOr<std::unique_ptr<Communicator>> Split(int, int) override { return Status::Unimplemented("not used"); }

  std::atomic<int> busy_rounds{0};
  std::atomic<bool> stopping{false};
  std::atomic<int> rounds{0}, stepping_rounds{0};
};

// ScriptedModel counting its calls, and the empty ones among them.
class CountingModel final : public model::Model {
 public:
  const model::ModelConfig& config() const override { return inner_.config(); }
  int64_t num_cache_layers() const override { return inner_.num_cache_layers(); }
  Status Forward(const model::ForwardBatch& batch, model::PagedKvCache& cache, model::ForwardOutput* out) override {
    ++calls;
    if (batch.seqs.empty()) ++empty_calls;
    return inner_.Forward(batch, cache, out);
  }
  Status ForwardMtp(const model::ForwardBatch& batch, const Tensor& hidden, model::PagedKvCache& cache,
                    model::ForwardOutput* out) override {
    return inner_.ForwardMtp(batch, hidden, cache, out);
  }

  std::atomic<int> calls{0}, empty_calls{0};

 private:
  ScriptedModel inner_;
};

// Waits (bounded, nothing is timed) until `done` holds.
template <typename Done>
bool Eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

GenerationRequest Greedy(const std::string& id) {
  GenerationRequest r;
  r.request_id = id;
  r.prompt_ids = {5, 17, 42, 8};
  r.params.temperature = 0;
  r.params.max_tokens = 12;
  r.params.ignore_eos = true;
  return r;
}

TEST(ReplicaSync, AnIdleReplicaStepsEmptyOncePerRoundAnotherWorks) {
  auto model = std::make_shared<CountingModel>();
  OtherReplica other;
  std::atomic<int> told_to_stop{0};
  ReplicaSync sync(other, [&] { ++told_to_stop; });
  auto engine = Engine::Create(model, nullptr, test_support::SmallOptions(*model, 1024), &sync);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  other.busy_rounds = 5;
  sync.Open();
  // Five rounds with the other's work, then idle rounds (polled every few ms) without any model call.
  ASSERT_TRUE(Eventually([&] { return other.rounds.load() >= 8; }));
  EXPECT_EQ(model->calls.load(), 5);
  EXPECT_EQ(model->empty_calls.load(), 5);
  other.stopping = true;  // this replica hears of it in its next round, once
  ASSERT_TRUE(Eventually([&] { return told_to_stop.load() == 1 && other.rounds.load() >= 10; }));
  (*engine)->Shutdown();  // returns: both replicas are stopping and neither has work
  EXPECT_EQ(told_to_stop.load(), 1);
  EXPECT_EQ(model->calls.load(), 5);
}

TEST(ReplicaSync, OwnRequestsGiveTheTokensOfAnEngineWithoutReplicas) {
  auto model = std::make_shared<CountingModel>();
  std::vector<int32_t> want;
  {
    auto plain = Engine::Create(model, nullptr, test_support::SmallOptions(*model, 1024));
    ASSERT_TRUE(plain.ok());
    test_support::Collector c;
    ASSERT_TRUE((*plain)->Submit(Greedy("a"), c.Callback()).ok());
    ASSERT_TRUE(c.WaitFinished(1));
    want = c.Get("a").tokens;
  }
  ASSERT_EQ(want.size(), 12u);
  const int plain_calls = model->calls.load();
  OtherReplica other;
  ReplicaSync sync(other, [] {});
  auto engine = Engine::Create(model, nullptr, test_support::SmallOptions(*model, 1024), &sync);
  ASSERT_TRUE(engine.ok());
  sync.Open();
  test_support::Collector c;
  ASSERT_TRUE((*engine)->Submit(Greedy("b"), c.Callback()).ok());
  ASSERT_TRUE(c.WaitFinished(1));
  EXPECT_EQ(c.Get("b").tokens, want);
  other.stopping = true;
  (*engine)->Shutdown();
  // One call per round that stepped, and only this replica's own (the other never had work).
  EXPECT_EQ(model->calls.load() - plain_calls, other.stepping_rounds.load());
  EXPECT_EQ(model->empty_calls.load(), 0);
}

TEST(ReplicaSync, StoppingWaitsForTheOtherReplica) {
  auto model = std::make_shared<CountingModel>();
  OtherReplica other;
  ReplicaSync sync(other, [] {});
  auto engine = Engine::Create(model, nullptr, test_support::SmallOptions(*model, 1024), &sync);
  ASSERT_TRUE(engine.ok());
  sync.Open();
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    (*engine)->Shutdown();
    stopped = true;
  });
  // This replica is stopping; the other still works for a while, so rounds go on and step empty.
  other.busy_rounds = 3;
  ASSERT_TRUE(Eventually([&] { return other.rounds.load() >= 6; }));
  EXPECT_FALSE(stopped.load());
  other.stopping = true;
  stopper.join();
  EXPECT_TRUE(stopped.load());
  EXPECT_EQ(model->empty_calls.load(), 3);
}

TEST(ReplicaSync, SpeculativeDecodingIsRefused) {
  auto model = std::make_shared<CountingModel>();
  OtherReplica other;
  ReplicaSync sync(other, [] {});
  EngineOptions o = test_support::SmallOptions(*model, 1024);
  o.speculative_config = R"({"method":"deepseek_mtp","num_speculative_tokens":1})";
  auto engine = Engine::Create(model, nullptr, o, &sync);
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("--data-parallel-size"), std::string::npos);
}

}  // namespace
}  // namespace sieve::engine
