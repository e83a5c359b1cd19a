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
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

timeout 120 "$sieve" make-checkpoint --out "$work/tiny" --preset tiny --seed 1 >/dev/null 2>&1

# Starts a server on a free port; sets $pid and $base once /health answers (deadline 60 s).
start_server() {
  local dir=$1 log=$2
  shift 2
  "$sieve" serve "$dir" --host 127.0.0.1 --port 0 --served-model-name tiny --max-model-len 512 --max-num-seqs 64 \
    --kv-cache-memory 0.25 --threads 2 --seed 1 "$@" >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  local deadline=$((SECONDS + 60)) port=""
  while ((SECONDS < deadline)); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    if [[ -n $port ]] && curl -sf --max-time 2 "http://127.0.0.1:$port/health" >/dev/null; then
      base="http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "server exited during start-up:"; cat "$log"; return 1; }
    sleep 0.1
  done
  echo "server not ready within 60 s:"; cat "$log"; return 1
}

# SIGTERM, then the exit code must be 0 within 20 s.
stop_server() {
  local p=$1 log=$2 deadline=$((SECONDS + 20))
  kill -TERM "$p"
  while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then echo "FAIL server still running 20 s after SIGTERM"; return 1; fi
  local rc=0
  wait "$p" || rc=$?
  if ((rc != 0)); then echo "FAIL server exit code $rc after SIGTERM"; tail -5 "$log"; return 1; fi
  echo "ok   SIGTERM -> exit 0"
}

status=0
start_server "$work/tiny" "$work/main.log" --tool-call-parser deepseekv32 --reasoning-parser deepseek-v3 --enable-auto-tool-choice
timeout 300 node "$here/serve_clients.mjs" main "$base" || status=1
grep -q "POST /v1/chat/completions 200 .* id=chatcmpl-.* prompt_tokens=" "$work/main.log" \
  && echo "ok   one log line per request with timing" || { echo "FAIL no request log line"; status=1; }
# SIGTERM during a stream: the stream still ends with [DONE], and new requests get 503 meanwhile.
curl -s -N --max-time 60 "$base/v1/completions" -H 'Content-Type: application/json' \
  -d '{"model": "tiny", "prompt": "hi", "max_tokens": 60, "ignore_eos": true, "stream": true}' >"$work/drain.txt" &
curl_pid=$!
deadline=$((SECONDS + 20))
until grep -q '^data: {' "$work/drain.txt" || ((SECONDS >= deadline)); do sleep 0.05; done
stop_server "$pid" "$work/main.log" || status=1
wait "$curl_pid" || true
if [[ $(tail -c 20 "$work/drain.txt") == *"data: [DONE]"* ]]; then echo "ok   stream in flight at SIGTERM ends with [DONE]"
else echo "FAIL stream cut at SIGTERM: $(tail -c 200 "$work/drain.txt")"; status=1; fi

ln -s "$work/tiny" "$work/tiny-speciale"
start_server "$work/tiny-speciale" "$work/guarded.log" --api-key sk-test
timeout 120 node "$here/serve_clients.mjs" guarded "$base" || status=1
stop_server "$pid" "$work/guarded.log" || status=1
if ((status != 0)); then echo "--- main server log (tail)"; tail -20 "$work/main.log"; fi
exit $status
