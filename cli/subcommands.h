// The `sieve` subcommands: each file in cli/ registers one with the CLI11 app and returns the exit code
// through *exit_code when it runs (0 ok, 1 runtime failure, 2 usage).
#pragma once

#include <CLI/CLI.hpp>

namespace sieve::cli {

void RegisterInspect(CLI::App& app, int* exit_code);

// Prints "sieve: <message>" on stderr: the CLI's one-line error form.
void PrintError(const std::string& message);

}  // namespace sieve::cli
