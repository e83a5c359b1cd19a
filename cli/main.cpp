// `sieve`: one binary, one subcommand per file in cli/ (each registers itself with SIEVE_SUBCOMMAND).
#include <cstdio>
#include <vector>

#include "cli/subcommands.h"
#include "core/logging.h"

namespace sieve::cli {
std::vector<RegisterFn>& Registry() {
  static std::vector<RegisterFn> registry;
  return registry;
}

bool AddSubcommand(RegisterFn fn) {
  Registry().push_back(std::move(fn));
  return true;
}

void PrintError(const std::string& message) { std::fprintf(stderr, "sieve: %s\n", message.c_str()); }
}  // namespace sieve::cli

int main(int argc, char** argv) {
  CLI::App app{"Sieve: inference engine and OpenAI-compatible server for DeepSeek-V3.2"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sieve 0.1.0");
  int exit_code = 0;
  for (const auto& fn : sieve::cli::Registry()) fn(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors: one line and exit 2 (help and version print normally and exit 0).
    if (e.get_exit_code() == 0) return app.exit(e);
    sieve::cli::PrintError(e.what());
    return 2;
  }
  return exit_code;
}
