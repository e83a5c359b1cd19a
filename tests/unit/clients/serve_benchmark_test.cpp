// RunServeBenchmark against an in-process fake OpenAI server: vLLM's request body, the concurrency cap,
// failures recorded with their text (HTTP error, truncated stream, timeout), the initial test request
// failing fast, and the speculative-decoding deltas read from /metrics.
#include "clients/serve_benchmark.h"

#include <gtest/gtest.h>

#include "tests/unit/clients/fake_openai_stream_server.h"

namespace sieve::clients {
namespace {

std::vector<BenchRequest> Requests(size_t n) {
  std::vector<BenchRequest> requests(n);
  for (size_t i = 0; i < n; ++i) requests[i] = {"prompt " + std::to_string(i), 5, 3};
  return requests;
}

ServeBenchmarkOptions Options(const std::string& origin) {
  ServeBenchmarkOptions o;
  o.origin = origin;
  o.api_path = "/v1/completions";
  o.metrics_path = "/metrics";
  o.model = "tiny";
  o.request_rate = INFINITY;
  o.timeout_s = 5;
  o.request_id_prefix = "bench-test-";
  return o;
}

// The request index from "bench-test-<i>" (-1 for the test and warmup requests).
int IndexOf(const std::string& request_id) {
  const std::string tail = request_id.substr(request_id.rfind('-') + 1);
  return tail.empty() || !std::isdigit(static_cast<unsigned char>(tail[0])) ? -1 : std::stoi(tail);
}

TEST(ServeBenchmark, SendsVllmCompletionsBody) {
  ServeBenchmarkOptions o = Options("http://unused");
  EXPECT_EQ(BenchRequestBody(o, {"hi", 4, 7}),
            R"({"model":"tiny","prompt":"hi","repetition_penalty":1.0,"max_tokens":7,"logprobs":null,)"
            R"("stream":true,"stream_options":{"include_usage":true},"ignore_eos":true})");
  o.chat = true;
  o.ignore_eos = false;
  EXPECT_EQ(BenchRequestBody(o, {"hi", 4, 7}),
            R"({"model":"tiny","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],)"
            R"("max_completion_tokens":7,"stream":true,"stream_options":{"include_usage":true}})");
}

TEST(ServeBenchmark, MaxConcurrencyCapsStreamsInFlight) {
  for (const std::optional<int> cap : {std::optional<int>(2), std::optional<int>()}) {
    FakeOpenAiStreamServer server([](const std::string&) { return StreamScript{3, 20}; }, false);
    ServeBenchmarkOptions o = Options(server.origin());
    o.max_concurrency = cap;
    size_t last_done = 0;
    auto run = RunServeBenchmark(o, Requests(8), [&](size_t done, size_t total) {
      EXPECT_EQ(total, 8u);
      EXPECT_EQ(done, last_done + 1);  // serialized, in order
      last_done = done;
    });
    ASSERT_TRUE(run.ok()) << run.status().message();
    EXPECT_EQ(last_done, 8u);
    for (const RequestOutput& out : run->outputs) {
      EXPECT_TRUE(out.success) << out.error;
      EXPECT_EQ(out.output_tokens, 3);
      EXPECT_EQ(out.itl_s.size(), 2u);
    }
    if (cap) {
      EXPECT_EQ(server.peak_in_flight(), 2);
      // Requests beyond the first two waited for a slot, about one 60 ms stream per wave.
      double max_queue = 0;
      for (const auto& out : run->outputs) max_queue = std::max(max_queue, out.queue_time_s);
      EXPECT_GT(max_queue, 0.1);
    } else {
      EXPECT_GT(server.peak_in_flight(), 2);  // negative control: without the cap they overlap
    }
    EXPECT_FALSE(run->spec_decode.has_value());  // no spec decode counters on this server
  }
}

TEST(ServeBenchmark, FailuresAreCountedWithTheirErrors) {
  FakeOpenAiStreamServer server(
      [](const std::string& id) {
        switch (IndexOf(id)) {
          case 1:
            return StreamScript{3, 1, 503};
          case 2:
            return StreamScript{3, 1, 200, /*truncate=*/true};
          case 3:
            return StreamScript{3, 1, 200, false, /*stall_ms=*/700};
          default:
            return StreamScript{3, 1};
        }
      },
      false);
  ServeBenchmarkOptions o = Options(server.origin());
  o.timeout_s = 0.3;
  auto run = RunServeBenchmark(o, Requests(5));
  ASSERT_TRUE(run.ok()) << run.status().message();
  const auto& out = run->outputs;
  EXPECT_TRUE(out[0].success && out[4].success);
  EXPECT_EQ(out[1].error.substr(0, 9), "HTTP 503:");
  EXPECT_NE(out[2].error.find("the stream was cut after 3 messages"), std::string::npos) << out[2].error;
  EXPECT_NE(out[3].error.find("no reply within --timeout 0.3s"), std::string::npos) << out[3].error;
  EXPECT_FALSE(out[1].success || out[2].success || out[3].success);
}

TEST(ServeBenchmark, InitialTestRequestFailsFast) {
  FakeOpenAiStreamServer server([](const std::string&) { return StreamScript{}; }, false);
  ServeBenchmarkOptions wrong_model = Options(server.origin());
  wrong_model.model = "not-served";
  auto run = RunServeBenchmark(wrong_model, Requests(4));
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("initial test run failed"), std::string::npos);
  EXPECT_NE(run.status().message().find("HTTP 404"), std::string::npos) << run.status().message();
  EXPECT_EQ(server.bodies().size(), 1u);  // nothing after the test request

  // A port nobody listens on: bind one, then close it.
  std::string closed_origin;
  {
    FakeOpenAiStreamServer gone([](const std::string&) { return StreamScript{}; }, false);
    closed_origin = gone.origin();
  }
  auto unreachable = RunServeBenchmark(Options(closed_origin), Requests(4));
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.status().message().find(closed_origin), std::string::npos) << unreachable.status().message();
}

TEST(ServeBenchmark, SpecDecodeDeltasCoverOnlyTheMeasuredRun) {
  FakeOpenAiStreamServer server([](const std::string&) { return StreamScript{2, 1}; }, /*with_spec_decode=*/true);
  ServeBenchmarkOptions o = Options(server.origin());
  o.num_warmups = 2;  // the test request and warmups happen before the first snapshot
  auto run = RunServeBenchmark(o, Requests(4));
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_TRUE(run->spec_decode.has_value());
  EXPECT_EQ(run->spec_decode->num_drafts, 8);
  EXPECT_EQ(run->spec_decode->draft_tokens, 16);
  EXPECT_EQ(run->spec_decode->accepted_tokens, 12);
  EXPECT_DOUBLE_EQ(run->spec_decode->acceptance_rate, 75.0);
  EXPECT_DOUBLE_EQ(run->spec_decode->acceptance_length, 2.5);
  EXPECT_EQ(run->spec_decode->per_position_acceptance_rates, (std::vector<double>{1.0, 0.5}));
  EXPECT_EQ(server.bodies().size(), 7u);  // test + 2 warmups + 4
}

}  // namespace
}  // namespace sieve::clients
