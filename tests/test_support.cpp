// Test helpers.
#include "tests/test_support.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace sieve::test {

namespace fs = std::filesystem;

std::optional<std::string> SharedFixture(const std::string& name) {
  const fs::path p = fs::path(SIEVE_SOURCE_DIR) / ".." / "shared" / "fixtures" / name;
  if (fs::exists(p)) return fs::canonical(p).string();
  return std::nullopt;
}

TempDir::TempDir() {
  std::random_device rd;
  const fs::path p = fs::temp_directory_path() / ("sieve-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(p);
  path_ = p.string();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) output->append(buf.data(), n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string SieveBinary() { return SIEVE_BINARY; }

}  // namespace sieve::test
