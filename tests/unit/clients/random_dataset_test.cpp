// vLLM's random dataset on a fake one-character-per-token tokenizer: target lengths, the BOS allowance,
// the range ratio bounds, and special ids never drawn.
#include "clients/random_dataset.h"

#include <gtest/gtest.h>

namespace sieve::clients {
namespace {

// Ids 0..25 are 'a'..'z'; id 26 is a special token that decodes to '#'. Adds one BOS when encoding.
class LetterTokenizer : public PromptTokenizer {
 public:
  std::vector<int32_t> Encode(const std::string& text) const override {
    std::vector<int32_t> ids;
    for (char c : text) ids.push_back(c == '#' ? 26 : c - 'a');
    return ids;
  }
  std::string Decode(const std::vector<int32_t>& ids) const override {
    std::string s;
    for (int32_t id : ids) s += id == 26 ? '#' : static_cast<char>('a' + id);
    return s;
  }
  int64_t vocab_size() const override { return 27; }
  bool IsSpecial(int32_t id) const override { return id == 26; }
  int num_special_tokens_to_add() const override { return 1; }
};

TEST(RandomDataset, FixedLengthsWhenRangeRatioIsZero) {
  RandomDatasetOptions o;
  o.num_prompts = 5;
  o.input_len = 11;
  o.output_len = 4;
  o.prefix_len = 3;
  auto ds = SampleRandomDataset(LetterTokenizer(), o);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_EQ(ds->requests.size(), 5u);
  EXPECT_EQ(ds->length_mismatches, 0u);
  const std::string prefix = ds->requests[0].prompt.substr(0, 3);
  for (const BenchRequest& r : ds->requests) {
    EXPECT_EQ(r.prompt_len, 3 + 10);  // prefix + input_len - 1 (the BOS the server adds)
    EXPECT_EQ(r.prompt.size(), 13u);
    EXPECT_EQ(r.expected_output_len, 4);
    EXPECT_EQ(r.prompt.substr(0, 3), prefix);            // shared prefix
    EXPECT_EQ(r.prompt.find('#'), std::string::npos);    // special ids are never drawn
  }
}

TEST(RandomDataset, RangeRatioBoundsLengths) {
  RandomDatasetOptions o;
  o.num_prompts = 200;
  o.input_len = 21;  // 20 real tokens: [10, 30] with r = 0.5
  o.output_len = 10;
  o.range_ratio = 0.5;
  auto ds = SampleRandomDataset(LetterTokenizer(), o);
  ASSERT_TRUE(ds.ok());
  int min_in = 1 << 30, max_in = 0, min_out = 1 << 30, max_out = 0;
  for (const BenchRequest& r : ds->requests) {
    min_in = std::min(min_in, r.prompt_len);
    max_in = std::max(max_in, r.prompt_len);
    min_out = std::min(min_out, r.expected_output_len);
    max_out = std::max(max_out, r.expected_output_len);
  }
  EXPECT_GE(min_in, 10);
  EXPECT_LE(max_in, 30);
  EXPECT_GE(min_out, 5);
  EXPECT_LE(max_out, 15);
  EXPECT_LT(min_in, max_in);  // negative control: lengths do vary
}

TEST(RandomDataset, RejectsRangeRatioOfOne) {
  RandomDatasetOptions o;
  o.range_ratio = 1.0;
  EXPECT_EQ(SampleRandomDataset(LetterTokenizer(), o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sieve::clients
