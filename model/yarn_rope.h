// YaRN rotary position embedding as DeepSeek-V3 applies it (inference/model.py, precompute_freqs_cis and
// apply_rotary_emb): per-pair frequencies f_i = theta^(-2i/d), blended towards f_i / factor below the
// beta_fast/beta_slow correction range; no extra factor on cos/sin. MLA rotates interleaved pairs
// (x[2i], x[2i+1]); the DSA indexer rotates halves (x[i], x[i + d/2]) (the 2025-11-17 "fix indexer rope").
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace sieve::model {

class YarnRope {
 public:
  explicit YarnRope(const ModelConfig& config);

  // x [qk_rope_head_dim], rotated in place by pos * f_i.
  void RotateInterleaved(float* x, int64_t pos) const;
  void RotateHalves(float* x, int64_t pos) const;
  // The same for `count` vectors at x + j * stride (e.g. every head of one token), all at position pos:
  // cos and sin computed once, so the same bits as `count` single calls at a 1/count of the sincos.
  void RotateInterleaved(float* x, int64_t count, int64_t stride, int64_t pos) const;
  void RotateHalves(float* x, int64_t count, int64_t stride, int64_t pos) const;
  // MLA softmax scale: qk_head_dim^-0.5 * m^2 with m = 0.1 * mscale_all_dim * ln(factor) + 1 when YaRN
  // extends the context (DeepSeek-V3 inference/model.py, MLA.__init__; HF modeling_deepseek's yarn_get_mscale).
  float mla_softmax_scale() const { return mla_softmax_scale_; }

 private:
  void CosSin(int64_t pos, int64_t i, float* cos_out, float* sin_out) const;
  std::vector<float> freqs_;  // [qk_rope_head_dim / 2]
  float mla_softmax_scale_;
};

}  // namespace sieve::model
