// NUMA node lists as sysfs writes them, and the count this machine reports.
#include "core/numa_nodes.h"

#include <gtest/gtest.h>

namespace sieve {
namespace {

TEST(NumaNodes, CountsSysfsNodeLists) {
  EXPECT_EQ(CountNodeList("0\n"), 1);
  EXPECT_EQ(CountNodeList("0-1"), 2);
  EXPECT_EQ(CountNodeList("0,2-3\n"), 3);
  EXPECT_EQ(CountNodeList("0-3,8-11"), 8);
}

TEST(NumaNodes, MalformedListsCountNone) {
  for (const char* bad : {"", "\n", "x", "0-", "-1", "3-1", "0,,1", "0-1,"}) EXPECT_EQ(CountNodeList(bad), 0) << bad;
}

TEST(NumaNodes, TheMachineHasAtLeastOne) { EXPECT_GE(OnlineNumaNodes(), 1); }

}  // namespace
}  // namespace sieve
