// Request bodies and response parsing for the gsm8k eval; see gsm8k_request.h.
#include "clients/gsm8k_request.h"

#include <fmt/format.h>

namespace sieve::clients {

// The fields of TemplateAPI._create_payload(generate=True); do_sample is dropped there as well.
nlohmann::json CompletionsBody(const std::string& prompt, const Gsm8kGeneration& gen) {
  return {{"prompt", prompt},       {"model", gen.model}, {"max_tokens", gen.max_tokens},
          {"temperature", gen.temperature}, {"stop", gen.stop},   {"seed", gen.seed}};
}

nlohmann::json ChatBody(const std::vector<ChatMessage>& messages, const Gsm8kGeneration& gen) {
  nlohmann::json list = nlohmann::json::array();
  for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  const size_t n_stop = std::min<size_t>(gen.stop.size(), 4);
  return {{"messages", list},
          {"model", gen.model},
          {"max_tokens", gen.max_tokens},
          {"temperature", gen.temperature},
          {"stop", std::vector<std::string>(gen.stop.begin(), gen.stop.begin() + static_cast<long>(n_stop))},
          {"seed", gen.seed}};
}

StatusOr<std::string> ParseGeneratedText(const std::string& response_body, bool chat) {
  const nlohmann::json j = nlohmann::json::parse(response_body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::DataLoss("response is not a JSON object");
  if (!j.contains("choices") || !j["choices"].is_array()) {
    if (chat) return std::string();  // LocalChatCompletion.parse_generations: missing choices gives [""]
    return Status::DataLoss("response has no \"choices\" list");
  }
  for (const nlohmann::json& choice : j["choices"]) {
    if (!choice.is_object() || choice.value("index", 0) != 0) continue;
    const nlohmann::json* text = nullptr;
    if (chat && choice.contains("message") && choice["message"].is_object() && choice["message"].contains("content")) {
      text = &choice["message"]["content"];
    } else if (!chat && choice.contains("text")) {
      text = &choice["text"];
    }
    if (text == nullptr || text->is_null()) return std::string();
    if (!text->is_string()) return Status::DataLoss("choices[0] text is not a string");
    return text->get<std::string>();
  }
  return Status::DataLoss("response has no choice with index 0");
}

}  // namespace sieve::clients
