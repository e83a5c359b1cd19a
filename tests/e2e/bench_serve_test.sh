#!/usr/bin/env bash
# End to end: `sieve bench serve` and `sieve eval gsm8k` against a real `sieve serve` on a tiny random
# checkpoint on 127.0.0.1. bench serve must finish with zero failures, and its token totals (plus the
# initial test request, which is request 0 sent once more) must equal the server's own counters
# (/metrics deltas of vllm:prompt_tokens_total and vllm:generation_tokens_total). eval gsm8k --limit 5
# must complete and print lm-eval's table. Against a server speculating with MTP, bench serve must print the
# Speculative Decoding block ("Acceptance length") with the server's own draft counts; without, not.
# Usage: bench_serve_test.sh PATH_TO_SIEVE
set -euo pipefail
sieve=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/sieve_server.sh"
sieve_workspace
status=0
fail() { echo "FAIL $*"; status=1; }

timeout 120 "$sieve" make-checkpoint --out "$work/tiny" --preset tiny --seed 1 >/dev/null 2>&1
# 2048 tokens fit lm-eval's 5-shot gsm8k prompts.
sieve_start_server "$work/tiny" "$work/server.log" --max-model-len 2048 --max-num-seqs 16 --kv-cache-memory 0.25 \
  --threads 2 --seed 1

counter() { curl -sf --max-time 5 "$base/metrics" | awk -v name="$1" '$1 == name || index($1, name "{") == 1 { s += $2 } END { printf "%d", s }'; }
prompt_before=$(counter vllm:prompt_tokens_total)
gen_before=$(counter vllm:generation_tokens_total)

# 1. bench serve.
rc=0
timeout 120 "$sieve" bench serve --base-url "$base" --model tiny --num-prompts 8 --random-input-len 32 \
  --random-output-len 8 --ignore-eos --max-concurrency 4 --save-result --save-detailed --result-dir "$work/results" \
  --result-filename bench.json >"$work/bench.txt" 2>"$work/bench.err" || rc=$?
cat "$work/bench.txt"
((rc == 0)) || fail "bench serve exit code $rc: $(cat "$work/bench.err")"
grep -qx 'Successful requests:                     8         ' "$work/bench.txt" || fail "not 8 successful requests"
grep -qx 'Failed requests:                         0         ' "$work/bench.txt" || fail "failed requests"
grep -qx '==================================================' "$work/bench.txt" || fail "no closing line"
prompt_delta=$(($(counter vllm:prompt_tokens_total) - prompt_before))
gen_delta=$(($(counter vllm:generation_tokens_total) - gen_before))
# The JSON's totals cover the 8 measured requests; the test request repeats request 0.
read -r json_in json_out first_in first_out < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
  console.log(r.total_input_tokens, r.total_output_tokens, r.input_lens[0], r.output_lens[0]);' "$work/results/bench.json")
echo "bench totals: input $json_in output $json_out (+ test request $first_in/$first_out); server: prompt $prompt_delta generation $gen_delta"
((json_out == 64)) || fail "total output tokens $json_out, expected 8 x 8 with ignore_eos"
((json_in + first_in == prompt_delta)) || fail "input tokens $json_in + $first_in != server prompt tokens $prompt_delta"
((json_out + first_out == gen_delta)) || fail "output tokens $json_out + $first_out != server generation tokens $gen_delta"
grep -q "^Total input tokens:  *$json_in " "$work/bench.txt" || fail "table and JSON disagree on input tokens"
grep -q 'Speculative Decoding' "$work/bench.txt" && fail "a spec-decode block without speculative decoding"

# 2. eval gsm8k on the same server (a random model scores about 0; the run must complete).
rc=0
timeout 240 "$sieve" eval gsm8k --base-url "$base" --model tiny --limit 5 --num-concurrent 5 --max-tokens 32 \
  >"$work/eval.txt" 2>"$work/eval.err" || rc=$?
cat "$work/eval.txt"
((rc == 0)) || fail "eval gsm8k exit code $rc: $(cat "$work/eval.err")"
grep -q '^|gsm8k|      3|flexible-extract|     5|exact_match|↑  |' "$work/eval.txt" || fail "no lm-eval table row"

sieve_stop_server "$pid" "$work/server.log" || status=1

# 3. bench serve against a server drafting 2 tokens per step with the MTP layer.
sieve_start_server "$work/tiny" "$work/spec.log" --max-model-len 512 --kv-cache-memory 0.25 --threads 2 \
  --speculative-config '{"method":"deepseek_mtp","num_speculative_tokens":2}'
drafts_before=$(counter vllm:spec_decode_num_drafts_total)
rc=0
timeout 120 "$sieve" bench serve --base-url "$base" --model tiny --num-prompts 4 --random-input-len 16 \
  --random-output-len 8 --ignore-eos >"$work/spec.txt" 2>"$work/spec.err" || rc=$?
cat "$work/spec.txt"
((rc == 0)) || fail "bench serve (speculative) exit code $rc: $(cat "$work/spec.err")"
grep -q '^Acceptance length:  *[0-9.]* *$' "$work/spec.txt" || fail "no Acceptance length row"
# The block counts the measured run only; the server's counter also saw the test request.
drafts=$(sed -n 's/^Drafts:  *\([0-9]*\) *$/\1/p' "$work/spec.txt")
draft_tokens=$(sed -n 's/^Draft tokens:  *\([0-9]*\) *$/\1/p' "$work/spec.txt")
server_drafts=$(($(counter vllm:spec_decode_num_drafts_total) - drafts_before))
echo "spec decode: bench drafts $drafts (draft tokens $draft_tokens), server drafts $server_drafts incl. the test request"
((drafts > 0 && draft_tokens == 2 * drafts && drafts <= server_drafts)) || fail "spec-decode counts"
sieve_stop_server "$pid" "$work/spec.log" || status=1
((status == 0)) && echo "ok   bench serve and eval gsm8k against sieve serve"
exit $status
