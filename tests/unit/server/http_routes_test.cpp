// The HTTP layer and routes end to end on loopback, over an engine that plays scripted text: this pins
// the response shapes (SSE order, role chunk, usage chunk, tool_calls deltas, reasoning) independently of
// what a random model happens to generate, and checks that a client going away aborts its request.
#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "server/http_server.h"
#include "server/json_fields.h"
#include "tests/unit/server/server_test_support.h"

namespace sieve::server {
namespace {

using namespace std::chrono_literals;

// Emits `pieces` as one token each, then finishes with "stop"; with hang=true it emits the first piece
// and waits for Abort.
class ScriptedEngine : public engine::Engine {
 public:
  std::vector<std::string> pieces;
  bool hang = false;

  Status Submit(engine::GenerationRequest request, OutputCallback callback) override {
    std::unique_lock<std::mutex> lock(mu_);
    last_request_ = request;
    for (int choice = 0; choice < request.params.n; ++choice) {
      for (size_t i = 0; i < pieces.size(); ++i) {
        engine::RequestOutput o;
        o.request_id = request.request_id;
        o.index = choice;
        o.new_token_ids = {static_cast<int32_t>(1000 + i)};
        o.text_delta = pieces[i];
        o.num_prompt_tokens = static_cast<int64_t>(request.prompt_ids.size());
        const bool last = i + 1 == pieces.size();
        if (hang) {
          callback(o);
          return Status::Ok();
        }
        o.finished = last;
        o.finish_reason = last ? "stop" : "";
        callback(o);
      }
    }
    return Status::Ok();
  }
  void Abort(const std::string& request_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    aborted_.push_back(request_id);
    aborted_cv_.notify_all();
  }
  engine::EngineStats Stats() const override { return {}; }
  int64_t max_model_len() const override { return test_support::kMaxModelLen; }
  void Shutdown() override {}

  bool WaitForAbort(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return aborted_cv_.wait_for(lock, timeout, [&] { return !aborted_.empty(); });
  }
  engine::GenerationRequest last_request() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  std::mutex mu_;
  std::condition_variable aborted_cv_;
  std::vector<std::string> aborted_;
  engine::GenerationRequest last_request_;
};

class HttpRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
    context_ = test_support::TestContext();
  }
  void Start(const std::string& api_key = "") {
    state_.reset(new ServerState{.context = context_, .engine = engine_, .metrics = metrics_});
    HttpServerOptions options;
    options.port = 0;
    options.api_key = api_key;
    options.max_request_body_bytes = 4096;
    options.num_threads = 4;
    server_ = std::make_unique<HttpServer>(*state_, options);
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { (void)server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }
  void TearDown() override {
    if (!server_) return;
    server_->Shutdown(1000ms);
    thread_.join();
  }
  httplib::Result Post(const std::string& path, const std::string& body) {
    return client_->Post(path.c_str(), body, "application/json");
  }
  // The JSON payloads of an SSE body, in order; "[DONE]" kept as a string.
  static std::vector<Json> Events(const std::string& body) {
    std::vector<Json> events;
    size_t at = 0;
    while ((at = body.find("data: ", at)) != std::string::npos) {
      const size_t end = body.find("\n\n", at);
      const std::string data = body.substr(at + 6, end - at - 6);
      events.push_back(data == "[DONE]" ? Json("[DONE]") : Json::parse(data));
      at = end;
    }
    return events;
  }

  ServingContext context_;
  ScriptedEngine engine_;
  Metrics metrics_{"tiny"};
  std::unique_ptr<ServerState> state_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

constexpr const char* kToolsBody =
    R"({"model": "tiny", "messages": [{"role": "user", "content": "Weather in Paris?"}], "stream": true,
        "stream_options": {"include_usage": true}, "tool_choice": "%s",
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]})";

std::string ToolsBody(const char* tool_choice) {
  std::string body = kToolsBody;
  body.replace(body.find("%s"), 2, tool_choice);
  return body;
}

const std::vector<std::string> kDsmlCall = {
    "I will check.\n\n<｜DSML｜function", "_calls>\n<｜DSML｜invoke name=\"get_", "weather\">\n<｜DSML｜parameter name=\"city\" ",
    "string=\"true\">Par", "is</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>"};

TEST_F(HttpRoutesTest, StreamedDsmlToolCallAccumulatesLikeTheSdk) {
  engine_.pieces = kDsmlCall;
  Start();
  const auto res = Post("/v1/chat/completions", ToolsBody("auto"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  const std::vector<Json> events = Events(res->body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events[0]["choices"][0]["delta"], (Json{{"role", "assistant"}, {"content", ""}}));
  EXPECT_EQ(events.back(), "[DONE]");
  const Json& usage = events[events.size() - 2];
  EXPECT_EQ(usage["choices"], Json::array());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 5);
  std::string content, name, arguments, id, finish;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    EXPECT_TRUE(events[i]["usage"].is_null());
    const Json& choice = events[i]["choices"][0];
    const Json& delta = choice["delta"];
    if (delta.contains("content")) content += delta["content"].get<std::string>();
    if (delta.contains("tool_calls"))
      for (const Json& call : delta["tool_calls"]) {
        EXPECT_EQ(call["index"], 0);
        if (call.contains("id")) id += call["id"].get<std::string>();
        if (call["function"].contains("name")) name += call["function"]["name"].get<std::string>();
        arguments += call["function"]["arguments"].get<std::string>();
      }
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
  }
  EXPECT_EQ(content, "I will check.");
  EXPECT_EQ(name, "get_weather");
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(Json::parse(arguments), (Json{{"city", "Paris"}}));
  EXPECT_EQ(finish, "tool_calls");
}

TEST_F(HttpRoutesTest, ToolChoiceNoneLeavesTheMarkupAsContent) {  // negative control for the test above
  engine_.pieces = kDsmlCall;
  Start();
  const auto res = Post("/v1/chat/completions", ToolsBody("none"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  std::string content, finish;
  for (const Json& e : Events(res->body)) {
    if (e == "[DONE]" || e["choices"].empty()) continue;
    const Json& choice = e["choices"][0];
    EXPECT_FALSE(choice["delta"].contains("tool_calls"));
    if (choice["delta"].contains("content")) content += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
  }
  EXPECT_NE(content.find("invoke name=\"get_weather\""), std::string::npos);
  EXPECT_EQ(finish, "stop");
}

TEST_F(HttpRoutesTest, NonStreamedToolCallAndReasoning) {
  engine_.pieces = {"Paris is in France.</think>Calling.\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
                    "<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n</｜DSML｜invoke>\n"
                    "</｜DSML｜function_calls>"};
  Start();
  const std::string body = R"({"messages": [{"role": "user", "content": "Weather?"}], "chat_template_kwargs": {"thinking": true},
      "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]})";
  const auto res = Post("/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json r = Json::parse(res->body);
  EXPECT_EQ(r["object"], "chat.completion");
  const Json& m = r["choices"][0]["message"];
  EXPECT_EQ(m["reasoning_content"], "Paris is in France.");
  EXPECT_EQ(m["reasoning"], "Paris is in France.");
  EXPECT_EQ(m["content"], "Calling.");
  ASSERT_EQ(m["tool_calls"].size(), 1u);
  EXPECT_EQ(m["tool_calls"][0]["type"], "function");
  EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(Json::parse(m["tool_calls"][0]["function"]["arguments"].get<std::string>()), (Json{{"city", "Paris"}}));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(r["usage"]["completion_tokens"], 1);
}

TEST_F(HttpRoutesTest, CompletionsStreamWithoutUsageSendsNoUsageChunk) {
  engine_.pieces = {"a", "b", "c"};
  Start();
  const auto res = Post("/v1/completions", R"({"prompt": [5, 6], "max_tokens": 3, "stream": true, "echo": true})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const std::vector<Json> events = Events(res->body);
  ASSERT_EQ(events.size(), 4u);  // one chunk per token, then [DONE]
  std::string text;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(events[i]["object"], "text_completion");
    EXPECT_FALSE(events[i].contains("usage"));
    text += events[i]["choices"][0]["text"].get<std::string>();
  }
  const std::string prompt = test_support::VendoredTokenizer()->Decode({5, 6}, true);
  EXPECT_EQ(text, prompt + "abc");
  EXPECT_EQ(events[2]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(events[3], "[DONE]");
}

TEST_F(HttpRoutesTest, ClientDisconnectAbortsTheRequest) {
  engine_.pieces = {"first", "never"};
  engine_.hang = true;
  Start();
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = R"({"prompt": [5, 6], "max_tokens": 100, "stream": true})";
  req.set_header("Content-Type", "application/json");
  std::string received;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    received.append(data, n);
    return false;  // hang up after the first chunk
  };
  (void)client_->send(req);
  EXPECT_NE(received.find("first"), std::string::npos);
  EXPECT_TRUE(engine_.WaitForAbort(5000ms)) << "the server did not abort the request after the client left";
}

TEST_F(HttpRoutesTest, ErrorsHaveTheirStatusAndShape) {
  engine_.pieces = {"x"};
  Start("sk-test");
  EXPECT_EQ(client_->Get("/health")->status, 200);  // no key needed
  const auto unauthorized = client_->Get("/v1/models");
  EXPECT_EQ(unauthorized->status, 401);
  EXPECT_EQ(Json::parse(unauthorized->body)["error"]["code"], "invalid_api_key");
  client_->set_bearer_token_auth("sk-test");
  EXPECT_EQ(client_->Get("/v1/models")->status, 200);
  const auto malformed = Post("/v1/completions", "{not json");
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(Json::parse(malformed->body)["error"]["type"], "invalid_request_error");
  const auto bad_n = Post("/v1/completions", R"({"prompt": "a", "n": 99})");
  EXPECT_EQ(bad_n->status, 400);
  EXPECT_EQ(Json::parse(bad_n->body)["error"]["param"], "n");
  const auto unknown_model = Post("/v1/chat/completions", R"({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]})");
  EXPECT_EQ(unknown_model->status, 404);
  EXPECT_EQ(Json::parse(unknown_model->body)["error"]["param"], "model");
  std::string large_body = R"({"prompt": ")";
  large_body.append(5000, 'a');
  large_body += "\"}";
  const auto too_large = Post("/v1/completions", large_body);
  EXPECT_EQ(too_large->status, 413);
  EXPECT_EQ(Json::parse(too_large->body)["error"]["code"], "request_too_large");
  const auto no_route = client_->Get("/v1/engines");
  EXPECT_EQ(no_route->status, 404);
  EXPECT_TRUE(Json::parse(no_route->body).contains("error"));
  // The server keeps serving after all of them.
  EXPECT_EQ(Post("/v1/completions", R"({"prompt": "a", "max_tokens": 1})")->status, 200);
}

}  // namespace
}  // namespace sieve::server
