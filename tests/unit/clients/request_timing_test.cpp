// TTFT / ITL / E2EL / TPOT and percentiles on a scripted stream with known timestamps (no clock, no sleeps),
// checked against the formulas of vLLM's bench client and calculate_metrics.
#include "clients/request_timing.h"

#include <gtest/gtest.h>

#include <cmath>

#include "clients/serve_metrics.h"
#include "clients/sse_stream.h"

namespace sieve::clients {
namespace {

// Four token chunks at 0.5, 0.6, 0.8, 1.1 s after a send at 10.0 s, then usage (5 tokens) and [DONE].
RequestOutput ScriptedRequest() {
  StreamRecorder rec(/*chat=*/false, /*start_time_s=*/10.0, /*prompt_len=*/7);
  const char* body =
      "data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"text\":\"b\"}]}\r\n\r\n"
      ": keep-alive\n\n"
      "data: {\"choices\":[{\"index\":0,\"text\":\"cd\"}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"text\":\"e\"}]}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":5}}\n\n"
      "data: [DONE]\n\n";
  const double times[] = {10.5, 10.6, 10.8, 11.1, 11.2, 11.3};
  size_t k = 0;
  SseSplitter sse;
  // Feed in awkward 7-byte pieces: messages complete in the middle of pieces.
  const std::string s = body;
  for (size_t i = 0; i < s.size(); i += 7) {
    sse.Feed(s.substr(i, 7), [&](const std::string& data) { rec.OnMessage(data, times[k++]); });
  }
  EXPECT_EQ(k, 6u);
  return rec.Finish(200, "");
}

TEST(RequestTiming, TokenEventsGiveTtftItlAndLatency) {
  const RequestOutput o = ScriptedRequest();
  ASSERT_TRUE(o.success) << o.error;
  EXPECT_DOUBLE_EQ(o.ttft_s, 0.5);
  ASSERT_EQ(o.itl_s.size(), 3u);  // one gap per chunk, not per token
  EXPECT_NEAR(o.itl_s[0], 0.1, 1e-12);
  EXPECT_NEAR(o.itl_s[1], 0.2, 1e-12);
  EXPECT_NEAR(o.itl_s[2], 0.3, 1e-12);
  EXPECT_NEAR(o.latency_s, 1.1, 1e-12);  // the usage chunk and [DONE] do not extend it
  EXPECT_EQ(o.output_tokens, 5);
  EXPECT_EQ(o.prompt_len, 8);  // usage.prompt_tokens replaces the dataset's count
  EXPECT_EQ(o.generated_text, "abcde");
}

TEST(RequestTiming, FailuresAreRecordedNotThrown) {
  StreamRecorder http_error(false, 0, 1);
  EXPECT_EQ(http_error.Finish(503, "busy").error, "HTTP 503: busy");
  StreamRecorder empty(false, 0, 1);
  empty.OnMessage("{\"choices\":[],\"usage\":{\"completion_tokens\":0}}", 1.0);
  EXPECT_FALSE(empty.Finish(200, "").success);
  StreamRecorder garbage(false, 0, 1);
  garbage.OnMessage("not json", 1.0);
  EXPECT_FALSE(garbage.Finish(200, "").success);
  // Tokens arrived but the stream stopped before [DONE]; the same stream with it succeeds.
  StreamRecorder truncated(false, 0, 1), whole(false, 0, 1);
  for (StreamRecorder* r : {&truncated, &whole}) r->OnMessage("{\"choices\":[{\"text\":\"a\"}]}", 1.0);
  whole.OnMessage("[DONE]", 1.1);
  EXPECT_EQ(truncated.Finish(200, "").error, "the stream ended before data: [DONE] (truncated)");
  EXPECT_TRUE(whole.Finish(200, "").success);
}

TEST(ServeMetrics, TpotAndPooledItlFollowVllm) {
  RequestOutput a = ScriptedRequest();
  RequestOutput b = a;  // a second request starting 0.5 s later, overlapping the first
  b.start_time_s = 10.5;
  RequestOutput failed;
  failed.error = "HTTP 500";
  const ServeMetrics m = CalculateServeMetrics({a, b, failed}, /*duration_s=*/2.0, {99}, false, false);
  EXPECT_EQ(m.completed, 2u);
  EXPECT_EQ(m.failed, 1u);
  EXPECT_EQ(m.total_input, 16);
  EXPECT_EQ(m.total_output, 10);
  EXPECT_EQ(m.output_lens, (std::vector<int>{5, 5, 0}));
  EXPECT_DOUBLE_EQ(m.request_throughput, 1.0);
  EXPECT_DOUBLE_EQ(m.output_throughput, 5.0);
  EXPECT_DOUBLE_EQ(m.total_token_throughput, 13.0);
  EXPECT_NEAR(m.tpot.mean_ms, (1.1 - 0.5) / 4 * 1000, 1e-9);  // (E2EL - TTFT) / (output_len - 1)
  EXPECT_NEAR(m.ttft.mean_ms, 500, 1e-9);
  EXPECT_NEAR(m.itl.mean_ms, 200, 1e-9);                      // six pooled gaps: 0.1 0.2 0.3 twice
  EXPECT_NEAR(m.itl.median_ms, 200, 1e-9);
  EXPECT_NEAR(m.itl.std_ms, std::sqrt(2.0 / 300) * 1000, 1e-9);  // population std
  EXPECT_EQ(m.max_concurrent_requests, 2);
  // Token events at 10.5 10.6 10.8 11.1 and 11.0 11.1 11.3 11.6, bucketed from 10.0: 3 in [0,1), 5 in [1,2).
  EXPECT_DOUBLE_EQ(m.max_output_tokens_per_s, 5.0);
}

TEST(ServeMetrics, PercentileInterpolatesLikeNumpy) {
  EXPECT_DOUBLE_EQ(Percentile({1, 2, 3, 4}, 99), 3.97);  // np.percentile([1,2,3,4], 99)
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_DOUBLE_EQ(Percentile({}, 99), 0.0);
  EXPECT_NE(Percentile({1, 2, 3, 4}, 99), 4.0);  // negative control: not nearest-rank
}

}  // namespace
}  // namespace sieve::clients
