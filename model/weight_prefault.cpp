// Prefaulting a rank's mapped weights (see weight_prefault.h).
#include "model/weight_prefault.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "model/tensor_names.h"

namespace sieve::model {

std::vector<PageRange> RankWeightPages(const Checkpoint& checkpoint, const ModelShard& shard, bool with_mtp) {
  const ModelConfig& config = checkpoint.config();
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::string mtp_begin = LayerPrefix(config.num_hidden_layers);
  std::vector<std::pair<uintptr_t, uintptr_t>> spans;  // [begin, end) addresses, page-aligned
  const auto add = [&](const ConstTensorView* v) {
    if (v == nullptr || v->nbytes == 0) return;
    const uintptr_t at = reinterpret_cast<uintptr_t>(v->data);
    spans.push_back({at / page * page, (at + v->nbytes + page - 1) / page * page});
  };
  for (const TensorSpec& t : ExpectedTensors(config)) {
    if (!with_mtp && t.name.rfind(mtp_begin, 0) == 0) continue;
    if (t.name.find("embed_tokens.") != std::string::npos) continue;
    if (shard.TensorShare(t.name, config) <= 0.0) continue;
    add(checkpoint.Find(t.name));
    add(checkpoint.Find(ScaleName(t.name)));
  }
  std::sort(spans.begin(), spans.end());
  std::vector<PageRange> pages;
  uintptr_t begin = 0, end = 0;
  const auto flush = [&] {
    if (end > begin) pages.push_back({reinterpret_cast<const std::byte*>(begin), end - begin});
  };
  for (const auto& [b, e] : spans) {
    if (b > end) {
      flush();
      begin = b;
    }
    end = std::max(end, e);
  }
  flush();
  return pages;
}

PrefaultReport PrefaultPages(const std::vector<PageRange>& pages, int64_t available_bytes, int numa_nodes) {
  PrefaultReport report;
  for (const PageRange& r : pages) report.bytes += r.bytes;
  if (numa_nodes > 1) {
    report.outcome = PrefaultReport::Outcome::kSeveralNodes;
    report.why_not = fmt::format("{} NUMA nodes: each page goes where the thread that first reads it runs", numa_nodes);
    return report;
  }
  if (report.bytes > static_cast<size_t>(std::max<int64_t>(available_bytes, 0))) {
    report.outcome = PrefaultReport::Outcome::kTooLittleMemory;
    report.why_not = fmt::format("{:.2f} GB of weights, {:.2f} GB of memory available",
                                 static_cast<double>(report.bytes) / 1e9, static_cast<double>(available_bytes) / 1e9);
    return report;
  }
  for (const PageRange& r : pages) {
    // MADV_POPULATE_READ faults the pages in as reads would (from disk where they are not cached yet)
    // without touching their data in the CPU.
    if (::madvise(const_cast<std::byte*>(r.data), r.bytes, MADV_POPULATE_READ) != 0) {
      report.outcome = PrefaultReport::Outcome::kFailed;
      report.why_not = fmt::format("madvise(MADV_POPULATE_READ): {}", std::strerror(errno));
      return report;
    }
  }
  return report;
}

}  // namespace sieve::model
