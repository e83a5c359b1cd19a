// CPython-compatible Mersenne Twister and random.sample; see cpython_random.h.
#include "clients/cpython_random.h"

#include <bit>
#include <cmath>
#include <unordered_set>

#include "core/logging.h"

namespace sieve::clients {

CPythonRandom::CPythonRandom(uint32_t seed) { InitByArray({seed}); }

// init_genrand and init_by_array from mt19937ar.c (2002/1/26), unchanged in CPython.
void CPythonRandom::InitGenrand(uint32_t s) {
  mt_[0] = s;
  for (int i = 1; i < kStateWords; ++i) {
    mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  }
  index_ = kStateWords;
}

void CPythonRandom::InitByArray(const std::vector<uint32_t>& key) {
  InitGenrand(19650218u);
  const int key_length = static_cast<int>(key.size());
  int i = 1, j = 0;
  for (int k = std::max(kStateWords, key_length); k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kStateWords) {
      mt_[0] = mt_[kStateWords - 1];
      i = 1;
    }
    if (j >= key_length) j = 0;
  }
  for (int k = kStateWords - 1; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kStateWords) {
      mt_[0] = mt_[kStateWords - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000u;  // MSB is 1, assuring a non-zero initial array
  index_ = kStateWords;
}

void CPythonRandom::Twist() {
  constexpr int kM = 397;
  constexpr uint32_t kMatrixA = 0x9908b0dfu, kUpper = 0x80000000u, kLower = 0x7fffffffu;
  for (int k = 0; k < kStateWords; ++k) {
    const uint32_t y = (mt_[k] & kUpper) | (mt_[(k + 1) % kStateWords] & kLower);
    mt_[k] = mt_[(k + kM) % kStateWords] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
  }
  index_ = 0;
}

uint32_t CPythonRandom::NextUint32() {
  if (index_ >= kStateWords) Twist();
  uint32_t y = mt_[index_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= (y >> 18);
  return y;
}

uint32_t CPythonRandom::RandBelow(uint32_t n) {
  SIEVE_CHECK(n > 0) << "RandBelow(0)";
  // getrandbits(k) for k <= 32 is genrand_uint32() >> (32 - k) (_random_Random_getrandbits_impl).
  const int k = std::bit_width(n);
  uint32_t r = NextUint32() >> (32 - k);
  while (r >= n) r = NextUint32() >> (32 - k);
  return r;
}

std::vector<size_t> CPythonRandom::Sample(size_t population, size_t k) {
  SIEVE_CHECK(k <= population && population <= UINT32_MAX) << "sample " << k << " of " << population;
  const auto n = static_cast<uint32_t>(population);
  std::vector<size_t> result(k);
  // Lib/random.py: small populations use a shrinking pool, large ones a set of already chosen indices;
  // the branch decides which draws are consumed, so it must match exactly.
  size_t set_size = 21;
  if (k > 5) set_size += static_cast<size_t>(std::pow(4.0, std::ceil(std::log(k * 3.0) / std::log(4.0))));
  if (population <= set_size) {
    std::vector<size_t> pool(population);
    for (size_t i = 0; i < population; ++i) pool[i] = i;
    for (size_t i = 0; i < k; ++i) {
      const uint32_t j = RandBelow(n - static_cast<uint32_t>(i));
      result[i] = pool[j];
      pool[j] = pool[population - i - 1];
    }
  } else {
    std::unordered_set<uint32_t> selected;
    for (size_t i = 0; i < k; ++i) {
      uint32_t j = RandBelow(n);
      while (selected.count(j)) j = RandBelow(n);
      selected.insert(j);
      result[i] = j;
    }
  }
  return result;
}

}  // namespace sieve::clients
