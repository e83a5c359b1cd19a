// kernels/e4m3_decode.h on every compiled Highway target: all 256 codes (the NaN codes and the subnormal
// ones included) times scales of the fp8 KV cache's range, one whose product with 2^120 overflows (the
// scalar fallback) and the power-of-two ones, give the bits of the scalar E4m3ToFloat(code) * scale, for
// lengths that leave a vector tail.
#include "kernels/e4m3_decode.h"

#include <gtest/gtest.h>

#include <bit>
#include <vector>

#include "core/dtype.h"
#include "tests/unit/kernels/on_each_target.h"

namespace sieve::kernels {
namespace {

class DecodeE4m3OnEachTarget : public OnEachTarget {};

TEST_P(DecodeE4m3OnEachTarget, GivesTheScalarBits) {
  std::vector<uint8_t> codes(256 + 37);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>((i * 37) % 256);
  std::vector<uint8_t> clean;  // without the NaN codes: the vector path
  for (const uint8_t c : codes)
    if ((c & 0x7f) != 0x7f) clean.push_back(c);
  for (const std::vector<uint8_t>* input : {&codes, &clean})
    for (const float scale : {0.0123f, 1.0f, 3.3e-3f / 448.0f, 0x1p-20f, 1e30f})
      for (const int64_t n : {int64_t{0}, int64_t{5}, int64_t{17}, static_cast<int64_t>(input->size())}) {
        std::vector<float> got(n);
        DecodeE4m3(input->data(), n, scale, got.data());
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(E4m3ToFloat((*input)[i]) * scale))
              << "code " << int{(*input)[i]} << " scale " << scale << " n " << n;
      }
}

SIEVE_INSTANTIATE_ON_EACH_TARGET(DecodeE4m3OnEachTarget);

}  // namespace
}  // namespace sieve::kernels
