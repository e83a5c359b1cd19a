// SSE message splitting; see sse_stream.h.
#include "clients/sse_stream.h"

namespace sieve::clients {

void SseSplitter::Feed(std::string_view bytes, const std::function<void(const std::string&)>& on_message) {
  buffer_.append(bytes);
  size_t begin = 0;
  for (size_t nl = buffer_.find('\n', begin); nl != std::string::npos; nl = buffer_.find('\n', begin)) {
    std::string_view line(buffer_.data() + begin, nl - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    TakeLine(line, on_message);
    begin = nl + 1;
  }
  buffer_.erase(0, begin);
}

void SseSplitter::TakeLine(std::string_view line, const std::function<void(const std::string&)>& on_message) {
  if (line.empty()) {  // end of a message
    if (has_data_) on_message(data_);
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment (keep-alive)
  if (line.substr(0, 5) != "data:") return;  // event:, id:, retry: carry nothing the clients read
  line.remove_prefix(5);
  if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (has_data_) data_ += '\n';
  data_.append(line);
  has_data_ = true;
}

void SseSplitter::Flush(const std::function<void(const std::string&)>& on_message) {
  if (!buffer_.empty()) {
    std::string rest;
    rest.swap(buffer_);
    TakeLine(rest, on_message);
  }
  TakeLine("", on_message);
}

}  // namespace sieve::clients
