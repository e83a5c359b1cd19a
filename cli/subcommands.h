// The `sieve` subcommands. Each file in cli/ defines one and registers it at static-initialisation time
// with SIEVE_SUBCOMMAND, so adding a subcommand touches no other file. A subcommand reports its exit
// code through *exit_code (0 ok, 1 runtime failure, 2 usage).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace sieve::cli {

using RegisterFn = std::function<void(CLI::App& app, int* exit_code)>;
// Adds a subcommand registrar; returns true so it can initialise a static.
bool AddSubcommand(RegisterFn fn);

// The parent of nested subcommands (`bench` for `bench serve|latency|throughput`): returns it if an earlier
// registrar created it, else creates it requiring one child. Registration order across files is unspecified.
CLI::App* SubcommandGroup(CLI::App& app, const std::string& name, const std::string& description);

// Prints "sieve: <message>" on stderr: the CLI's one-line error form.
void PrintError(const std::string& message);

}  // namespace sieve::cli

#define SIEVE_SUBCOMMAND_CONCAT_INNER(a, b) a##b
#define SIEVE_SUBCOMMAND_CONCAT(a, b) SIEVE_SUBCOMMAND_CONCAT_INNER(a, b)
#define SIEVE_SUBCOMMAND(fn) \
  static const bool SIEVE_SUBCOMMAND_CONCAT(sieve_subcommand_registered_, __LINE__) = ::sieve::cli::AddSubcommand(fn)
