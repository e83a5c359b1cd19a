// RunGsm8kEval end to end against an in-process fake OpenAI server on loopback (cpp-httplib): the bodies
// it sends, the scores it computes from the replies, and failures counted instead of crashing.
#include "clients/gsm8k_eval.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <thread>

namespace sieve::clients {
namespace {

// A loopback server that answers POST /v1/completions with `reply_status` and the text `completion`,
// and records every request body.
class FakeCompletionsServer {
 public:
  FakeCompletionsServer(int reply_status, std::string completion) {
    server_.Post("/v1/completions", [this, reply_status, completion](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        bodies_.push_back(nlohmann::json::parse(req.body));
      }
      res.status = reply_status;
      res.set_content(nlohmann::json({{"choices", {{{"index", 0}, {"text", completion}}}}}).dump(),
                      "application/json");
    });
    server_.Get("/v1/completions", [](const httplib::Request&, httplib::Response& res) { res.status = 405; });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // bind_to_any_port already listens, so clients may connect before the accept loop starts.
  }
  ~FakeCompletionsServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<nlohmann::json> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<nlohmann::json> bodies_;
};

std::vector<Gsm8kDoc> Docs() {
  return {{"q0?", "a\n#### 18"}, {"q1?", "b\n#### 7"}, {"q2?", "c\n#### 18"}, {"q3?", "d\n#### 1,800"}};
}

Gsm8kEvalOptions Options(const std::string& url) {
  Gsm8kEvalOptions o;
  o.base_url = url;
  o.generation.model = "tiny";
  o.num_fewshot = 2;
  o.num_concurrent = 2;  // the concurrent path sends no EOS and needs no tokenizer probe
  o.max_attempts = 1;    // no retry sleeps in a unit test
  o.timeout_s = 5;
  return o;
}

TEST(Gsm8kEval, SendsLmEvalBodiesAndScoresReplies) {
  FakeCompletionsServer server(200, " She makes $18.\n#### 18");
  auto result = RunGsm8kEval(Options(server.url()), Docs(), Docs());
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->endpoint_url, server.url() + "/v1/completions");
  EXPECT_EQ(result->failed_requests, 0u);
  ASSERT_EQ(result->docs.size(), 4u);
  EXPECT_EQ(result->docs[0].strict_answer, "18");
  EXPECT_EQ(result->docs[1].strict_score, 0.0);  // gold 7
  ASSERT_EQ(result->scores.size(), 2u);
  EXPECT_EQ(result->scores[1].filter, "strict-match");
  EXPECT_DOUBLE_EQ(result->scores[1].value, 0.5);  // docs 0 and 2 have gold 18
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 4u);
  for (const auto& b : bodies) {
    EXPECT_EQ(b["model"], "tiny");
    EXPECT_EQ(b["max_tokens"], 256);
    EXPECT_EQ(b["temperature"], 0.0);
    EXPECT_EQ(b["seed"], 1234);
    EXPECT_EQ(b["stop"], nlohmann::json({"Question:", "</s>", "<|im_end|>"}));
    EXPECT_TRUE(b["prompt"].get<std::string>().ends_with("?\nAnswer:"));
  }
}

TEST(Gsm8kEval, LimitTakesTheFirstDocs) {
  FakeCompletionsServer server(200, "#### 18");
  Gsm8kEvalOptions o = Options(server.url());
  o.limit = 1;
  auto result = RunGsm8kEval(o, Docs(), Docs());
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->docs.size(), 1u);
  EXPECT_DOUBLE_EQ(result->scores[0].value, 1.0);
  EXPECT_FALSE(result->scores[0].stderr_value.has_value());
}

TEST(Gsm8kEval, ServerErrorsAreCountedAsFailures) {
  FakeCompletionsServer server(500, "#### 18");
  auto result = RunGsm8kEval(Options(server.url()), Docs(), Docs());
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->failed_requests, 4u);
  EXPECT_NE(result->docs[0].error.find("HTTP 500"), std::string::npos) << result->docs[0].error;
  EXPECT_DOUBLE_EQ(result->scores[0].value, 0.0);
}

TEST(Gsm8kEval, UnreachableServerIsUnavailable) {
  // Port 1 (tcpmux) is privileged and unused on a test machine: the connection is refused at once.
  auto result = RunGsm8kEval(Options("http://127.0.0.1:1"), Docs(), Docs());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
}

TEST(Gsm8kEval, EndpointUrlFollowsLmEvalBaseUrl) {
  EXPECT_EQ(*Gsm8kEndpointUrl("http://h:1", false), "http://h:1/v1/completions");
  EXPECT_EQ(*Gsm8kEndpointUrl("http://h:1/v1/", true), "http://h:1/v1/chat/completions");
  EXPECT_EQ(*Gsm8kEndpointUrl("http://h:1/x/v1/completions", true), "http://h:1/x/v1/completions");
  EXPECT_EQ(Gsm8kEndpointUrl("h:1", false).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sieve::clients
