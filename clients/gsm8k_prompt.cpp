// Builds lm-eval's GSM8K prompts; see gsm8k_prompt.h.
#include "clients/gsm8k_prompt.h"

#include "clients/cpython_random.h"

namespace sieve::clients {
namespace {
// doc_to_text: "Question: {{question}}\nAnswer:" (Jinja, keep_trailing_newline, no autoescape).
std::string DocToText(const Gsm8kDoc& doc) { return "Question: " + doc.question + "\nAnswer:"; }
constexpr const char* kTargetDelimiter = " ";
constexpr const char* kFewshotDelimiter = "\n\n";
}  // namespace

std::vector<std::vector<size_t>> DrawFewshotIndices(size_t num_train, size_t num_docs, size_t num_fewshot,
                                                    uint32_t seed) {
  CPythonRandom rnd(seed);  // created once per task and shared by all docs
  std::vector<std::vector<size_t>> shots;
  shots.reserve(num_docs);
  for (size_t i = 0; i < num_docs; ++i) shots.push_back(rnd.Sample(num_train, num_fewshot));
  return shots;
}

std::string CompletionPrompt(const Gsm8kDoc& doc, const std::vector<size_t>& shots,
                             const std::vector<Gsm8kDoc>& train) {
  std::string prompt;
  for (size_t i : shots) prompt += DocToText(train[i]) + kTargetDelimiter + train[i].answer + kFewshotDelimiter;
  return prompt + DocToText(doc);
}

std::vector<ChatMessage> MultiturnMessages(const Gsm8kDoc& doc, const std::vector<size_t>& shots,
                                           const std::vector<Gsm8kDoc>& train) {
  std::vector<ChatMessage> messages;
  for (size_t i : shots) {
    messages.push_back({"user", DocToText(train[i])});
    messages.push_back({"assistant", train[i].answer});
  }
  messages.push_back({"user", DocToText(doc)});
  return messages;
}

}  // namespace sieve::clients
