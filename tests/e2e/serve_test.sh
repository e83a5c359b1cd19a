#!/usr/bin/env bash
# End-to-end test of `sieve serve`: a tiny random checkpoint from `sieve make-checkpoint`, a real server on
# 127.0.0.1 (any free port, read back from its banner), the official openai npm SDK and raw requests
# (tests/e2e/serve_clients.mjs), then SIGTERM, which must exit 0. Usage: serve_test.sh SIEVE_BINARY
set -euo pipefail
sieve=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if [[ ! -d $here/node_modules/openai ]]; then
  (cd "$here" && timeout 300 npm install --no-audit --no-fund --loglevel=error)
fi

"$sieve" make-checkpoint --out "$work/tiny" --preset tiny --seed 1 >/dev/null

# Small context and cache so the limits are easy to reach; 2 compute threads (the CI box is small).
"$sieve" serve "$work/tiny" --port 0 --served-model-name tiny --api-key sk-e2e \
  --tool-call-parser deepseekv32 --reasoning-parser deepseek-v3 --enable-auto-tool-choice \
  --max-model-len 512 --max-num-seqs 64 --kv-cache-memory 0.25 --threads 2 --seed 0 \
  --max-request-body-bytes 1048576 --shutdown-timeout 10 >"$work/server.log" 2>&1 &
server_pid=$!

# Readiness: the banner names the port, then /health answers; both against one deadline.
deadline=$((SECONDS + 120))
port=""
until [[ -n $port ]]; do
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -n 1)
  if ! kill -0 "$server_pid" 2>/dev/null || ((SECONDS > deadline)); then
    echo "server did not start:"; cat "$work/server.log"; exit 1
  fi
  [[ -n $port ]] || sleep 0.2
done
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
  ((SECONDS > deadline)) && { echo "no /health"; cat "$work/server.log"; exit 1; }
  sleep 0.2
done

status=0
timeout 300 node "$here/serve_clients.mjs" "http://127.0.0.1:$port" || status=1

# curl streams SSE too: the first event is the role chunk, the last is [DONE].
sse=$(curl -sN -H 'Authorization: Bearer sk-e2e' -H 'Content-Type: application/json' \
  -d '{"model":"tiny","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stream":true,"ignore_eos":true}' \
  "http://127.0.0.1:$port/v1/chat/completions")
grep -q '^data: {.*"role":"assistant"' <<<"$(head -n 1 <<<"$sse")" || { echo "FAIL curl SSE first chunk: $sse"; status=1; }
[[ $(grep '^data:' <<<"$sse" | tail -n 1) == "data: [DONE]" ]] || { echo "FAIL curl SSE end: $sse"; status=1; }

# Graceful stop: SIGTERM -> exit 0.
kill -TERM "$server_pid"
set +e
wait "$server_pid"
code=$?
set -e
server_pid=""
if [[ $code -ne 0 ]]; then echo "FAIL server exit code $code after SIGTERM"; status=1; fi
grep -q 'POST /v1/chat/completions 200' "$work/server.log" || { echo "FAIL no request log line"; status=1; }
if grep -q 'sk-e2e' "$work/server.log"; then echo "FAIL the API key appears in the log"; status=1; fi
[[ $status -eq 0 ]] || { echo "--- server log (tail)"; tail -n 40 "$work/server.log"; }
exit $status
