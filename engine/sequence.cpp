// Sequence: a choice starts as a copy of the request's prompt with its own generator and stop rules.
#include "engine/sequence.h"

#include "engine/sampler.h"

namespace sieve::engine {

Sequence::Sequence(Request* request, int index, std::span<const int32_t> prompt_ids, uint64_t seed,
                   int32_t eos_token_id, int64_t max_model_len, const text::Tokenizer* tokenizer)
    : request(request),
      index(index),
      token_ids(prompt_ids.begin(), prompt_ids.end()),
      num_prompt_tokens(static_cast<int64_t>(prompt_ids.size())),
      rng(SequenceGenerator(seed, index)),
      stop(request->params, eos_token_id, max_model_len),
      tokenizer(tokenizer) {
  const SamplingParams& p = request->params;
  if (p.json_grammar) {
    grammar = std::make_unique<text::JsonRecognizer>(p.json_grammar);
    grammar_active = !p.grammar_after_token_id.has_value();
  }
  if (tokenizer)
    detokenizer = std::make_unique<text::IncrementalDetokenizer>(*tokenizer, request->params.skip_special_tokens);
}

std::unique_ptr<Request> MakeRequest(GenerationRequest request, int64_t arrival, uint64_t seed,
                                     int32_t eos_token_id, int64_t max_model_len, const text::Tokenizer* tokenizer) {
  auto r = std::make_unique<Request>();
  r->id = std::move(request.request_id);
  r->params = std::move(request.params);
  r->arrival = arrival;
  r->num_prompt_tokens = static_cast<int64_t>(request.prompt_ids.size());
  for (int i = 0; i < r->params.n; ++i)
    r->choices.push_back(std::make_unique<Sequence>(r.get(), i, request.prompt_ids, seed, eos_token_id,
                                                        max_model_len, tokenizer));
  return r;
}

}  // namespace sieve::engine
