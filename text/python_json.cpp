// Python-compatible JSON serialisation (CPython Lib/json/encoder.py, float repr per Objects/floatobject.c
// with the 'r' format: positional when -4 <= exponent < 16, otherwise d.ddde+XX).
#include "text/python_json.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace sieve::text {
namespace {

void AppendString(const std::string& s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20) {
          out->append(fmt::format("\\u{:04x}", c));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void AppendFloat(double v, std::string* out) {
  if (std::isnan(v)) return out->append("NaN"), void();
  if (std::isinf(v)) return out->append(v > 0 ? "Infinity" : "-Infinity"), void();
  // Shortest round-trip digits, then Python's layout rule.
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // e.g. "-1.2345e+02"
  const size_t e = sci.find('e');
  const int exponent = std::stoi(sci.substr(e + 1));
  std::string mantissa = sci.substr(0, e);
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits.push_back(c);
  if (negative) out->push_back('-');
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out->append("0.").append(static_cast<size_t>(-exponent - 1), '0').append(digits);
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
      out->append(digits).append(exponent + 1 - digits.size(), '0').append(".0");
    } else {
      out->append(digits.substr(0, exponent + 1)).append(".").append(digits.substr(exponent + 1));
    }
  } else {
    out->append(digits.substr(0, 1));
    if (digits.size() > 1) out->append(".").append(digits.substr(1));
    out->append(fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent)));
  }
}

void Append(const nlohmann::ordered_json& v, std::string* out) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: out->append("null"); break;
    case nlohmann::json::value_t::boolean: out->append(v.get<bool>() ? "true" : "false"); break;
    case nlohmann::json::value_t::number_integer: out->append(std::to_string(v.get<int64_t>())); break;
    case nlohmann::json::value_t::number_unsigned: out->append(std::to_string(v.get<uint64_t>())); break;
    case nlohmann::json::value_t::number_float: AppendFloat(v.get<double>(), out); break;
    case nlohmann::json::value_t::string: AppendString(v.get_ref<const std::string&>(), out); break;
    case nlohmann::json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out->append(", ");
        first = false;
        Append(item, out);
      }
      out->push_back(']');
      break;
    }
    case nlohmann::json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out->append(", ");
        first = false;
        AppendString(key, out);
        out->append(": ");
        Append(item, out);
      }
      out->push_back('}');
      break;
    }
    default: out->append("null"); break;  // binary/discarded never come out of a JSON parse
  }
}

}  // namespace

std::string PythonJsonDumps(const nlohmann::ordered_json& value) {
  std::string out;
  Append(value, &out);
  return out;
}

}  // namespace sieve::text
