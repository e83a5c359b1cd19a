// lm-eval's `gsm8k` task prompt (lm_eval/tasks/gsm8k/gsm8k.yaml, EleutherAI/lm-evaluation-harness @ 4e7e0d47):
// each test doc gets its own k shots drawn from train with one shared random.Random(1234), in test order,
// rendered as "Question: q\nAnswer: a\n\n" and followed by "Question: q_test\nAnswer:".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clients/gsm8k_dataset.h"

namespace sieve::clients {

// lm-eval's default fewshot seed (the fourth value of `--seed 0,1234,1234,1234`).
inline constexpr uint32_t kLmEvalFewshotSeed = 1234;

// For docs 0..num_docs-1, in order, the train indices of their shots in prompt order
// (ContextSampler.sample = rnd.sample(train_docs, num_fewshot), lm_eval/api/samplers.py).
std::vector<std::vector<size_t>> DrawFewshotIndices(size_t num_train, size_t num_docs, size_t num_fewshot,
                                                    uint32_t seed = kLmEvalFewshotSeed);

// The `local-completions` prompt: shots joined by the fewshot delimiter "\n\n", ending in "Answer:".
std::string CompletionPrompt(const Gsm8kDoc& doc, const std::vector<size_t>& shots,
                             const std::vector<Gsm8kDoc>& train);

struct ChatMessage {
  std::string role;  // "user" or "assistant"
  std::string content;
};
// The `local-chat-completions` messages with --apply_chat_template and fewshot_as_multiturn (the default
// there): one user/assistant pair per shot, then the test question; delimiters are dropped.
std::vector<ChatMessage> MultiturnMessages(const Gsm8kDoc& doc, const std::vector<size_t>& shots,
                                           const std::vector<Gsm8kDoc>& train);

}  // namespace sieve::clients
