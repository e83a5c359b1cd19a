// CPython's `random.Random` for an integer seed: MT19937 seeded with init_by_array, `_randbelow` and
// `sample`. lm-eval draws GSM8K few-shot examples with `random.Random(1234).sample(train_docs, k)`,
// so the prompts are byte-identical only if this generator reproduces CPython's draws exactly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sieve::clients {

class CPythonRandom {
 public:
  // Same state as CPython `random.Random(seed)` (Modules/_randommodule.c random_seed: a non-negative
  // int seed below 2**32 becomes the one-word key of init_by_array).
  explicit CPythonRandom(uint32_t seed);

  // MT19937 genrand_uint32 (Matsumoto & Nishimura 1998, as in _randommodule.c).
  uint32_t NextUint32();
  // `Random._randbelow_with_getrandbits(n)` for 0 < n < 2**32: draw bit_length(n) bits, redraw while >= n.
  uint32_t RandBelow(uint32_t n);
  // `Random.sample(range(population), k)` (Lib/random.py, CPython 3.11): indices in draw order.
  // Requires k <= population < 2**32.
  std::vector<size_t> Sample(size_t population, size_t k);

 private:
  static constexpr int kStateWords = 624;
  void InitGenrand(uint32_t s);
  void InitByArray(const std::vector<uint32_t>& key);
  void Twist();

  std::array<uint32_t, kStateWords> mt_{};
  int index_ = kStateWords + 1;
};

}  // namespace sieve::clients
