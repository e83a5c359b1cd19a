// The small endpoints around generation, with vLLM's response shapes: GET /v1/models, /version,
// /tokenizer_info (lm-eval probes it before using the server's tokenizer), POST /tokenize, /detokenize
// (lm-eval's `remote` tokenizer and `vllm bench serve`'s prompt fitting use them), GET /metrics.
#pragma once

#include <httplib.h>

#include "server/server_state.h"

namespace sieve::server {

void HandleModels(httplib::Response& res, const ServingContext& context);
void HandleVersion(httplib::Response& res);
void HandleTokenizerInfo(httplib::Response& res, const ServingContext& context);
void HandleTokenize(const httplib::Request& req, httplib::Response& res, const ServingContext& context);
void HandleDetokenize(const httplib::Request& req, httplib::Response& res, const ServingContext& context);
void HandleMetrics(httplib::Response& res, ServerState& state);

}  // namespace sieve::server
