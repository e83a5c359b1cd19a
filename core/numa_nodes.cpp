// NUMA nodes online, from sysfs (see numa_nodes.h).
#include "core/numa_nodes.h"

#include <charconv>
#include <fstream>
#include <string>

namespace sieve {

int CountNodeList(std::string_view list) {
  while (!list.empty() && (list.back() == '\n' || list.back() == ' ')) list.remove_suffix(1);
  if (list.empty()) return 0;
  int nodes = 0;
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    const size_t dash = item.find('-');
    int first = 0, last = 0;
    const auto parse = [](std::string_view s, int* v) {
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
      return ec == std::errc() && end == s.data() + s.size() && !s.empty();
    };
    if (!parse(item.substr(0, dash), &first)) return 0;
    last = first;
    if (dash != std::string_view::npos && !parse(item.substr(dash + 1), &last)) return 0;
    if (last < first) return 0;
    nodes += last - first + 1;
    if (comma == std::string_view::npos) return nodes;
    list.remove_prefix(comma + 1);
  }
}

int OnlineNumaNodes() {
  std::ifstream file("/sys/devices/system/node/online");
  std::string list;
  if (!std::getline(file, list)) return 1;
  const int nodes = CountNodeList(list);
  return nodes > 0 ? nodes : 1;
}

}  // namespace sieve
