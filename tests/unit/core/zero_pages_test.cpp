// ZeroPages: reads as zeros, keeps what is written, and moves without copying or double-unmapping.
#include "core/zero_pages.h"

#include <gtest/gtest.h>

#include <utility>

namespace sieve {
namespace {

TEST(ZeroPagesTest, UntouchedBytesReadAsZeroAndWritesStick) {
  ZeroPages pages(size_t{64} << 20);  // 64 MiB: only the touched pages get committed
  ASSERT_NE(pages.data(), nullptr);
  EXPECT_EQ(pages.size(), size_t{64} << 20);
  EXPECT_EQ(pages.data()[0], 0);
  EXPECT_EQ(pages.data()[pages.size() - 1], 0);
  pages.data()[12345] = 7;
  EXPECT_EQ(pages.data()[12345], 7);
  EXPECT_EQ(pages.data()[12346], 0);
}

TEST(ZeroPagesTest, GuardPagesFaultOnOutOfBoundsAccess) {
  ZeroPages pages(100);
  EXPECT_DEATH(pages.data()[-1] = 1, "");
  EXPECT_DEATH(pages.data()[4096] = 1, "");  // past the one page that holds the 100 bytes
}

TEST(ZeroPagesTest, MovesOwnership) {
  ZeroPages a(4096);
  a.data()[1] = 3;
  uint8_t* const bytes = a.data();
  ZeroPages b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(b.data(), bytes);
  ZeroPages c;
  c = std::move(b);
  EXPECT_EQ(c.data()[1], 3);
  EXPECT_EQ(ZeroPages(0).data(), nullptr);
}

}  // namespace
}  // namespace sieve
