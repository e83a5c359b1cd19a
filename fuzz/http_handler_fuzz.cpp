// libFuzzer target: any HTTP request, "METHOD PATH\n" + "Name: value\n" headers + "\n" + body, goes through
// the server's real routing, API-key check and handlers (server/routes.h Dispatch, no sockets) against an
// inline scripted engine that still runs the engine's own request validation. Invariants: every answer
// has a valid status and is never a 500; every error body is an OpenAI error object; a 200 JSON answer is
// JSON; a stream ends after a bounded number of writes with `data: [DONE]`, each event being JSON.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/routes.h"
#include "tests/scripted_engine.h"
#include "text/tokenizer.h"

namespace {

using sieve::server::ServerState;

[[noreturn]] void Violation(const char* what, const httplib::Request& req, const httplib::Response& res,
                            const std::string& body) {
  std::fprintf(stderr, "invariant broken: %s\nrequest: %s %s\nstatus %d body: %.2000s\n", what, req.method.c_str(),
               req.path.c_str(), res.status, body.c_str());
  std::abort();
}

// What the scripted engine "generates": reasoning, content and a DSML tool call, so the chat route's
// parsers and delta assembly all run.
std::vector<std::string> ScriptPieces() {
  const std::string text =
      "<think>Let me check.</think>It is sunny.\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
      "<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n</｜DSML｜invoke>\n"
      "</｜DSML｜function_calls>";
  std::vector<std::string> pieces;
  for (size_t i = 0; i < text.size();) {  // 11-byte pieces, never cutting a UTF-8 character
    size_t end = std::min(text.size(), i + 11);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    pieces.push_back(text.substr(i, end - i));
    i = end;
  }
  return pieces;
}

struct Fixture {
  std::unique_ptr<sieve::text::Tokenizer> tokenizer;
  sieve::test::ScriptedEngine engine{ScriptPieces(), std::chrono::milliseconds(0),
                                     sieve::test::ScriptedEngine::Delivery::kInline};
  sieve::server::ServerMetrics metrics{"tiny"};
  ServerState state;

  Fixture() {
    auto tok = sieve::text::Tokenizer::LoadFromDir(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer");
    if (!tok.ok()) {
      std::fprintf(stderr, "cannot load assets/tokenizer: %s\n", tok.status().message().c_str());
      std::abort();
    }
    tokenizer = std::move(tok).value();
    state.engine = &engine;
    state.limits = {{"tiny"}, tokenizer.get(), 4096, 129280, 0, 1};
    state.chat.parse_reasoning = true;
    state.chat.tool_call_format = sieve::text::ToolCallFormat::kDsml;
    state.chat.enable_auto_tool_choice = true;
    state.metrics = &metrics;
    state.api_key = "sk-fuzz";  // the corpus carries the header; mutations that break it must get 401
  }
};

// "METHOD PATH\n", then "Name: value\n" lines up to an empty line, then the body.
httplib::Request ParseInput(std::string_view in) {
  httplib::Request req;
  auto line = [&in]() {
    const size_t end = in.find('\n');
    std::string_view l = in.substr(0, end);
    in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
    return l;
  };
  const std::string_view first = line();
  const size_t space = first.find(' ');
  req.method = std::string(first.substr(0, space));
  req.path = space == std::string_view::npos ? "" : std::string(first.substr(space + 1));
  for (std::string_view h = line(); !h.empty(); h = line()) {
    const size_t colon = h.find(": ");
    if (colon == std::string_view::npos) continue;
    req.headers.emplace(std::string(h.substr(0, colon)), std::string(h.substr(colon + 2)));
  }
  req.body = std::string(in);
  return req;
}

void CheckErrorBody(const httplib::Request& req, const httplib::Response& res) {
  const auto body = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("error") || !body["error"].is_object())
    Violation("an error body that is not {\"error\": {...}}", req, res, res.body);
  const auto& error = body["error"];
  if (!error.contains("message") || !error["message"].is_string() || !error.contains("type") || !error["type"].is_string() ||
      !error.contains("code") || error["code"] != res.status)
    Violation("an error object without message/type or with a code other than the status", req, res, res.body);
}

// Drives a chunked response as cpp-httplib's writer would, to its end or a bounded number of calls.
void CheckStream(const httplib::Request& req, httplib::Response& res) {
  std::string written;
  bool done = false;
  httplib::DataSink sink;
  sink.write = [&written](const char* d, size_t n) {
    written.append(d, n);
    return true;
  };
  sink.done = [&done] { done = true; };
  sink.is_writable = [] { return true; };
  // Each call takes whatever the engine queued; an inline engine has queued everything before the first.
  int calls = 0;
  while (!done) {
    if (++calls > 1000) Violation("a stream that never ends", req, res, written);
    if (!res.content_provider_(written.size(), 0, sink)) Violation("a stream provider that failed", req, res, written);
  }
  res.content_provider_success_ = true;
  constexpr std::string_view kDone = "data: [DONE]\n\n";
  if (written.size() < kDone.size() || written.compare(written.size() - kDone.size(), kDone.size(), kDone) != 0)
    Violation("a stream that does not end with data: [DONE]", req, res, written);
  for (size_t pos = 0; pos + kDone.size() < written.size();) {
    if (written.compare(pos, 6, "data: ") != 0) Violation("an SSE event that does not start with data:", req, res, written);
    const size_t end = written.find("\n\n", pos);
    if (end == std::string::npos) Violation("an unterminated SSE event", req, res, written);
    const auto event = nlohmann::json::parse(written.substr(pos + 6, end - pos - 6), nullptr, false);
    if (event.is_discarded()) Violation("an SSE event that is not JSON", req, res, written);
    pos = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // a log line per rejected request would dominate the run
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();  // never destroyed: libFuzzer exits without unwinding
  const httplib::Request req = ParseInput(std::string_view(reinterpret_cast<const char*>(data), size));
  {
    httplib::Response res;  // holds a stream's generation until it goes out of scope
    sieve::server::Dispatch(fixture->state, req, res);
    if (res.status < 200 || res.status > 599) Violation("a status outside 200..599", req, res, res.body);
    if (res.status == 500) Violation("an internal error (an exception or a broken invariant)", req, res, res.body);
    if (res.status >= 400) {
      CheckErrorBody(req, res);
    } else if (res.content_provider_) {
      CheckStream(req, res);
    } else if (res.get_header_value("Content-Type") == "application/json") {
      if (nlohmann::json::parse(res.body, nullptr, false).is_discarded())
        Violation("a 200 body that is not JSON", req, res, res.body);
    }
  }
  if (fixture->state.in_flight != 0) {
    std::fprintf(stderr, "invariant broken: a generation outlived its response (%s %s)\n", req.method.c_str(),
                 req.path.c_str());
    std::abort();
  }
  return 0;
}
