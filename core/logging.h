// One logger for all of Sieve (spdlog, fmt-formatted, to stderr; stdout carries only program
// output) and SIEVE_CHECK for broken invariants, which stays on in release builds. Never CHECK
// anything a user or a file controls: that is a Status.
#pragma once

#include <spdlog/spdlog.h>

#include <sstream>

namespace sieve {

// Sets the level from a name: trace, debug, info, warning, error, critical. False if unknown.
bool SetLogLevel(std::string_view level);

namespace internal {
// Collects the streamed context of a failed check, prints it and aborts in the destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  std::ostringstream stream_;
};
}  // namespace internal
}  // namespace sieve

#define SIEVE_CHECK(cond) \
  if (cond) {             \
  } else                  \
    ::sieve::internal::CheckFailure(__FILE__, __LINE__, #cond)

#ifdef NDEBUG
#define SIEVE_DCHECK(cond) \
  if (true) {              \
  } else                   \
    ::sieve::internal::CheckFailure(__FILE__, __LINE__, #cond)
#else
#define SIEVE_DCHECK(cond) SIEVE_CHECK(cond)
#endif
