// The all-reduce of partial results (see group_sum.h).
#include "model/group_sum.h"

#include "parallel/mpi_runtime.h"

namespace sieve::model {

void GroupSum(parallel::Communicator* group, float* data, int64_t n) {
  if (group == nullptr || group->size() == 1 || n == 0) return;
  if (Status s = group->AllReduceSum({data, static_cast<size_t>(n)}); !s.ok()) parallel::AbortJob(s);
}

}  // namespace sieve::model
