// A fixture that runs each TEST_P once per Highway target compiled in and supported by this CPU: the
// kernels dispatch at runtime, so every target's code must give the results (often the bits) the tests
// expect, not only the one this machine would pick.
#pragma once

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <string>

namespace sieve::kernels {

class OnEachTarget : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { hwy::SetSupportedTargetsForTest(GetParam()); }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

inline std::string TargetTestName(const ::testing::TestParamInfo<int64_t>& info) { return hwy::TargetName(info.param); }

}  // namespace sieve::kernels

// Instantiates the TEST_Ps of `suite` (a class derived from OnEachTarget) on every target.
#define SIEVE_INSTANTIATE_ON_EACH_TARGET(suite)                                                          \
  INSTANTIATE_TEST_SUITE_P(Targets, suite, ::testing::ValuesIn(hwy::SupportedAndGeneratedTargets()), \
                           ::sieve::kernels::TargetTestName)
