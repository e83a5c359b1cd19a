// The two exact forms of MLA attention and what each costs for one sequence's step (DeepSeek-V2 paper
// sec. 2.1 and appendix C; DeepSeek-V3.2-Exp inference/model.py, MLA.forward):
//   absorbed (the reference's decode branch): kv_b_proj's key half is folded into each query and its value
//     half applied after the weighted sum, so a key costs a dot and an AXPY over the kv_lora_rank latent:
//     FLOPs = heads x (2 x queries x (nope + v) x kv_lora + attended x 2 x (2 x kv_lora + rope));
//   expanded (the reference's prefill branch): kv_b_proj expands every key used into per-head k_nope and v
//     once, and a (query, key) pair costs a (nope + rope)-dot and a v-AXPY:
//     FLOPs = heads x (2 x keys x (nope + v) x kv_lora + attended x 2 x (nope + rope + v)).
// Expanding pays per key, absorbing per (query, key) pair: decode (one query) absorbs, a long prefill chunk
// (many queries sharing the keys) expands. Both give the same attention output in real arithmetic.
#pragma once

#include <cstdint>

#include "model/config.h"

namespace sieve::model {

struct MlaWork {
  int64_t heads = 0;       // query heads computed (this rank's)
  int64_t queries = 0;     // new tokens of the sequence in this step
  int64_t keys = 0;        // distinct cached keys they attend to
  double attended = 0;     // (query, key) pairs: the sum over queries of the keys each attends to
};

double AbsorbedMlaFlops(const ModelConfig& c, const MlaWork& w);
double ExpandedMlaFlops(const ModelConfig& c, const MlaWork& w);
// The form a sequence's step runs in: the one with fewer FLOPs (absorbed on a tie).
bool UseExpandedMla(const ModelConfig& c, const MlaWork& w);

}  // namespace sieve::model
