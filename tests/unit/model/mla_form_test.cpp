// The MLA form choice (model/mla_form.h): hand-counted FLOPs on the tiny config, and the choices that
// matter on real shapes: decode absorbs, a prefill from scratch expands, a short chunk over a long
// context absorbs.
#include "model/mla_form.h"

#include <gtest/gtest.h>

#include "model/checkpoint_presets.h"
#include "tiny_checkpoint.h"

namespace sieve::model {
namespace {

TEST(MlaForm, HandCountOnTinyConfig) {
  const ModelConfig c = test_checkpoint::TinyConfig(4);  // kv_lora 128, nope 64, rope 32, v 64
  const MlaWork w{.heads = 4, .queries = 8, .keys = 8, .attended = 36};
  // Per head: kv_b_proj 2 x 128 x 128 per query (absorbed) or per key (expanded); a (query, key) pair
  // costs 2 x (2 x 128 + 32) absorbed, 2 x (64 + 32 + 64) expanded.
  EXPECT_DOUBLE_EQ(AbsorbedMlaFlops(c, w), 4 * (8 * 32768.0 + 36 * 576.0));
  EXPECT_DOUBLE_EQ(ExpandedMlaFlops(c, w), 4 * (8 * 32768.0 + 36 * 320.0));
  EXPECT_TRUE(UseExpandedMla(c, w));
}

TEST(MlaForm, DecodeAbsorbsAndPrefillExpandsOnRealShapes) {
  const ModelConfig c = FindCheckpointPreset("full-shape").value().config;
  const int64_t topk = c.index_topk;
  // One decode token over its top-k keys: ties or loses by a whole kv_b expansion per key.
  EXPECT_FALSE(UseExpandedMla(c, {.heads = 128, .queries = 1, .keys = topk, .attended = static_cast<double>(topk)}));
  // A 2,048-token prompt from scratch: every query sees its causal prefix.
  EXPECT_TRUE(UseExpandedMla(c, {.heads = 128, .queries = 2048, .keys = 2048, .attended = 2048.0 * 2049 / 2}));
  // 16 new tokens over 32K cached ones, each attending to its top-k: expanding 32K keys costs too much.
  EXPECT_FALSE(UseExpandedMla(c, {.heads = 128, .queries = 16, .keys = 32768, .attended = 16.0 * topk}));
}

}  // namespace
}  // namespace sieve::model
