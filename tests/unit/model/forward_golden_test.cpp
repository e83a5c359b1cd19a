// The forward pass against the tiny-dsv32-a fp32 goldens (DeepSeek's official inference code in float32),
// at the tolerances of the fixture README: logits 5e-4 max abs with equal argmax, exact greedy tokens,
// hidden states 5e-4, indexer scores 1e-4 with equal top-k sets, router experts as sets and weights 1e-5.
#include <gtest/gtest.h>

#include <set>

#include "tests/test_support.h"
#include "tests/unit/model/forward_test_support.h"

namespace sieve::model {
namespace {

using namespace test_support;

constexpr double kLogitsAbs = 5e-4;
constexpr double kHiddenAbs = 5e-4;
constexpr double kIndexScoreAbs = 1e-4;
constexpr double kRouterWeightAbs = 1e-5;
constexpr int64_t kGenTokens = 16;

class ForwardGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto fx = test::SharedFixture("tiny-dsv32-a");
    if (!fx) return;
    dir_ = new std::string(*fx);
    auto ckpt = Checkpoint::Open(*fx + "/checkpoint");
    ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
    ckpt_ = new std::shared_ptr<const Checkpoint>(std::move(ckpt).value());
  }
  static void TearDownTestSuite() {
    delete ckpt_;
    delete dir_;
    ckpt_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; golden test skipped";
    prompts_ = std::make_unique<GoldenFile>(*dir_ + "/golden/prompts.safetensors");
    logits_ = std::make_unique<GoldenFile>(*dir_ + "/golden/fp32_logits.safetensors");
  }
  std::unique_ptr<Model> Load(ModelOptions options = {}) {
    if (options.num_threads == 0) options.num_threads = 2;
    auto m = Model::Load(*ckpt_, options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }
  std::vector<int32_t> Prompt(int i) const { return prompts_->Ints("prompt_" + std::to_string(i)); }

  static std::string* dir_;
  static std::shared_ptr<const Checkpoint>* ckpt_;
  std::unique_ptr<GoldenFile> prompts_, logits_;
};
std::string* ForwardGolden::dir_ = nullptr;
std::shared_ptr<const Checkpoint>* ForwardGolden::ckpt_ = nullptr;

TEST_F(ForwardGolden, PrefillLogitsMatchReference) {
  auto m = Load();
  for (int i = 0; i < 3; ++i) {
    const Tensor got = PrefillLogits(*m, Prompt(i));
    const Tensor want = logits_->Float("prefill_logits_" + std::to_string(i));
    const double diff = MaxAbsDiff(got, want);
    EXPECT_LE(diff, kLogitsAbs) << "prompt " << i;
    EXPECT_EQ(ArgmaxMismatches(got, want), 0) << "prompt " << i;
    std::printf("prefill_logits_%d max abs diff %.3g\n", i, diff);
  }
}

}  // namespace
}  // namespace sieve::model
