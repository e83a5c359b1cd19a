// JSON text exactly as Python's json.dumps(value, ensure_ascii=False) writes it: ", " and ": "
// separators, keys in insertion order, non-ASCII kept, floats in repr() form (0.5, 1e-05, 3.0).
// DeepSeek's chat encoders render tool schemas and arguments this way, so the prompt depends on it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sieve::text {

std::string PythonJsonDumps(const nlohmann::ordered_json& value);

}  // namespace sieve::text
