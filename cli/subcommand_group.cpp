// Shared parents of nested subcommands (`sieve bench ...`, `sieve eval ...`); see subcommands.h.
#include "cli/subcommands.h"

namespace sieve::cli {

CLI::App* SubcommandGroup(CLI::App& app, const std::string& name, const std::string& description) {
  // This CLI11 has no get_subcommand_no_throw; a name filter finds an existing parent without throwing.
  const auto existing = app.get_subcommands([&name](const CLI::App* sub) { return sub->get_name() == name; });
  if (!existing.empty()) return existing.front();
  CLI::App* group = app.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

}  // namespace sieve::cli
