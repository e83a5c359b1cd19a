// MLA forward in absorbed form (see mla_attention.h). Per head h, with W_uk[h] = kv_b rows [h*(nope+v), +nope)
// and W_uv[h] = the next v rows:
//   q_latent[t,h] = q_nope[t,h] . W_uk[h]                                   [kv_lora_rank]
//   score[t,h,s]  = (q_latent[t,h] . latent[s] + q_rope[t,h] . k_rope[s]) * softmax_scale
//   o[t,h]        = W_uv[h] . sum_s softmax(score)[s] * latent[s]            [v_head_dim]
// which equals the expanded form q.[k_nope|k_rope], p.v exactly in real arithmetic (the reference's decode branch).
#include "model/mla_attention.h"

#include <algorithm>
#include <numeric>

#include "core/scratch_buffer.h"
#include "kernels/gemm_attention.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/sparse_mla_attention.h"
#include "model/group_sum.h"
#include "model/mla_form.h"
#include "model/tensor_names.h"
#include "model/weight_views.h"

namespace sieve::model {

namespace {

// Rows of the key gather between an entry's prefetch and its read: ~10 cache lines per entry, so 8 rows
// keep ~80 lines in flight per thread.
constexpr int64_t kGatherAhead = 8;

// Activation buffers reused from call to call by the thread running the layers: allocating them afresh
// (tens of MiB per layer in a long prefill) page-faulted them in again in every layer, ~10% of a
// 2,048-token prefill (docs/performance.md). Every element a call reads it first writes.
struct Scratch {
  std::vector<float> q, kv, o, latents, k_ropes, scores, head_kv, head_k;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Whether keys are the rows 0, 1, ... in order: a query's selection once renumbered, as the indexer's
// top-k is ascending (kernels/top_k.h) and the dense selection is every causal position.
bool IsRowOrder(const std::vector<int32_t>& keys) {
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] != static_cast<int32_t>(i)) return false;
  return true;
}

}  // namespace

MlaAttention::MlaAttention(const Checkpoint& ckpt, int64_t layer, const YarnRope& rope, const ModelShard& shard)
    : config_(ckpt.config()), rope_(rope) {
  const ModelConfig& c = config_;
  const std::string p = LayerPrefix(layer) + "self_attn.";
  n_heads_ = shard.heads.count;
  const int64_t h0 = shard.heads.begin;
  q_lora_rank_ = c.q_lora_rank;
  kv_lora_rank_ = c.kv_lora_rank;
  nope_dim_ = c.qk_nope_head_dim;
  rope_dim_ = c.qk_rope_head_dim;
  v_dim_ = c.v_head_dim;
  eps_ = static_cast<float>(c.rms_norm_eps);
  if (q_lora_rank_ > 0) {
    q_a_ = LinearMatrix(ckpt.Linear(p + "q_a_proj"));
    q_a_norm_ = FloatVector(ckpt.Get(p + "q_a_layernorm.weight"));
    q_b_ = LinearMatrix(ckpt.Linear(p + "q_b_proj")).Rows(h0 * c.qk_head_dim(), n_heads_ * c.qk_head_dim());
  } else {
    q_proj_ = LinearMatrix(ckpt.Linear(p + "q_proj")).Rows(h0 * c.qk_head_dim(), n_heads_ * c.qk_head_dim());
  }
  kv_a_ = LinearMatrix(ckpt.Linear(p + "kv_a_proj_with_mqa"));
  kv_a_norm_ = FloatVector(ckpt.Get(p + "kv_a_layernorm.weight"));
  const int64_t kv_b_rows = nope_dim_ + v_dim_;
  kv_b_ = LinearMatrix(ckpt.Linear(p + "kv_b_proj")).Rows(h0 * kv_b_rows, n_heads_ * kv_b_rows);
  o_ = LinearMatrix(ckpt.Linear(p + "o_proj")).Cols(h0 * v_dim_, n_heads_ * v_dim_);
  for (int64_t h = 0; h < n_heads_; ++h) {
    w_uk_.push_back(kv_b_.Rows(h * kv_b_rows, nope_dim_));
    w_uv_.push_back(kv_b_.Rows(h * kv_b_rows + nope_dim_, v_dim_));
  }
  if (c.has_indexer()) indexer_ = std::make_unique<Indexer>(ckpt, p + "indexer", rope, shard.index_heads);
}

void MlaAttention::Forward(const StepTokens& step, const float* x, int64_t cache_layer, PagedKvCache& cache,
                           const ForwardContext& ctx, float* out) const {
  kernels::ThreadPool& pool = *ctx.pool;
  const int64_t n = step.n_tokens(), heads = n_heads_, c = kv_lora_rank_;
  const int64_t qk_dim = nope_dim_ + rope_dim_;

  // Queries: [n, heads, nope | rope], rope part rotated as interleaved pairs.
  std::vector<float> qr;  // [n, q_lora_rank]: q latent, also the indexer's query input
  Scratch& scratch = ThreadScratch();
  std::vector<float>& q = scratch.q;  // [n, heads, nope | rope]
  GrowScratch(q, n * heads * qk_dim);
  // Keys: [n, latent | k_rope], from the same x as the queries' first projection (one pool job for both).
  std::vector<float>& kv = scratch.kv;
  GrowScratch(kv, n * (c + rope_dim_));
  if (q_lora_rank_ > 0) {
    qr.resize(n * q_lora_rank_);
    const kernels::MatmulProduct first[] = {{&q_a_, x, n, qr.data()}, {&kv_a_, x, n, kv.data()}};
    kernels::MatmulMany(first, pool);
    kernels::RmsNorm(qr.data(), q_a_norm_.data(), n, q_lora_rank_, eps_, qr.data());
    kernels::Matmul(q_b_, qr.data(), n, q.data(), pool);
  } else {
    const kernels::MatmulProduct first[] = {{&q_proj_, x, n, q.data()}, {&kv_a_, x, n, kv.data()}};
    kernels::MatmulMany(first, pool);
  }
  // Then token by token over the pool (each token's rows and cache slot are its own): the query's rope part
  // rotated; the latent normalised and the rope key rotated, both to the cache. On the calling thread
  // these loops were ~2% of a 2,048-token prefill's time (docs/performance.md, round 11).
  std::vector<int64_t> seq_of(n);  // [token row] -> its sequence
  for (int64_t s = 0; s < step.n_seqs(); ++s) std::fill(seq_of.begin() + step.seq_begin[s], seq_of.begin() + step.seq_begin[s + 1], s);
  pool.ParallelFor(n, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      rope_.RotateInterleaved(q.data() + t * heads * qk_dim + nope_dim_, heads, qk_dim, step.positions[t]);
      float* latent = kv.data() + t * (c + rope_dim_);
      kernels::RmsNorm(latent, kv_a_norm_.data(), 1, c, eps_, latent);
      rope_.RotateInterleaved(latent + c, step.positions[t]);
      const CacheSlot slot = step.Slot(seq_of[t], step.positions[t]);
      cache.WriteLatent(cache_layer, slot.block, slot.slot, latent, latent + c);
    }
  }, /*grain=*/16);

  // Which cached tokens each query attends to: the indexer's top-k, or every causal token.
  std::vector<std::vector<int32_t>> selected;
  if (indexer_) {
    indexer_->WriteKeys(step, x, cache_layer, cache, ctx);
    if (!ctx.dense_attention) selected = indexer_->Select(step, x, qr.empty() ? x : qr.data(), cache_layer, cache, ctx);
  }
  if (selected.empty()) {
    selected.resize(n);
    for (int64_t t = 0; t < n; ++t) {
      selected[t].resize(step.positions[t] + 1);
      std::iota(selected[t].begin(), selected[t].end(), 0);
    }
  }

  // Only the keys some token of a sequence attends to are read from the cache (with DSA at most index_topk
  // per token, so a decode step's attention stops growing with the context). Their positions are renumbered
  // in increasing order into rows of a gathered key block, so each query still visits its keys in order.
  std::vector<std::vector<int32_t>> row_of(step.n_seqs());  // [seq][position] -> row, -1 when unused
  std::vector<std::vector<int32_t>> position_of(step.n_seqs());  // [seq][row] -> position
  std::vector<int32_t> used(step.n_seqs(), 0);
  std::vector<bool> expanded(step.n_seqs());
  for (int64_t s = 0; s < step.n_seqs(); ++s) {
    row_of[s].assign(step.context_len(s), -1);
    double attended = 0;
    for (int64_t t = step.seq_begin[s]; t < step.seq_begin[s + 1]; ++t) {
      for (int32_t p : selected[t]) row_of[s][p] = 0;
      attended += static_cast<double>(selected[t].size());
    }
    for (int32_t p = 0; p < static_cast<int32_t>(row_of[s].size()); ++p)
      if (row_of[s][p] >= 0) {
        row_of[s][p] = used[s]++;
        position_of[s].push_back(p);
      }
    for (int64_t t = step.seq_begin[s]; t < step.seq_begin[s + 1]; ++t)
      for (int32_t& p : selected[t]) p = row_of[s][p];
    expanded[s] = UseExpandedMla(
        config_, {.heads = heads, .queries = step.seq_begin[s + 1] - step.seq_begin[s], .keys = used[s], .attended = attended});
  }

  // Per sequence, gather its keys and attend in the cheaper form (model/mla_form.h): o [n, heads, v_head_dim].
  std::vector<float>& o = scratch.o;
  GrowScratch(o, n * heads * v_dim_);
  AbsorbedQueries absorbed = AbsorbQueries(step, expanded, q.data(), pool);
  std::vector<float>& latents = scratch.latents;  // [used, c]
  std::vector<float>& k_ropes = scratch.k_ropes;  // [used, rope]
  for (int64_t s = 0; s < step.n_seqs(); ++s) {
    GrowScratch(latents, used[s] * c);
    GrowScratch(k_ropes, used[s] * rope_dim_);
    // A DSA selection is scattered over the context, so each entry is prefetched kGatherAhead rows before
    // it is read: without, the gather's cache misses were as many samples as the indexer at 32K with fp8 KV.
    const auto gather_rows = [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        if (r + kGatherAhead < r1) {
          const CacheSlot ahead = step.Slot(s, position_of[s][r + kGatherAhead]);
          cache.PrefetchLatent(cache_layer, ahead.block, ahead.slot);
        }
        const CacheSlot slot = step.Slot(s, position_of[s][r]);
        cache.ReadLatent(cache_layer, slot.block, slot.slot, latents.data() + r * c, k_ropes.data() + r * rope_dim_);
      }
    };
    const int64_t begin = step.seq_begin[s], end = step.seq_begin[s + 1];
    if (!expanded[s] && end - begin == 1 && IsRowOrder(selected[begin])) {
      AttendOneQuery(absorbed, begin, gather_rows, latents.data(), k_ropes.data(), selected[begin],
                     q.data() + begin * heads * qk_dim, pool);
      continue;
    }
    // Over the pool: 2,048 keys x 2.3 KiB per layer at long context (one thread: 4% of a 32K DSA step).
    pool.ParallelFor(used[s], gather_rows, 64);
    const std::span<const std::vector<int32_t>> keys(selected.data() + begin, selected.data() + end);
    if (expanded[s]) {
      AttendExpanded(q.data() + begin * heads * qk_dim, latents.data(), k_ropes.data(), used[s], keys,
                     o.data() + begin * heads * v_dim_, pool);
    } else {
      AttendAbsorbed(absorbed, begin, latents.data(), k_ropes.data(), keys, q.data() + begin * heads * qk_dim,
                     pool);
    }
  }
  ApplyValueHalf(absorbed, o.data(), pool);
  kernels::Matmul(o_, o.data(), n, out, pool);
  GroupSum(ctx.attention_group, out, n * o_.rows);
}

MlaAttention::AbsorbedQueries MlaAttention::AbsorbQueries(const StepTokens& step, const std::vector<bool>& expanded,
                                                          const float* q, kernels::ThreadPool& pool) const {
  const int64_t heads = n_heads_, c = kv_lora_rank_, qk_dim = nope_dim_ + rope_dim_;
  AbsorbedQueries a;
  a.index.assign(step.n_tokens(), -1);
  for (int64_t s = 0; s < step.n_seqs(); ++s) {
    if (expanded[s]) continue;
    for (int64_t t = step.seq_begin[s]; t < step.seq_begin[s + 1]; ++t) {
      a.index[t] = static_cast<int64_t>(a.tokens.size());
      a.tokens.push_back(t);
    }
  }
  const int64_t m = static_cast<int64_t>(a.tokens.size());
  if (m == 0) return a;
  // q_latent[t, h] = q_nope[t, h] . W_uk[h], every head over all absorbed rows in one call.
  a.q_latent.resize(m * heads * c);
  a.o_latent.resize(m * heads * c);
  std::vector<float> head_in(heads * m * nope_dim_), head_out(heads * m * c);  // [heads, m, nope], [heads, m, c]
  std::vector<kernels::MatmulProduct> products;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < m; ++i)
      std::copy_n(q + (a.tokens[i] * heads + h) * qk_dim, nope_dim_, head_in.data() + (h * m + i) * nope_dim_);
    products.push_back({&w_uk_[h], head_in.data() + h * m * nope_dim_, m, head_out.data() + h * m * c});
  }
  kernels::MatmulTransposedMany(products, pool);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < m; ++i)
      std::copy_n(head_out.data() + (h * m + i) * c, c, a.q_latent.data() + (i * heads + h) * c);
  return a;
}

void MlaAttention::AttendAbsorbed(AbsorbedQueries& a, int64_t first_token, const float* latents, const float* k_ropes,
                                  std::span<const std::vector<int32_t>> keys, const float* q,
                                  kernels::ThreadPool& pool) const {
  const int64_t heads = n_heads_, c = kv_lora_rank_, qk_dim = nope_dim_ + rope_dim_;
  const int64_t a0 = a.index[first_token], n_queries = static_cast<int64_t>(keys.size());
  size_t most_keys = 0;
  for (const std::vector<int32_t>& k : keys) most_keys = std::max(most_keys, k.size());
  const kernels::LatentCache view{latents, k_ropes, c, rope_dim_};
  // Items are (query, head); a chunk's consecutive heads of one query share each key's reads, so a decode
  // query's heads are split into one run per thread (the pool's default chunks would be 2 heads each).
  const int64_t heads_per_chunk = std::max<int64_t>(1, heads / pool.num_threads());
  pool.ParallelFor(n_queries * heads, [&](int64_t i0, int64_t i1) {
    std::vector<float> scores(most_keys * std::min(heads, i1 - i0));
    for (int64_t i = i0; i < i1;) {
      const int64_t t = i / heads, h = i % heads, count = std::min(i1, (t + 1) * heads) - i, row = (a0 + t) * heads + h;
      const kernels::MlaQueryHeads query{.q_latent = a.q_latent.data() + row * c,
                                         .q_rope = q + (t * heads + h) * qk_dim + nope_dim_,
                                         .q_rope_stride = qk_dim,
                                         .out = a.o_latent.data() + row * c,
                                         .count = count};
      kernels::SparseMlaHeads(query, view, keys[t].data(), static_cast<int64_t>(keys[t].size()), rope_.mla_softmax_scale(),
                              scores.data());
      i += count;
    }
  }, heads_per_chunk);
}

void MlaAttention::AttendOneQuery(AbsorbedQueries& a, int64_t token,
                                  const std::function<void(int64_t, int64_t)>& gather_rows, const float* latents,
                                  const float* k_ropes, const std::vector<int32_t>& keys, const float* q,
                                  kernels::ThreadPool& pool) const {
  const int64_t heads = n_heads_, c = kv_lora_rank_, qk_dim = nope_dim_ + rope_dim_;
  const int64_t n = static_cast<int64_t>(keys.size()), row = a.index[token] * heads;
  const kernels::LatentCache view{latents, k_ropes, c, rope_dim_};
  const auto query_heads = [&](int64_t h0, int64_t h1) {
    return kernels::MlaQueryHeads{.q_latent = a.q_latent.data() + (row + h0) * c,
                                  .q_rope = q + h0 * qk_dim + nope_dim_,
                                  .q_rope_stride = qk_dim,
                                  .out = a.o_latent.data() + (row + h0) * c,
                                  .count = h1 - h0};
  };
  std::vector<float>& scores = ThreadScratch().scores;  // [heads, n]
  scores.resize(heads * n);
  // Rows are keys in order (one query selects every gathered row), so a run's scores read the latents the
  // same thread has just written: 2,048 x 2.3 KiB per layer at long context, which split by heads every
  // thread read whole, half of it from the other core's cache. (SparseMlaAttendScored in three pool jobs.)
  pool.ParallelFor(n, [&](int64_t r0, int64_t r1) {
    gather_rows(r0, r1);
    kernels::SparseMlaScores(query_heads(0, heads), view, keys.data(), n, r0, r1, rope_.mla_softmax_scale(),
                             scores.data());
  }, 64);
  pool.ParallelFor(heads, [&](int64_t h0, int64_t h1) { kernels::SparseMlaSoftmax(scores.data() + h0 * n, h1 - h0, n); },
                   std::max<int64_t>(1, heads / pool.num_threads()));
  // The weighted sums split by columns (runs of 64, on whole vectors), so each thread reads its part of
  // every key rather than every key whole.
  pool.ParallelFor(c, [&](int64_t c0, int64_t c1) {
    kernels::SparseMlaWeightedSum(query_heads(0, heads), view, keys.data(), n, scores.data(), c0, c1);
  }, 64);
}

void MlaAttention::AttendExpanded(const float* q, const float* latents, const float* k_ropes, int64_t n_keys,
                                  std::span<const std::vector<int32_t>> keys, float* o,
                                  kernels::ThreadPool& pool) const {
  const int64_t heads = n_heads_, qk_dim = nope_dim_ + rope_dim_, kv_b_rows = nope_dim_ + v_dim_;
  // One head's [k_nope | v] and [k_nope | k_rope] of every key.
  std::vector<float>& kv = ThreadScratch().head_kv;
  std::vector<float>& k = ThreadScratch().head_k;
  GrowScratch(kv, n_keys * kv_b_rows);
  GrowScratch(k, n_keys * qk_dim);
  for (int64_t h = 0; h < heads; ++h) {
    // [k_nope | v] of every key for head h = latent . kv_b_proj[h]^T (the reference's wkv_b(kv)); one head at
    // a time keeps the expansion at n_keys x (nope + v) floats however long the context.
    kernels::Matmul(kv_b_.Rows(h * kv_b_rows, kv_b_rows), latents, n_keys, kv.data(), pool);
    pool.ParallelFor(n_keys, [&](int64_t s0, int64_t s1) {
      for (int64_t s = s0; s < s1; ++s) {
        std::copy_n(kv.data() + s * kv_b_rows, nope_dim_, k.data() + s * qk_dim);
        std::copy_n(k_ropes + s * rope_dim_, rope_dim_, k.data() + s * qk_dim + nope_dim_);
      }
    }, /*grain=*/64);
    const kernels::GemmAttentionInput in{.q = q + h * qk_dim, .q_stride = heads * qk_dim,
                                         .k = k.data(), .k_stride = qk_dim,
                                         .v = kv.data() + nope_dim_, .v_stride = kv_b_rows,
                                         .n_keys = n_keys, .qk_dim = qk_dim, .v_dim = v_dim_,
                                         .softmax_scale = rope_.mla_softmax_scale()};
    kernels::GemmAttention(in, keys, o + h * v_dim_, heads * v_dim_, pool);
  }
}

void MlaAttention::ApplyValueHalf(const AbsorbedQueries& a, float* o, kernels::ThreadPool& pool) const {
  const int64_t heads = n_heads_, c = kv_lora_rank_;
  const int64_t m = static_cast<int64_t>(a.tokens.size());
  if (m == 0) return;
  // o[t, h] = W_uv[h] . o_latent[t, h], every head in one call.
  std::vector<float> head_in(heads * m * c), head_out(heads * m * v_dim_);  // [heads, m, c], [heads, m, v]
  std::vector<kernels::MatmulProduct> products;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < m; ++i)
      std::copy_n(a.o_latent.data() + (i * heads + h) * c, c, head_in.data() + (h * m + i) * c);
    products.push_back({&w_uv_[h], head_in.data() + h * m * c, m, head_out.data() + h * m * v_dim_});
  }
  kernels::MatmulMany(products, pool);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < m; ++i)
      std::copy_n(head_out.data() + (h * m + i) * v_dim_, v_dim_, o + (a.tokens[i] * heads + h) * v_dim_);
}

}  // namespace sieve::model
