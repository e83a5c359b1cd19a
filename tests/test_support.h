// Helpers shared by the unit tests: where the shared fixtures are, temporary folders, running the CLI.
#pragma once

#include <optional>
#include <string>

namespace sieve::test {

// ../shared/fixtures/<name> beside the source tree, or nullopt (tests then GTEST_SKIP with a message).
std::optional<std::string> SharedFixture(const std::string& name);
// A fresh empty directory under the system temp dir, removed by the caller's TempDir destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};
// Runs a shell command; returns exit code and puts stdout+stderr in *output.
int RunCommand(const std::string& command, std::string* output);
// Path to the built `sieve` binary.
std::string SieveBinary();

}  // namespace sieve::test
