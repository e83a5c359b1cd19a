// YaRN frequencies and the two rotation layouts (see yarn_rope.h).
#include "model/yarn_rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sieve::model {

namespace {
// Dimension index whose wavelength completes `rotations` turns over the original context
// (DeepSeek-V3 inference/model.py, find_correction_dim).
double CorrectionDim(double rotations, int64_t dim, double base, int64_t original_len) {
  return dim * std::log(original_len / (rotations * 2 * std::numbers::pi)) / (2 * std::log(base));
}
}  // namespace

YarnRope::YarnRope(const ModelConfig& c) {
  const int64_t dim = c.qk_rope_head_dim;
  const RopeScaling& s = c.rope_scaling;
  // YaRN is active when the served context exceeds the original one, as in the reference's
  // `max_seq_len > original_seq_len` (true for every deployed V3 config).
  const bool yarn = s.type == "yarn" && s.factor > 1.0 && c.max_position_embeddings > s.original_max_position_embeddings;
  double low = 0, high = 0;
  if (yarn) {
    low = std::max(0.0, std::floor(CorrectionDim(s.beta_fast, dim, c.rope_theta, s.original_max_position_embeddings)));
    high = std::min<double>(dim - 1, std::ceil(CorrectionDim(s.beta_slow, dim, c.rope_theta, s.original_max_position_embeddings)));
    if (low == high) high += 0.001;  // linear_ramp_factor's guard against a zero-width ramp
  }
  for (int64_t i = 0; i < dim / 2; ++i) {
    // float32 like the reference: 1 / base^(2i/d).
    float f = 1.0f / std::pow(static_cast<float>(c.rope_theta), static_cast<float>(2 * i) / static_cast<float>(dim));
    if (yarn) {
      const float ramp = static_cast<float>(std::clamp((i - low) / (high - low), 0.0, 1.0));
      f = f / static_cast<float>(s.factor) * ramp + f * (1.0f - ramp);
    }
    freqs_.push_back(f);
  }
  double scale = 1.0 / std::sqrt(static_cast<double>(c.qk_head_dim()));
  if (yarn && s.mscale_all_dim > 0) {
    const double m = 0.1 * s.mscale_all_dim * std::log(s.factor) + 1.0;
    scale *= m * m;
  }
  mla_softmax_scale_ = static_cast<float>(scale);
}

void YarnRope::CosSin(int64_t pos, int64_t i, float* cos_out, float* sin_out) const {
  const float angle = static_cast<float>(pos) * freqs_[i];  // torch.outer(t, freqs) in float32
  *cos_out = static_cast<float>(std::cos(static_cast<double>(angle)));
  *sin_out = static_cast<float>(std::sin(static_cast<double>(angle)));
}

void YarnRope::RotateInterleaved(float* x, int64_t pos) const { RotateInterleaved(x, 1, 0, pos); }

void YarnRope::RotateInterleaved(float* x, int64_t count, int64_t stride, int64_t pos) const {
  for (size_t i = 0; i < freqs_.size(); ++i) {
    float c, s;
    CosSin(pos, i, &c, &s);
    for (int64_t j = 0; j < count; ++j) {
      float* v = x + j * stride;
      const float a = v[2 * i], b = v[2 * i + 1];
      v[2 * i] = a * c - b * s;
      v[2 * i + 1] = a * s + b * c;
    }
  }
}

void YarnRope::RotateHalves(float* x, int64_t pos) const { RotateHalves(x, 1, 0, pos); }

void YarnRope::RotateHalves(float* x, int64_t count, int64_t stride, int64_t pos) const {
  const size_t half = freqs_.size();
  for (size_t i = 0; i < half; ++i) {
    float c, s;
    CosSin(pos, i, &c, &s);
    for (int64_t j = 0; j < count; ++j) {
      float* v = x + j * stride;
      const float a = v[i], b = v[i + half];
      v[i] = a * c - b * s;
      v[i + half] = a * s + b * c;
    }
  }
}

}  // namespace sieve::model
