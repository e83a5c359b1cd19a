#include "server/request_stream.h"

namespace sieve::server {

engine::Engine::OutputCallback RequestStream::CallbackFor(std::shared_ptr<RequestStream> stream, int prompt_index) {
  return [stream = std::move(stream), prompt_index](const engine::RequestOutput& o) { stream->Push(prompt_index, o); };
}

void RequestStream::Push(int prompt_index, const engine::RequestOutput& output) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({prompt_index, output});
    if (output.finished) --unfinished_;
  }
  ready_.notify_one();
}

std::vector<StreamUpdate> RequestStream::Take(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  ready_.wait_for(lock, timeout, [this] { return !queue_.empty(); });
  std::vector<StreamUpdate> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

bool RequestStream::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unfinished_ <= 0 && queue_.empty();
}

}  // namespace sieve::server
