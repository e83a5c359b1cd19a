#include "server/api_key.h"

#include <gtest/gtest.h>

namespace sieve::server {
namespace {

TEST(ApiKey, BearerMatchesOnlyTheExactKey) {
  EXPECT_TRUE(AuthorizationMatches("Bearer sk-123", "sk-123"));
  EXPECT_FALSE(AuthorizationMatches("Bearer sk-124", "sk-123"));
  EXPECT_FALSE(AuthorizationMatches("Bearer sk-12", "sk-123"));   // prefix
  EXPECT_FALSE(AuthorizationMatches("Bearer sk-1234", "sk-123"));  // longer
  EXPECT_FALSE(AuthorizationMatches("sk-123", "sk-123"));          // no scheme
  EXPECT_FALSE(AuthorizationMatches("Basic sk-123", "sk-123"));
  EXPECT_FALSE(AuthorizationMatches("", "sk-123"));
}

TEST(ApiKey, ConstantTimeEqualsIsEquality) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0", 2), "a"));  // length folded in, not a C string
}

}  // namespace
}  // namespace sieve::server
