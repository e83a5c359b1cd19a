// vLLM's tokenizer endpoints (vllm/entrypoints/openai/serving_tokenization.py shapes):
//   POST /tokenize {"prompt" | "messages", "add_special_tokens"?} -> {"count", "max_model_len", "tokens"}
//   POST /detokenize {"tokens"} -> {"prompt"}
//   GET /tokenizer_info -> {"eos_token", "bos_token", ...}: lm-eval's local-completions probes these
//   two before falling back to downloading a tokenizer, which fails offline.
#pragma once

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace sieve::server {

struct ServerState;

void HandleTokenize(ServerState& state, const httplib::Request& req, httplib::Response& res);
void HandleDetokenize(ServerState& state, const httplib::Request& req, httplib::Response& res);
void HandleTokenizerInfo(ServerState& state, const httplib::Request& req, httplib::Response& res);

}  // namespace sieve::server
