// Serving metrics; see serve_metrics.h.
#include "clients/serve_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace sieve::clients {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // numpy "linear": virtual index (n-1) * p/100, interpolated between its neighbours.
  const double index = (static_cast<double>(values.size()) - 1) * p / 100.0;
  const auto lo = static_cast<size_t>(std::floor(index));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (index - static_cast<double>(lo));
}

MetricStats SummarizeSeconds(const std::vector<double>& values_s, const std::vector<double>& percentiles) {
  MetricStats s;
  if (!values_s.empty()) {
    double sum = 0;
    for (double v : values_s) sum += v;
    const double mean = sum / static_cast<double>(values_s.size());
    double squares = 0;
    for (double v : values_s) squares += (v - mean) * (v - mean);
    s.mean_ms = mean * 1000;
    s.std_ms = std::sqrt(squares / static_cast<double>(values_s.size())) * 1000;  // np.std, ddof 0
    s.median_ms = Percentile(values_s, 50) * 1000;
  }
  for (double p : percentiles) s.percentiles_ms.emplace_back(p, Percentile(values_s, p) * 1000);
  return s;
}

ServeMetrics CalculateServeMetrics(const std::vector<RequestOutput>& outputs, double duration_s,
                                   const std::vector<double>& percentiles, bool with_max_concurrency,
                                   bool finite_rate) {
  ServeMetrics m;
  m.duration_s = duration_s;
  std::vector<double> ttfts, tpots, itls, e2els, queue_times, e2els_with_queue;
  for (const RequestOutput& o : outputs) {
    if (!o.success) {
      m.output_lens.push_back(0);
      ++m.failed;
      continue;
    }
    // Without a usage count vLLM re-tokenizes the generated text (the runner does that before this
    // call); what is still 0 counts as 1, vLLM's value when it has no tokenizer.
    const int output_len = o.output_tokens > 0 ? o.output_tokens : 1;
    m.output_lens.push_back(output_len);
    m.total_input += o.prompt_len;
    m.total_output += output_len;
    if (output_len > 1) tpots.push_back((o.latency_s - o.ttft_s) / (output_len - 1));
    itls.insert(itls.end(), o.itl_s.begin(), o.itl_s.end());
    ttfts.push_back(o.ttft_s);
    e2els.push_back(o.latency_s);
    queue_times.push_back(o.queue_time_s);
    e2els_with_queue.push_back(o.latency_s + o.queue_time_s);
    ++m.completed;
  }
  if (duration_s > 0) {
    m.request_throughput = static_cast<double>(m.completed) / duration_s;
    m.output_throughput = static_cast<double>(m.total_output) / duration_s;
    m.total_token_throughput = static_cast<double>(m.total_input + m.total_output) / duration_s;
  }
  m.ttft = SummarizeSeconds(ttfts, percentiles);
  m.tpot = SummarizeSeconds(tpots, percentiles);
  m.itl = SummarizeSeconds(itls, percentiles);
  m.e2el = SummarizeSeconds(e2els, percentiles);
  if (with_max_concurrency) {
    m.queue_time = SummarizeSeconds(queue_times, percentiles);
    if (finite_rate) m.e2el_with_queue = SummarizeSeconds(e2els_with_queue, percentiles);
  }

  // Peak output throughput: token event times (start + ttft, then + each ITL) in 1 s buckets from the
  // earliest start. Peak concurrency: sweep over [start, start + latency), departures before arrivals.
  double min_start = INFINITY;
  for (const RequestOutput& o : outputs)
    if (o.success) min_start = std::min(min_start, o.start_time_s);
  std::map<long, int> tokens_per_bucket;
  std::vector<std::pair<double, int>> events;  // {time, +1 arrival / -1 departure}
  for (const RequestOutput& o : outputs) {
    if (!o.success) continue;
    double t = o.start_time_s + o.ttft_s;
    ++tokens_per_bucket[static_cast<long>(t - min_start)];
    for (double gap : o.itl_s) {
      t += gap;
      ++tokens_per_bucket[static_cast<long>(t - min_start)];
    }
    events.emplace_back(o.start_time_s, +1);
    events.emplace_back(o.start_time_s + o.latency_s, -1);
  }
  for (const auto& [bucket, count] : tokens_per_bucket) {
    m.max_output_tokens_per_s = std::max(m.max_output_tokens_per_s, static_cast<double>(count));
  }
  std::sort(events.begin(), events.end());  // at equal times -1 sorts before +1
  int current = 0;
  for (const auto& [t, delta] : events) m.max_concurrent_requests = std::max(m.max_concurrent_requests, current += delta);
  return m;
}

}  // namespace sieve::clients
