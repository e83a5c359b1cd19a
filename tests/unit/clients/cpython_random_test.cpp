// CPythonRandom against values printed by CPython 3.11 (`random.Random(seed)`), and the few-shot indices
// lm-eval draws for every GSM8K test doc.
#include "clients/cpython_random.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "clients/gsm8k_prompt.h"
#include "tests/test_support.h"

namespace sieve::clients {
namespace {

TEST(CPythonRandom, Uint32StreamMatchesGetrandbits32) {
  CPythonRandom rnd(1234);  // [r.getrandbits(32) for _ in range(3)] with r = random.Random(1234)
  EXPECT_EQ(rnd.NextUint32(), 4150886329u);
  EXPECT_EQ(rnd.NextUint32(), 3342196574u);
  EXPECT_EQ(rnd.NextUint32(), 1892932127u);
  CPythonRandom other(1235);  // negative control: a neighbouring seed gives another stream
  EXPECT_NE(other.NextUint32(), 4150886329u);
}

TEST(CPythonRandom, SampleUsesTheSetBranchForLargePopulations) {
  CPythonRandom rnd(1234);  // r.sample(range(7473), 5) twice
  EXPECT_EQ(rnd.Sample(7473, 5), (std::vector<size_t>{6374, 3610, 957, 61, 742}));
  EXPECT_EQ(rnd.Sample(7473, 5), (std::vector<size_t>{7462, 6610, 4769, 286, 5501}));
}

TEST(CPythonRandom, SampleUsesThePoolBranchForSmallPopulations) {
  CPythonRandom rnd(7);  // r.sample(range(10), 6), then r.sample(range(30), 3)
  EXPECT_EQ(rnd.Sample(10, 6), (std::vector<size_t>{5, 2, 6, 9, 0, 7}));
  EXPECT_EQ(rnd.Sample(30, 3), (std::vector<size_t>{26, 17, 3}));
}

TEST(Gsm8kFewshot, IndicesMatchLmEvalForEveryTestDoc) {
  const auto fx = test::SharedFixture("gsm8k");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/gsm8k not present; few-shot index test skipped";
  std::ifstream in(*fx + "/fewshot_indices_seed1234.jsonl");
  std::vector<std::vector<size_t>> want;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    ASSERT_EQ(j["doc_id"].get<size_t>(), want.size());
    want.push_back(j["train_indices"].get<std::vector<size_t>>());
  }
  ASSERT_EQ(want.size(), 1319u);
  EXPECT_EQ(DrawFewshotIndices(7473, 1319, 5), want);
  EXPECT_NE(DrawFewshotIndices(7473, 1319, 5, /*seed=*/0), want);  // negative control
}

}  // namespace
}  // namespace sieve::clients
