// How many NUMA nodes the machine has, for choices that depend on where memory lands (placing weight pages
// by first touch, model/weight_prefault.h).
#pragma once

#include <string_view>

namespace sieve {

// Nodes in a Linux node list such as /sys/devices/system/node/online's ("0", "0-1", "0,2-3"); 0 for an
// empty or malformed list.
int CountNodeList(std::string_view list);

// Nodes online (/sys/devices/system/node/online); 1 where the file is missing or unreadable (a kernel
// without NUMA support, or another system).
int OnlineNumaNodes();

}  // namespace sieve
