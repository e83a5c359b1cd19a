#!/usr/bin/env bash
# End to end: `sieve serve` with MTP speculative decoding (vLLM's and SGLang's flags) on a tiny random
# checkpoint: greedy completions equal those of a server without speculation, /metrics carries vLLM's
# spec_decode counters, and invalid flag combinations exit 2 with a message before loading anything.
# Usage: spec_decode_test.sh PATH_TO_SIEVE
set -euo pipefail
sieve=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/sieve_server.sh"
sieve_workspace
timeout 120 "$sieve" make-checkpoint --out "$work/tiny" --preset tiny --seed 2 >/dev/null 2>&1
status=0

start_server() {  # LOG [flags...]: a server on the tiny checkpoint; sets $pid and $base
  local log=$1
  shift
  sieve_start_server "$work/tiny" "$log" --max-model-len 256 --kv-cache-memory 0.05 --threads 2 --seed 1 "$@"
}

# Greedy completions of three prompts, their token texts concatenated.
complete_all() {
  for prompt in "The quick brown fox" "1, 2, 3, 4," "Once upon a time"; do
    curl -s --max-time 60 "$base/v1/completions" -H 'Content-Type: application/json' \
      -d "{\"model\": \"tiny\", \"prompt\": \"$prompt\", \"max_tokens\": 24, \"temperature\": 0, \"ignore_eos\": true}" |
      sed -n 's/.*"text":"\([^"]*\)".*/\1/p'
  done
}

start_server "$work/plain.log"
plain=$(complete_all)
sieve_stop_server "$pid" "$work/plain.log" || status=1

for flags in "--speculative-config {\"method\":\"deepseek_mtp\",\"num_speculative_tokens\":2}" \
             "--speculative-algorithm EAGLE --speculative-num-steps 3 --speculative-eagle-topk 1 --speculative-num-draft-tokens 4"; do
  # shellcheck disable=SC2086
  start_server "$work/spec.log" $flags
  spec=$(complete_all)
  if [[ -n $plain && $spec == "$plain" ]]; then echo "ok   greedy output equal with $flags"
  else echo "FAIL greedy output differs with $flags"; status=1; fi
  metrics=$(curl -s --max-time 10 "$base/metrics")
  for name in vllm:spec_decode_num_drafts_total vllm:spec_decode_num_draft_tokens_total \
              vllm:spec_decode_num_accepted_tokens_total 'vllm:spec_decode_num_accepted_tokens_per_pos_total{.*position="1"'; do
    if grep -q "^$name" <<<"$metrics"; then echo "ok   /metrics has $name"; else echo "FAIL /metrics lacks $name"; status=1; fi
  done
  sieve_stop_server "$pid" "$work/spec.log" || status=1
done

expect_usage_error() {
  local want=$1
  shift
  local rc=0 out
  out=$("$sieve" serve "$work/tiny" --threads 1 "$@" 2>&1) || rc=$?
  if ((rc == 2)) && grep -q -- "$want" <<<"$out"; then echo "ok   rejected: $want"
  else echo "FAIL expected exit 2 with '$want', got $rc: $out"; status=1; fi
}
expect_usage_error "--speculative-eagle-topk must be 1" --speculative-algorithm EAGLE --speculative-num-steps 2 --speculative-eagle-topk 4
expect_usage_error "--speculative-num-draft-tokens" --speculative-algorithm EAGLE --speculative-num-steps 2 --speculative-num-draft-tokens 5
expect_usage_error "must be in \[1, 16\]" --speculative-config '{"method":"deepseek_mtp","num_speculative_tokens":40}'
exit $status
