#!/usr/bin/env bash
# End to end: `sieve serve` on a tiny random checkpoint (real tokenizer) on 127.0.0.1, driven by the
# official openai npm SDK (serve_clients.mjs): chat with thinking on/off, streaming with usage, a tool
# round trip, completions, lm-eval-shaped requests, 64 concurrent streams, disconnect, bad requests.
# Then a second server with --api-key on a Speciale-named folder. Each server must exit 0 on SIGTERM.
# Usage: serve_test.sh PATH_TO_SIEVE
set -euo pipefail
sieve=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -d $here/node_modules/openai ]]; then
  (cd "$here" && timeout 300 npm ci --no-audit --no-fund >/dev/null) || { echo "npm install failed"; exit 1; }
fi
source "$here/../lib/sieve_server.sh"
sieve_workspace

timeout 120 "$sieve" make-checkpoint --out "$work/tiny" --preset tiny --seed 1 >/dev/null 2>&1

status=0
sieve_start_server "$work/tiny" "$work/main.log" --max-model-len 512 --max-num-seqs 64 \
  --kv-cache-memory 0.25 --threads 2 --seed 1 --tool-call-parser deepseekv32 --reasoning-parser deepseek-v3 --enable-auto-tool-choice
timeout 300 node "$here/serve_clients.mjs" main "$base" || status=1
grep -q "POST /v1/chat/completions 200 .* id=chatcmpl-.* prompt_tokens=" "$work/main.log" \
  && echo "ok   one log line per request with timing" || { echo "FAIL no request log line"; status=1; }
# SIGTERM during a stream: the stream still ends with [DONE], and new requests get 503 meanwhile.
curl -s -N --max-time 60 "$base/v1/completions" -H 'Content-Type: application/json' \
  -d '{"model": "tiny", "prompt": "hi", "max_tokens": 60, "ignore_eos": true, "stream": true}' >"$work/drain.txt" &
curl_pid=$!
deadline=$((SECONDS + 20))
until grep -q '^data: {' "$work/drain.txt" || ((SECONDS >= deadline)); do sleep 0.05; done
sieve_stop_server "$pid" "$work/main.log" || status=1
wait "$curl_pid" || true
if [[ $(tail -c 20 "$work/drain.txt") == *"data: [DONE]"* ]]; then echo "ok   stream in flight at SIGTERM ends with [DONE]"
else echo "FAIL stream cut at SIGTERM: $(tail -c 200 "$work/drain.txt")"; status=1; fi

ln -s "$work/tiny" "$work/tiny-speciale"
sieve_start_server "$work/tiny-speciale" "$work/guarded.log" --max-model-len 512 --max-num-seqs 64 \
  --kv-cache-memory 0.25 --threads 2 --seed 1 --api-key sk-test
timeout 120 node "$here/serve_clients.mjs" guarded "$base" || status=1
sieve_stop_server "$pid" "$work/guarded.log" || status=1
if ((status != 0)); then echo "--- main server log (tail)"; tail -20 "$work/main.log"; fi
exit $status
