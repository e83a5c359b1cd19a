// The HTTP layer against a scripted engine: each request "generates" a fixed list of text pieces, one per
// step, from its own thread. This pins what a real random-weight model cannot produce on demand: a DSML
// tool call streamed as OpenAI tool_call deltas, and a client disconnect aborting the request.
#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "server/http_server.h"
#include "text/tokenizer.h"

namespace sieve::server {
namespace {

using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

class ScriptedEngine final : public engine::Engine {
 public:
  ScriptedEngine(std::vector<std::string> pieces, std::chrono::milliseconds step) : pieces_(std::move(pieces)), step_(step) {}
  ~ScriptedEngine() override { Shutdown(); }

  Status Submit(engine::GenerationRequest request, OutputCallback callback) override {
    std::lock_guard<std::mutex> lock(mu_);
    aborted_[request.request_id] = false;
    threads_.emplace_back([this, request, callback] { Run(request, callback); });
    return Status::Ok();
  }
  void Abort(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    aborted_[id] = true;
    abort_time_ = std::chrono::steady_clock::now();
  }
  engine::EngineStats Stats() const override {
    engine::EngineStats s;
    s.num_running = running_.load();
    return s;
  }
  int64_t max_model_len() const override { return 4096; }
  void Shutdown() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [id, aborted] : aborted_) aborted = true;
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }
  std::optional<std::chrono::steady_clock::time_point> abort_time() {
    std::lock_guard<std::mutex> lock(mu_);
    return abort_time_;
  }

 private:
  void Run(const engine::GenerationRequest& request, const OutputCallback& callback) {
    ++running_;
    for (int k = 0; k < request.params.n; ++k) {
      for (size_t i = 0; i < pieces_.size(); ++i) {
        std::this_thread::sleep_for(step_);
        engine::RequestOutput o;
        o.request_id = request.request_id;
        o.index = k;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (aborted_[request.request_id]) {
            o.finished = true;
            o.finish_reason = "abort";
            callback(o);
            --running_;
            return;
          }
        }
        o.new_token_ids = {static_cast<int32_t>(100 + i)};
        o.text_delta = pieces_[i];
        o.num_prompt_tokens = static_cast<int64_t>(request.prompt_ids.size());
        o.num_output_tokens = static_cast<int64_t>(i + 1);
        if (i + 1 == pieces_.size()) {
          o.finished = true;
          o.finish_reason = "stop";
        }
        callback(o);
      }
    }
    --running_;
  }

  const std::vector<std::string> pieces_;
  const std::chrono::milliseconds step_;
  std::mutex mu_;
  std::map<std::string, bool> aborted_;
  std::vector<std::thread> threads_;
  std::optional<std::chrono::steady_clock::time_point> abort_time_;
  std::atomic<int64_t> running_{0};
};

// Cuts `text` into pieces of `size` bytes, never inside a UTF-8 character.
std::vector<std::string> Pieces(const std::string& text, size_t size) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = std::min(text.size(), i + size);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

const char* kToolCallText =
    "\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=\"city\" "
    "string=\"true\">Paris</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>";

class ServerFixture {
 public:
  ServerFixture(std::vector<std::string> pieces, std::chrono::milliseconds step, std::string api_key = "")
      : engine_(std::move(pieces), step), metrics_("tiny") {
    auto tok = text::Tokenizer::LoadFromDir(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer");
    EXPECT_TRUE(tok.ok());
    tokenizer_ = std::move(tok).value();
    state_.engine = &engine_;
    state_.limits = {{"tiny"}, tokenizer_.get(), 4096, 129280, 0, 1};
    state_.chat.parse_reasoning = true;
    state_.chat.tool_call_format = text::ToolCallFormat::kDsml;
    state_.chat.enable_auto_tool_choice = true;
    state_.metrics = &metrics_;
    state_.api_key = std::move(api_key);
    http_ = std::make_unique<HttpServer>(state_, 8);
    auto port = http_->Bind("127.0.0.1", 0);
    EXPECT_TRUE(port.ok());
    port_ = *port;
    thread_ = std::thread([this] { EXPECT_TRUE(http_->Run().ok()); });
  }
  ~ServerFixture() {
    http_->Stop();
    thread_.join();
    engine_.Shutdown();
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    c.set_connection_timeout(5, 0);
    return c;
  }
  ScriptedEngine& engine() { return engine_; }
  int port() const { return port_; }

 private:
  ScriptedEngine engine_;
  ServerMetrics metrics_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  ServerState state_;
  std::unique_ptr<HttpServer> http_;
  int port_ = 0;
  std::thread thread_;
};

const char* kToolRequest =
    R"({"model":"tiny","messages":[{"role":"user","content":"Weather in Paris?"}],"max_tokens":100,%s
        "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]})";

std::string ToolRequest(bool stream) {
  char buf[1024];
  std::snprintf(buf, sizeof(buf), kToolRequest, stream ? R"("stream":true,"stream_options":{"include_usage":true},)" : "");
  return buf;
}

// The SSE data payloads of a response body.
std::vector<std::string> SseData(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const size_t end = body.find("\n\n", pos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

TEST(HttpServer, StreamedToolCallDeltasAssembleIntoOneCall) {
  ServerFixture server(Pieces(kToolCallText, 5), 1ms);
  auto res = server.Client().Post("/v1/chat/completions", ToolRequest(true), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const std::vector<std::string> events = SseData(res->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string name, arguments, id, finish;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const Json chunk = Json::parse(events[i]);
    if (chunk["choices"].empty()) {
      EXPECT_EQ(chunk["usage"]["completion_tokens"], Pieces(kToolCallText, 5).size());
      continue;
    }
    const Json& choice = chunk["choices"][0];
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
    const Json& delta = choice["delta"];
    EXPECT_FALSE(delta.contains("content") && delta["content"].get<std::string>().find("DSML") != std::string::npos)
        << "markup leaked into content: " << events[i];
    if (!delta.contains("tool_calls")) continue;
    for (const Json& call : delta["tool_calls"]) {
      EXPECT_EQ(call["index"], 0);
      if (call.contains("id")) id = call["id"];
      if (call["function"].contains("name")) name += call["function"]["name"].get<std::string>();
      arguments += call["function"]["arguments"].get<std::string>();
    }
  }
  EXPECT_EQ(name, "get_weather");
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(Json::parse(arguments), Json::parse(R"({"city":"Paris"})")) << arguments;
  EXPECT_EQ(finish, "tool_calls");
}

TEST(HttpServer, WholeToolCallMessage) {
  ServerFixture server(Pieces(kToolCallText, 9), 0ms);
  auto res = server.Client().Post("/v1/chat/completions", ToolRequest(false), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json body = Json::parse(res->body);
  const Json& message = body["choices"][0]["message"];
  ASSERT_EQ(message["tool_calls"].size(), 1u) << res->body;
  EXPECT_EQ(message["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(Json::parse(message["tool_calls"][0]["function"]["arguments"].get<std::string>()), Json::parse(R"({"city":"Paris"})"));
  EXPECT_TRUE(message["content"].is_null());
  EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
}

// Negative control for the tool test: without tools, the same text stays content.
TEST(HttpServer, WithoutToolsTheTextIsContent) {
  ServerFixture server(Pieces("Hello there", 3), 0ms);
  auto res = server.Client().Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"Hi"}]})", "application/json");
  ASSERT_TRUE(res);
  const Json body = Json::parse(res->body);
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Hello there");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
}

TEST(HttpServer, ClientDisconnectAbortsWithinAStep) {
  ServerFixture server(std::vector<std::string>(2000, "x"), 5ms);
  // A raw client: send a streaming request, read until the first event, close the socket.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string body = R"({"prompt":"a","max_tokens":2000,"stream":true})";
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string received;
  char buf[4096];
  while (received.find("data: ") == std::string::npos) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0) << "no event before the timeout";
    received.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const auto closed = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> aborted;
  for (int i = 0; i < 400 && !(aborted = server.engine().abort_time()); ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(aborted.has_value()) << "the engine request was never aborted";
  // The connection is probed every 10 ms and a step of this engine is 5 ms; the bound leaves room for a
  // loaded test machine while still failing if the abort waited for the 2000-step script (10 s) to end.
  EXPECT_LT(std::chrono::duration<double>(*aborted - closed).count(), 0.2);
}

TEST(HttpServer, ApiKeyGuardsV1Only) {
  ServerFixture server({"ok"}, 0ms, "sk-test");
  httplib::Client c = server.Client();
  auto denied = c.Get("/v1/models");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  EXPECT_EQ(Json::parse(denied->body)["error"]["type"], "authentication_error");
  auto allowed = c.Get("/v1/models", httplib::Headers{{"Authorization", "Bearer sk-test"}});
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  EXPECT_EQ(Json::parse(allowed->body)["data"][0]["id"], "tiny");
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(HttpServer, UnknownRouteAndMalformedJsonAreOpenAiErrors) {
  ServerFixture server({"ok"}, 0ms);
  httplib::Client c = server.Client();
  auto missing = c.Get("/v2/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(Json::parse(missing->body)["error"].contains("message"));
  auto malformed = c.Post("/v1/chat/completions", "{\"messages\": [", "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(Json::parse(malformed->body)["error"]["type"], "invalid_request_error");
}

}  // namespace
}  // namespace sieve::server
