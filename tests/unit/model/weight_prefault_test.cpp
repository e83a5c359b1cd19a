// Prefaulting a rank's mapped weights (model/weight_prefault.h): which pages a rank maps ahead, and that
// Model::Load maps them into the process (read back from /proc/self/pagemap), or leaves them when they do
// not fit in memory or the machine has several NUMA nodes.
#include "model/weight_prefault.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/numa_nodes.h"
#include "model/model.h"
#include "model/tensor_names.h"
#include "tests/test_support.h"
#include "tests/unit/model/tiny_checkpoint.h"

namespace sieve::model {
namespace {

const uintptr_t kPage = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));

bool Covered(const std::vector<PageRange>& pages, uintptr_t at) {
  for (const PageRange& r : pages) {
    const uintptr_t b = reinterpret_cast<uintptr_t>(r.data);
    if (at >= b && at < b + r.bytes) return true;
  }
  return false;
}

// Every byte of v lies in `pages`.
bool CoversTensor(const std::vector<PageRange>& pages, const ConstTensorView& v) {
  const uintptr_t b = reinterpret_cast<uintptr_t>(v.data);
  for (uintptr_t p = b / kPage * kPage; p < b + v.nbytes; p += kPage)
    if (!Covered(pages, p)) return false;
  return true;
}

// The pages wholly inside v (none of them shared with a neighbouring tensor); empty when v has none.
std::vector<uintptr_t> InteriorPages(const ConstTensorView& v) {
  const uintptr_t b = reinterpret_cast<uintptr_t>(v.data);
  std::vector<uintptr_t> inside;
  for (uintptr_t p = (b + kPage - 1) / kPage * kPage; p + kPage <= b + v.nbytes; p += kPage) inside.push_back(p);
  return inside;
}

class WeightPrefaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_checkpoint::TinyConfig(2);  // 1 dense + 1 MoE layer, then the MTP layer
    ASSERT_GT(config_.num_nextn_predict_layers, 0);
    auto summary = WriteRandomCheckpoint(config_, test_checkpoint::Options(dir_.path()));
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    auto ckpt = Checkpoint::Open(dir_.path());
    ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
    ckpt_ = std::move(ckpt).value();
  }
  ModelShard Shard(parallel::ParallelConfig flags, int world, int rank) {
    auto layout = parallel::ParallelLayout::Create(flags, world, rank);
    EXPECT_TRUE(layout.ok());
    auto shard = ModelShard::Create(config_, *layout);
    EXPECT_TRUE(shard.ok());
    return *shard;
  }

  test::TempDir dir_;
  ModelConfig config_;
  std::shared_ptr<Checkpoint> ckpt_;
};

TEST_F(WeightPrefaultTest, OneProcessMapsEveryTensorButTheEmbeddingsAndTheMtpLayer) {
  const ModelShard whole = Shard({}, 1, 0);
  const std::vector<PageRange> pages = RankWeightPages(*ckpt_, whole, /*with_mtp=*/false);
  ASSERT_FALSE(pages.empty());
  for (size_t i = 1; i < pages.size(); ++i)  // sorted, and touching ranges merged
    EXPECT_GT(pages[i].data, pages[i - 1].data + pages[i - 1].bytes);
  const std::string mtp = LayerPrefix(config_.num_hidden_layers);
  int unmapped_interiors = 0;
  for (const TensorSpec& t : ExpectedTensors(config_)) {
    const ConstTensorView& v = ckpt_->Get(t.name);
    const bool skipped = t.name.rfind(mtp, 0) == 0 || t.name.find("embed_tokens.") != std::string::npos;
    if (!skipped) {
      EXPECT_TRUE(CoversTensor(pages, v)) << t.name;
      if (const ConstTensorView* s = ckpt_->Find(ScaleName(t.name))) {
        EXPECT_TRUE(CoversTensor(pages, *s)) << t.name;
      }
      continue;
    }
    for (uintptr_t p : InteriorPages(v)) {
      EXPECT_FALSE(Covered(pages, p)) << t.name;
      ++unmapped_interiors;
    }
  }
  EXPECT_GT(unmapped_interiors, 0) << "no skipped tensor spans a whole page: the check above proves nothing";
  // With MTP, the MTP layer's tensors too (its own embedding still not).
  const std::vector<PageRange> with_mtp = RankWeightPages(*ckpt_, whole, /*with_mtp=*/true);
  EXPECT_TRUE(CoversTensor(with_mtp, ckpt_->Get(mtp + "eh_proj.weight")));
  EXPECT_FALSE(CoversTensor(with_mtp, ckpt_->Get("model.embed_tokens.weight")));
}

TEST_F(WeightPrefaultTest, AnExpertParallelRankMapsOnlyItsOwnExperts) {
  const parallel::ParallelConfig flags{.tensor_parallel_size = 2, .enable_expert_parallel = true};
  const int64_t moe_layer = config_.first_k_dense_replace, experts = config_.n_routed_experts;
  int checked = 0;
  for (int rank = 0; rank < 2; ++rank) {
    const std::vector<PageRange> pages = RankWeightPages(*ckpt_, Shard(flags, 2, rank), false);
    for (int64_t e = 0; e < experts; ++e) {
      const bool own = (e < experts / 2) == (rank == 0);
      const ConstTensorView& v = ckpt_->Get(LayerPrefix(moe_layer) + "mlp.experts." + std::to_string(e) + ".down_proj.weight");
      if (own) {
        EXPECT_TRUE(CoversTensor(pages, v)) << "rank " << rank << " expert " << e;
        continue;
      }
      for (uintptr_t p : InteriorPages(v)) {
        EXPECT_FALSE(Covered(pages, p)) << "rank " << rank << " expert " << e;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0) << "no expert spans a whole page: the check above proves nothing";
}

// Whether the page at `at` is mapped into this process (bit 63 of its /proc/self/pagemap entry, readable
// without privileges); nullopt when pagemap cannot be read.
std::optional<bool> PagePresent(uintptr_t at) {
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  uint64_t entry = 0;
  const ssize_t got = ::pread(fd, &entry, sizeof entry, static_cast<off_t>(at / kPage * sizeof entry));
  ::close(fd);
  if (got != static_cast<ssize_t>(sizeof entry)) return std::nullopt;
  return (entry >> 63) != 0;
}

// A page of `pages` not mapped yet (0 if every page is: nothing a prefault could show).
uintptr_t UnmappedPage(const std::vector<PageRange>& pages) {
  for (const PageRange& r : pages)
    for (uintptr_t p = reinterpret_cast<uintptr_t>(r.data); p < reinterpret_cast<uintptr_t>(r.data) + r.bytes; p += kPage)
      if (PagePresent(p) == false) return p;
  return 0;
}

TEST_F(WeightPrefaultTest, LoadMapsTheRanksPagesAndTooLittleMemoryLeavesThem) {
  if (!PagePresent(reinterpret_cast<uintptr_t>(ckpt_->Get("lm_head.weight").data)).has_value())
    GTEST_SKIP() << "/proc/self/pagemap is not readable here";
  const std::vector<PageRange> pages = RankWeightPages(*ckpt_, Shard({}, 1, 0), false);
  const uintptr_t unmapped = UnmappedPage(pages);
  if (unmapped == 0) GTEST_SKIP() << "every weight page was mapped at open already: nothing to show";
  const PrefaultReport refused = PrefaultPages(pages, /*available_bytes=*/1 << 20, /*numa_nodes=*/1);
  EXPECT_EQ(refused.outcome, PrefaultReport::Outcome::kTooLittleMemory);
  EXPECT_NE(refused.why_not.find("GB of memory available"), std::string::npos) << refused.why_not;
  const PrefaultReport numa = PrefaultPages(pages, /*available_bytes=*/int64_t{1} << 40, /*numa_nodes=*/2);
  EXPECT_EQ(numa.outcome, PrefaultReport::Outcome::kSeveralNodes);
  EXPECT_EQ(PagePresent(unmapped), false);

  if (OnlineNumaNodes() > 1) GTEST_SKIP() << "several NUMA nodes: Model::Load leaves the pages to first touch";
  auto model = Model::Load(ckpt_, {.num_threads = 1});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(UnmappedPage(pages), 0u);
  EXPECT_EQ(PagePresent(unmapped), true);
}

}  // namespace
}  // namespace sieve::model
