// Writing JSON answers and OpenAI errors into a cpp-httplib response.
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace httplib {
struct Response;
}

namespace sieve::server {

void SendJson(httplib::Response& res, const nlohmann::ordered_json& body, int status = 200);
void SendError(httplib::Response& res, const Status& status);

}  // namespace sieve::server
