// MemAvailable from /proc/meminfo.
#include "core/available_memory.h"

#include <fstream>
#include <string>

namespace sieve {

int64_t AvailableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key, unit;
  int64_t kib = 0;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

}  // namespace sieve
