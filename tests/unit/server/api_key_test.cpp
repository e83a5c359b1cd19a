// Bearer-token check for --api-key.
#include "server/api_key.h"

#include <gtest/gtest.h>

namespace sieve::server {
namespace {

TEST(ApiKey, AcceptsOnlyTheExactBearerHeader) {
  EXPECT_TRUE(AuthorizationMatches("Bearer sk-test", "sk-test"));
  EXPECT_FALSE(AuthorizationMatches("Bearer sk-tesT", "sk-test"));
  EXPECT_FALSE(AuthorizationMatches("Bearer sk-test2", "sk-test"));
  EXPECT_FALSE(AuthorizationMatches("Bearer sk-tes", "sk-test"));
  EXPECT_FALSE(AuthorizationMatches("sk-test", "sk-test"));
  EXPECT_FALSE(AuthorizationMatches("Basic sk-test", "sk-test"));
  EXPECT_FALSE(AuthorizationMatches("", "sk-test"));
  EXPECT_FALSE(AuthorizationMatches("Bearer ", "sk-test"));
}

}  // namespace
}  // namespace sieve::server
