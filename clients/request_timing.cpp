// Streamed request timing; see request_timing.h.
#include "clients/request_timing.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace sieve::clients {

StreamRecorder::StreamRecorder(bool chat, double start_time_s, int prompt_len) : chat_(chat) {
  out_.start_time_s = start_time_s;
  out_.prompt_len = prompt_len;
}

void StreamRecorder::OnMessage(const std::string& data, double time_s) {
  if (data == "[DONE]") {
    seen_done_ = true;
    return;
  }
  if (!out_.error.empty()) return;
  const nlohmann::json chunk = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!chunk.is_object()) {
    out_.error = "stream message is not a JSON object: " + data.substr(0, 100);
    return;
  }
  if (chunk.contains("error")) {  // mid-stream error object, as the OpenAI SDK reads it
    const auto& e = chunk["error"];
    out_.error = e.is_object() && e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>()
                                                                                   : e.dump();
    return;
  }
  const bool has_choices = chunk.contains("choices") && chunk["choices"].is_array() && !chunk["choices"].empty();
  if (has_choices) {
    if (!seen_token_) {
      out_.ttft_s = time_s - out_.start_time_s;
      seen_token_ = true;
    } else {
      out_.itl_s.push_back(time_s - last_token_time_s_);
    }
    last_token_time_s_ = time_s;
    out_.latency_s = time_s - out_.start_time_s;
    const nlohmann::json& choice = chunk["choices"][0];
    const nlohmann::json* text = nullptr;
    if (chat_ && choice.contains("delta") && choice["delta"].is_object() && choice["delta"].contains("content")) {
      text = &choice["delta"]["content"];
    } else if (!chat_ && choice.contains("text")) {
      text = &choice["text"];
    }
    if (text != nullptr && text->is_string()) out_.generated_text += text->get<std::string>();  // null still counts
  } else if (chunk.contains("usage") && chunk["usage"].is_object()) {
    const auto& usage = chunk["usage"];
    if (usage.contains("completion_tokens") && usage["completion_tokens"].is_number_integer()) {
      out_.output_tokens = usage["completion_tokens"].get<int>();
    }
    if (usage.contains("prompt_tokens") && usage["prompt_tokens"].is_number_integer()) {
      out_.prompt_len = usage["prompt_tokens"].get<int>();
    }
  }
}

RequestOutput StreamRecorder::Finish(int http_status, const std::string& error_body) {
  if (http_status / 100 != 2) {
    out_.error = fmt::format("HTTP {}: {}", http_status, error_body.substr(0, 200));
  } else if (out_.error.empty() && !seen_token_) {
    out_.error = "the stream ended without any token";
  } else if (out_.error.empty() && !seen_done_) {
    out_.error = "the stream ended before data: [DONE] (truncated)";
  }
  out_.success = out_.error.empty();
  return out_;
}

RequestOutput StreamRecorder::Fail(const std::string& error) {
  out_.error = error;
  out_.success = false;
  return out_;
}

}  // namespace sieve::clients
