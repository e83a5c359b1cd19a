// All-to-all expert dispatch and combine (see expert_dispatch.h).
#include "model/expert_dispatch.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "parallel/mpi_runtime.h"

namespace sieve::model {
namespace {

// One all-to-all; a failed one leaves the ranks out of step, so it ends the job.
std::vector<std::byte> Exchange(parallel::Communicator& group, const std::vector<std::byte>& send,
                                const std::vector<int64_t>& send_counts, std::vector<int64_t>* recv_counts) {
  auto recv = group.AllToAllV(send, send_counts, recv_counts);
  if (!recv.ok()) parallel::AbortJob(recv.status());
  return std::move(recv).value();
}

// rows_for[r]: the rows of this rank that go to rank r, in row order; each row goes to a rank at most once.
std::vector<std::vector<int64_t>> Destinations(const ExpertPlacement& placement, const Routing& routing, int64_t n,
                                               int world) {
  std::vector<std::vector<int64_t>> rows_for(static_cast<size_t>(world));
  std::vector<char> chosen(static_cast<size_t>(world));
  for (int64_t t = 0; t < n; ++t) {
    if (placement.OnEveryRank()) {
      for (auto& rows : rows_for) rows.push_back(t);
      continue;
    }
    std::fill(chosen.begin(), chosen.end(), 0);
    for (int64_t i = 0; i < routing.k; ++i) chosen[placement.OwnerOf(routing.experts[t * routing.k + i])] = 1;
    for (int r = 0; r < world; ++r)
      if (chosen[r]) rows_for[r].push_back(t);
  }
  return rows_for;
}

}  // namespace

int64_t DispatchRecordBytes(int64_t k, int64_t hidden) {
  return k * static_cast<int64_t>(sizeof(int32_t) + sizeof(float)) + hidden * static_cast<int64_t>(sizeof(float));
}

void DispatchCombine(parallel::Communicator& group, const ExpertPlacement& placement, const float* x, int64_t n,
                     int64_t hidden, const Routing& routing, const LocalExperts& local, float* out) {
  const int world = group.size();
  const int64_t k = routing.k, record = DispatchRecordBytes(k, hidden);
  const size_t row_bytes = static_cast<size_t>(hidden) * sizeof(float);
  const std::vector<std::vector<int64_t>> rows_for = Destinations(placement, routing, n, world);

  // Dispatch: per destination, its rows as records [k ids][k weights][hidden floats]; an expert the
  // destination does not hold is sent as id -1, so it applies exactly its own share.
  std::vector<int64_t> send_counts(static_cast<size_t>(world));
  int64_t total = 0;
  for (int r = 0; r < world; ++r) total += send_counts[r] = static_cast<int64_t>(rows_for[r].size()) * record;
  std::vector<std::byte> send(static_cast<size_t>(total));
  std::byte* p = send.data();
  std::vector<int32_t> ids(static_cast<size_t>(k));
  std::vector<float> weights(static_cast<size_t>(k));
  for (int r = 0; r < world; ++r) {
    for (int64_t t : rows_for[r]) {
      for (int64_t i = 0; i < k; ++i) {
        const int32_t e = routing.experts[t * k + i];
        const bool here = placement.OnEveryRank() || placement.OwnerOf(e) == r;
        ids[i] = here ? e : -1;
        weights[i] = here ? routing.weights[t * k + i] : 0.0f;
      }
      std::memcpy(p, ids.data(), ids.size() * sizeof(int32_t));
      p += ids.size() * sizeof(int32_t);
      std::memcpy(p, weights.data(), weights.size() * sizeof(float));
      p += weights.size() * sizeof(float);
      std::memcpy(p, x + t * hidden, row_bytes);
      p += row_bytes;
    }
  }
  std::vector<int64_t> recv_counts;
  const std::vector<std::byte> recv = Exchange(group, send, send_counts, &recv_counts);

  // This rank's experts on every row it received: unpacked into [m, hidden] rows and [m, k] choices.
  const int64_t m = static_cast<int64_t>(recv.size()) / record;
  std::vector<float> xs(static_cast<size_t>(m * hidden)), ws(static_cast<size_t>(m * k));
  std::vector<int32_t> es(static_cast<size_t>(m * k));
  const std::byte* q = recv.data();
  for (int64_t j = 0; j < m; ++j) {
    std::memcpy(es.data() + j * k, q, static_cast<size_t>(k) * sizeof(int32_t));
    q += k * static_cast<int64_t>(sizeof(int32_t));
    std::memcpy(ws.data() + j * k, q, static_cast<size_t>(k) * sizeof(float));
    q += k * static_cast<int64_t>(sizeof(float));
    std::memcpy(xs.data() + j * hidden, q, row_bytes);
    q += static_cast<int64_t>(row_bytes);
  }
  std::vector<float> ys(static_cast<size_t>(m * hidden));
  if (m > 0) local(xs.data(), m, es.data(), ws.data(), k, ys.data());

  // Combine: the partial rows go back to their senders in the order they came.
  std::vector<int64_t> back_counts(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r) back_counts[r] = recv_counts[r] / record * static_cast<int64_t>(row_bytes);
  std::vector<std::byte> partial(ys.size() * sizeof(float));
  if (!ys.empty()) std::memcpy(partial.data(), ys.data(), partial.size());
  std::vector<int64_t> returned_counts;
  const std::vector<std::byte> returned = Exchange(group, partial, back_counts, &returned_counts);
  std::fill(out, out + n * hidden, 0.0f);
  const std::byte* b = returned.data();
  std::vector<float> row(static_cast<size_t>(hidden));
  for (int r = 0; r < world; ++r) {
    if (returned_counts[r] != static_cast<int64_t>(rows_for[r].size() * row_bytes)) {
      parallel::AbortJob(Status::Internal(fmt::format("expert combine: rank {} returned {} bytes for {} rows", r,
                                                      returned_counts[r], rows_for[r].size())));
    }
    for (int64_t t : rows_for[r]) {
      std::memcpy(row.data(), b, row_bytes);
      b += row_bytes;
      float* o = out + t * hidden;
      for (int64_t i = 0; i < hidden; ++i) o[i] += row[i];
    }
  }
}

}  // namespace sieve::model
