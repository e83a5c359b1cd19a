// Probes of this machine's two limits for inference: how fast it can stream read-only memory (the
// decode bound: weights and KV are only read) and how many fp32 FMAs it retires (the prefill bound).
// Benchmarks report every speed as a fraction of these, measured in the same run (docs/performance.md).
// SIMD bodies: kernels/cpu/machine_limits.cpp.
#pragma once

#include <cstdint>

#include "kernels/thread_pool.h"

namespace sieve::kernels {

struct ProbeResult {
  double best = 0;    // the fastest pass (the limit: slower passes were disturbed)
  double median = 0;  // over `passes`
};

// Read bandwidth in bytes/s: every pool thread sums its slice of a `buffer_bytes` buffer (allocated and
// faulted in once, before timing) with SIMD loads and independent accumulators; the sum is returned
// through a volatile so the loads cannot be removed. No writes are timed: a triad's store stream would
// understate a read-only limit. Make buffer_bytes far larger than the last-level cache (>= 8x).
ProbeResult MeasureReadBandwidth(ThreadPool& pool, int64_t buffer_bytes, int passes);

// Peak fp32 FMA throughput in FLOP/s (an FMA = 2 FLOPs): every pool thread runs independent chains of
// vector FMAs (enough of them to cover the FMA latency x issue width) for `fmas_per_lane_per_chain` rounds.
ProbeResult MeasureFmaPeak(ThreadPool& pool, int64_t fmas_per_lane_per_chain, int passes);

// Peak of the AVX512-BF16 dot instruction in FLOP/s (a bf16 multiply-add = 2 FLOPs), the limit of the FP8
// indexer (kernels/index_score.h), probed like MeasureFmaPeak; all zero where the CPU lacks it.
ProbeResult MeasureBf16DotPeak(ThreadPool& pool, int64_t rounds, int passes);

// Whether the AVX512-BF16 dot instruction retires more multiply-adds per second than fp32 FMAs on this
// core (by a margin: 1.25x), for kernels whose two forms give the same bits and differ only in speed (the
// FP8 indexer, kernels/index_score.h). Zen 4/5 issue two vdpbf16ps per cycle (twice the FMA's
// multiply-adds); Sapphire / Emerald Rapids one every other cycle (half), where the FP8 indexer ran 29 ms
// per 32K-key decode step on it against 18 ms on FMAs (docs/performance.md, round 11). Probed once per
// process on the first caller's thread (a few hundred microseconds); false where the CPU lacks it.
bool Bf16DotOutrunsFma();

}  // namespace sieve::kernels
