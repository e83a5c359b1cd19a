// Server-sent events as the OpenAI streaming APIs send them: messages separated by a blank line, each
// with one or more `data:` lines (joined by "\n"); lines starting with ':' are comments. Bytes arrive in
// arbitrary pieces, so the splitter buffers until a message is complete.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace sieve::clients {

class SseSplitter {
 public:
  // Appends `bytes` and calls on_message(data) for every message completed by them (messages without a
  // data field are skipped). Accepts "\n" and "\r\n" line ends.
  void Feed(std::string_view bytes, const std::function<void(const std::string& data)>& on_message);
  // The data of a final message not followed by a blank line, if any (some servers close right after it).
  void Flush(const std::function<void(const std::string& data)>& on_message);

 private:
  void TakeLine(std::string_view line, const std::function<void(const std::string&)>& on_message);
  std::string buffer_;  // bytes of the unfinished line
  std::string data_;    // data of the unfinished message
  bool has_data_ = false;
};

}  // namespace sieve::clients
