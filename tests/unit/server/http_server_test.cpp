// The HTTP layer against a scripted engine (tests/scripted_engine.h): each request "generates" a fixed list
// of text pieces, one per step, from its own thread. This pins what a real random-weight model cannot
// produce on demand: a DSML tool call streamed as OpenAI tool_call deltas, and a client disconnect
// aborting the request.
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
#include "tests/scripted_engine.h"
#include "text/tokenizer.h"

namespace sieve::server {
namespace {

using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

using test::ScriptedEngine;

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
  ServerFixture(std::vector<std::string> pieces, std::chrono::milliseconds step, std::string api_key = "",
                int64_t max_request_body_bytes = kDefaultMaxRequestBodyBytes)
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
    http_ = std::make_unique<HttpServer>(state_, 8, max_request_body_bytes);
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

// Forced tool choices (the engine's grammar made the text JSON; here a scripted engine plays it): the
// content becomes tool calls, shaped as vLLM's: named -> finish "stop", required -> finish "tool_calls".
std::string ForcedRequest(const char* tool_choice, bool stream) {
  std::string body = ToolRequest(stream);
  body.insert(body.size() - 1, std::string(R"(,"tool_choice":)") + tool_choice);
  return body;
}

// The message a streamed response assembles to (as the SDKs accumulate deltas) and its finish_reason.
std::pair<Json, std::string> Assemble(const std::string& sse) {
  Json calls = Json::array();
  std::string content, finish;
  for (const std::string& event : SseData(sse)) {
    if (event == "[DONE]") break;
    const Json chunk = Json::parse(event);
    if (chunk["choices"].empty()) continue;
    const Json& choice = chunk["choices"][0];
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
    if (choice["delta"].contains("content")) content += choice["delta"]["content"].get<std::string>();
    for (const Json& d : choice["delta"].value("tool_calls", Json::array())) {
      const size_t i = d["index"];
      if (calls.size() <= i) calls.push_back({{"id", ""}, {"name", ""}, {"arguments", ""}});
      if (d.contains("id")) calls[i]["id"] = d["id"];
      if (d["function"].contains("name")) calls[i]["name"] = calls[i]["name"].get<std::string>() + d["function"]["name"].get<std::string>();
      calls[i]["arguments"] = calls[i]["arguments"].get<std::string>() + d["function"]["arguments"].get<std::string>();
    }
  }
  return {{{"content", content}, {"tool_calls", calls}}, finish};
}

TEST(HttpServer, NamedToolChoiceContentBecomesTheCall) {
  ServerFixture server(Pieces(R"({"city": "Paris"})", 4), 0ms);
  const char* choice = R"({"type":"function","function":{"name":"get_weather"}})";
  auto whole = server.Client().Post("/v1/chat/completions", ForcedRequest(choice, false), "application/json");
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  const Json body = Json::parse(whole->body);
  const Json& message = body["choices"][0]["message"];
  ASSERT_EQ(message["tool_calls"].size(), 1u) << whole->body;
  EXPECT_EQ(message["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(message["tool_calls"][0]["function"]["arguments"], R"({"city": "Paris"})");
  EXPECT_TRUE(message["content"].is_null());
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");

  auto streamed = server.Client().Post("/v1/chat/completions", ForcedRequest(choice, true), "application/json");
  ASSERT_TRUE(streamed);
  const auto [assembled, finish] = Assemble(streamed->body);
  EXPECT_EQ(assembled["content"], "");
  ASSERT_EQ(assembled["tool_calls"].size(), 1u) << streamed->body;
  EXPECT_EQ(assembled["tool_calls"][0]["name"], "get_weather");
  EXPECT_NE(assembled["tool_calls"][0]["id"], "");
  EXPECT_EQ(assembled["tool_calls"][0]["arguments"], R"({"city": "Paris"})");
  EXPECT_EQ(finish, "stop");
}

TEST(HttpServer, RequiredToolChoiceListBecomesCalls) {
  ServerFixture server(Pieces(R"([{"name": "get_weather", "parameters": {"city":"Paris"}}])", 6), 0ms);
  auto whole = server.Client().Post("/v1/chat/completions", ForcedRequest(R"("required")", false), "application/json");
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  const Json body = Json::parse(whole->body);
  const Json& calls = body["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(calls.size(), 1u) << whole->body;
  EXPECT_EQ(calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(calls[0]["function"]["arguments"], R"({"city": "Paris"})");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");

  auto streamed = server.Client().Post("/v1/chat/completions", ForcedRequest(R"("required")", true), "application/json");
  ASSERT_TRUE(streamed);
  const auto [assembled, finish] = Assemble(streamed->body);
  EXPECT_EQ(assembled["content"], "") << "the list is not content";
  ASSERT_EQ(assembled["tool_calls"].size(), 1u) << streamed->body;
  EXPECT_EQ(assembled["tool_calls"][0]["name"], "get_weather");
  EXPECT_EQ(assembled["tool_calls"][0]["arguments"], R"({"city": "Paris"})");
  EXPECT_EQ(finish, "tool_calls");
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
  // The path is percent-decoded before routing: byte 0x88 alone is invalid UTF-8 and is quoted in the
  // message (it used to make the JSON serializer throw and end the process; fuzz/http_handler_fuzz.cpp).
  auto invalid_utf8 = c.Get("/%88");
  ASSERT_TRUE(invalid_utf8);
  EXPECT_EQ(invalid_utf8->status, 404);
  EXPECT_NE(Json::parse(invalid_utf8->body)["error"]["message"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos)
      << invalid_utf8->body;
  auto malformed = c.Post("/v1/chat/completions", "{\"messages\": [", "application/json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(Json::parse(malformed->body)["error"]["type"], "invalid_request_error");
}

// --max-request-body-bytes: a body of exactly the limit is served, one byte more gets 413 before any
// handler runs (the server reads no further), and the server answers the next request.
TEST(HttpServer, RequestBodyLimitIsInclusive) {
  constexpr int64_t kLimit = 1024;
  ServerFixture server({"ok"}, 0ms, "", kLimit);
  httplib::Client c = server.Client();
  const std::string request = R"({"prompt":"a","max_tokens":1})";
  const std::string at_limit = request + std::string(kLimit - request.size(), ' ');  // JSON allows trailing space
  auto served = c.Post("/v1/completions", at_limit, "application/json");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200) << served->body;
  auto too_long = c.Post("/v1/completions", at_limit + " ", "application/json");
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->status, 413);
  EXPECT_TRUE(Json::parse(too_long->body)["error"].contains("message")) << too_long->body;
  auto after = c.Post("/v1/completions", request, "application/json");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

}  // namespace
}  // namespace sieve::server
