#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, write a small random DeepSeek-V3.2
# checkpoint, serve it with `sieve serve` on loopback, send one chat request with curl, print the answer
# and stop the server cleanly (SIGTERM, exit 0). The model is random, so the answer is gibberish.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh build
model=${SIEVE_DEMO_MODEL:-/tmp/sieve-demo-tiny}
[[ -f $model/config.json ]] || build/sieve make-checkpoint --out "$model" --preset tiny --seed 1
build/sieve inspect "$model"

log=$(mktemp)
build/sieve serve "$model" --port 0 --served-model-name tiny --max-model-len 1024 --kv-cache-memory 0.25 \
  --reasoning-parser deepseek-v3 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
deadline=$((SECONDS + 120))
port=""
until [[ -n $port ]] && curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)
  if ! kill -0 $server 2>/dev/null || ((SECONDS > deadline)); then cat "$log"; exit 1; fi
  sleep 0.2
done
grep -E 'sieve serve:|KV cache:' "$log"
echo "POST /v1/chat/completions on port $port:"
curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model": "tiny", "messages": [{"role": "user", "content": "What is 2 + 2?"}], "max_tokens": 16, "temperature": 0}' |
  tee /dev/stderr | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const r = JSON.parse(s); console.log("\nanswer: " + JSON.stringify(r.choices[0].message.content) +
      " (" + r.usage.completion_tokens + " tokens, finish_reason " + r.choices[0].finish_reason + ")"); })'
kill -TERM $server
wait $server
echo "server stopped cleanly (exit 0)"
trap 'rm -f "$log"' EXIT
