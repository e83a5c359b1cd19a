// Bulk decode of e4m3 codes with one scale, as the fp8 KV cache stores its vectors (model/paged_kv_cache.h):
// out[i] = E4m3ToFloat(codes[i]) * scale, the same single rounding as the scalar form. A decode step with
// fp8 KV decodes every attended key's latent (2,048 x 576 values per layer at long context), and the
// per-element table call was 6% of a 32K-context step of the `small` preset.
#pragma once

#include <cstdint>

namespace sieve::kernels {

void DecodeE4m3(const uint8_t* codes, int64_t n, float scale, float* out);

}  // namespace sieve::kernels
