// Lightning indexer (see indexer.h). Layout of each q head and of k: [rope qk_rope_head_dim | rest], the
// rope part rotated as halves (the 2025-11-17 fix in DeepSeek-V3.2-Exp), then the Hadamard rotation.
#include "model/indexer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/scratch_buffer.h"
#include "kernels/hadamard.h"
#include "kernels/index_score.h"
#include "kernels/matmul.h"
#include "kernels/top_k.h"
#include "kernels/norm.h"
#include "model/group_sum.h"
#include "model/weight_views.h"

namespace sieve::model {

namespace {
// The reference's `LayerNorm(head_dim)` keeps its default eps, independent of rms_norm_eps.
constexpr float kKeyNormEps = 1e-6f;
// Query tokens whose scores are held (and summed over the attention-TP group) at once: bounds a long
// prefill's score buffer to this many rows of the context.
constexpr int64_t kScoreChunkTokens = 64;
}  // namespace

Indexer::Indexer(const Checkpoint& ckpt, const std::string& prefix, const YarnRope& rope, parallel::ShardRange heads)
    : rope_(rope),
      wq_b_(LinearMatrix(ckpt.Linear(prefix + ".wq_b"))
                .Rows(heads.begin * ckpt.config().index_head_dim, heads.count * ckpt.config().index_head_dim)),
      wk_(LinearMatrix(ckpt.Linear(prefix + ".wk"))),
      weights_proj_(DenseMatrix(ckpt.Get(prefix + ".weights_proj.weight")).Rows(heads.begin, heads.count)),
      k_norm_weight_(FloatVector(ckpt.Get(prefix + ".k_norm.weight"))),
      k_norm_bias_(FloatVector(ckpt.Get(prefix + ".k_norm.bias"))) {
  const ModelConfig& c = ckpt.config();
  n_heads_ = heads.count;
  total_heads_ = c.index_n_heads;
  head_dim_ = c.index_head_dim;
  rope_dim_ = c.qk_rope_head_dim;
  topk_ = c.index_topk;
}

void Indexer::WriteKeys(const StepTokens& step, const float* x, int64_t cache_layer, PagedKvCache& cache,
                        const ForwardContext& ctx) const {
  const int64_t n = step.n_tokens();
  std::vector<float> k(n * head_dim_);  // [n, head_dim]
  kernels::Matmul(wk_, x, n, k.data(), *ctx.pool);
  kernels::LayerNorm(k.data(), k_norm_weight_.data(), k_norm_bias_.data(), n, head_dim_, kKeyNormEps, k.data());
  for (int64_t s = 0; s < step.n_seqs(); ++s)
    for (int64_t t = step.seq_begin[s]; t < step.seq_begin[s + 1]; ++t) {
      float* kt = k.data() + t * head_dim_;
      rope_.RotateHalves(kt, step.positions[t]);
      kernels::HadamardRotate(kt, head_dim_);
      const CacheSlot slot = step.Slot(s, step.positions[t]);
      cache.WriteIndexKey(cache_layer, slot.block, slot.slot, kt);
    }
}

std::vector<std::vector<int32_t>> Indexer::Select(const StepTokens& step, const float* x, const float* qr,
                                                  int64_t cache_layer, const PagedKvCache& cache,
                                                  const ForwardContext& ctx) const {
  const int64_t n = step.n_tokens();
  // While no token of the step has more than index_topk causal keys, each attends to all of them and the
  // index query (wq_b, its rotations, weights_proj) would go unused: a tenth of a 2,048-token prefill's
  // FLOPs (~12% of its time), 2 MiB of FP8 weights per layer in a short-context decode step. Traced steps
  // score anyway (the golden test compares the scores of every token). Positions alone decide, so every
  // rank of the attention group skips the same collectives.
  bool any_selects = false;
  for (int64_t t = 0; t < n; ++t) any_selects |= step.positions[t] + 1 > topk_;
  if (!any_selects && ctx.trace == nullptr) {
    std::vector<std::vector<int32_t>> every(n);
    for (int64_t t = 0; t < n; ++t) {
      every[t].resize(step.positions[t] + 1);
      std::iota(every[t].begin(), every[t].end(), 0);
    }
    return every;
  }
  // [n, n_heads, head_dim]; reused from call to call on the thread running the layers: at 2,048 tokens it
  // is 67 MiB, above glibc's 32 MiB mmap threshold, and allocated per layer it was page-faulted in afresh
  // every time (~64K faults per 1,024-token prefill, most of its memset and kernel time).
  thread_local std::vector<float> q_buffer;
  float* q = GrowScratch(q_buffer, n * n_heads_ * head_dim_);  // the lambdas below run on pool threads: not the thread_local itself
  kernels::Matmul(wq_b_, qr, n, q, *ctx.pool);
  // Token by token over the pool: n x n_heads rotations of head_dim each (on one thread, ~5% of a 2,048-token
  // prefill's samples and twice that of its wall time).
  ctx.pool->ParallelFor(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* qt = q + t * n_heads_ * head_dim_;
      rope_.RotateHalves(qt, n_heads_, head_dim_, step.positions[t]);
      for (int64_t h = 0; h < n_heads_; ++h) kernels::HadamardRotate(qt + h * head_dim_, head_dim_);
    }
  });
  // Head weights w[t,h] = weights_proj(x)[t,h] * n_heads^-0.5 * head_dim^-0.5, in fp32 (Indexer.forward).
  std::vector<float> w(n * n_heads_);  // [n, n_heads]
  kernels::Matmul(weights_proj_, x, n, w.data(), *ctx.pool);
  const float head_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(total_heads_)) /
                                              std::sqrt(static_cast<double>(head_dim_)));
  for (float& v : w) v *= head_scale;

  std::vector<std::vector<int32_t>> selected(n);
  std::vector<std::vector<float>> traced_scores(ctx.trace ? n : 0);
  for (int64_t s = 0; s < step.n_seqs(); ++s) {
    const int64_t context = step.context_len(s);
    // The keys are scored where the cache holds them, block by block of the sequence's block table, in the
    // cache's dtype: copying them to a contiguous fp32 buffer first wrote and re-read 16 MiB per layer at
    // 32K context (with fp8, 4x the bytes the cache holds).
    std::vector<const uint8_t*> key_blocks((context + step.block_size - 1) / step.block_size);
    for (int64_t b = 0; b < static_cast<int64_t>(key_blocks.size()); ++b)
      key_blocks[b] = cache.IndexKeys(cache_layer, step.Slot(s, b * step.block_size).block);
    const kernels::IndexKeyRows keys{key_blocks.data(), step.block_size, cache.IndexKeyFormat()};
    const int64_t begin = step.seq_begin[s];
    const int64_t seq_tokens = step.seq_begin[s + 1] - begin;
    // Split the work over tokens when there are enough of them (prefill), else over the keys of each
    // token (decode: one query against the whole context). Every score is computed by one thread in the
    // same order either way, so the choice never changes the result.
    const bool split_keys = seq_tokens < ctx.pool->num_threads();
    for (int64_t c0 = 0; c0 < seq_tokens; c0 += kScoreChunkTokens) {
      const int64_t c1 = std::min(seq_tokens, c0 + kScoreChunkTokens);
      // Scores of chunk token i at offset[i] (causal keys 0..pos), only for tokens that choose among them.
      // The decision depends on positions only, so every rank of the group makes the same collectives.
      std::vector<int64_t> offset(c1 - c0 + 1, 0);
      for (int64_t i = c0; i < c1; ++i) {
        const int64_t causal = step.positions[begin + i] + 1;
        offset[i - c0 + 1] = offset[i - c0] + (causal > topk_ || ctx.trace ? causal : 0);
      }
      std::vector<float> scores(offset.back());
      auto score_tokens = [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t causal = offset[i - c0 + 1] - offset[i - c0];
          if (causal == 0) continue;
          const int64_t t = begin + i;
          const float* qt = q + t * n_heads_ * head_dim_;
          const float* wt = w.data() + t * n_heads_;
          float* st = scores.data() + offset[i - c0];
          auto score_keys = [&](int64_t k0, int64_t k1) {
            kernels::IndexScores(qt, wt, n_heads_, head_dim_, keys, k0, k1, st + k0);
          };
          if (split_keys) ctx.pool->ParallelFor(causal, score_keys, /*grain=*/256);
          else score_keys(0, causal);
        }
      };
      if (split_keys) score_tokens(c0, c1);
      else ctx.pool->ParallelFor(c1 - c0, [&](int64_t i0, int64_t i1) { score_tokens(c0 + i0, c0 + i1); });
      GroupSum(ctx.attention_group, scores.data(), offset.back());
      ctx.pool->ParallelFor(c1 - c0, [&](int64_t i0, int64_t i1) {
        for (int64_t i = c0 + i0; i < c0 + i1; ++i) {
          const int64_t t = begin + i;
          const int64_t causal = step.positions[t] + 1;  // keys 0..pos
          const float* st = scores.data() + offset[i - c0];
          if (ctx.trace) traced_scores[t].assign(st, st + causal);
          std::vector<int32_t> order(std::min(causal, topk_));
          if (causal > topk_) kernels::TopKPositions(st, causal, topk_, order.data());
          else std::iota(order.begin(), order.end(), 0);
          selected[t] = std::move(order);
        }
      });
    }
  }
  if (ctx.trace) {
    ctx.trace->indexer_scores[cache_layer] = std::move(traced_scores);
    ctx.trace->indexer_topk[cache_layer] = selected;
  }
  return selected;
}

}  // namespace sieve::model
