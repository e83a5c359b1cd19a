#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, write a small random DeepSeek-V3.2
# checkpoint, and run Sieve on it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh build
model=${SIEVE_DEMO_MODEL:-/tmp/sieve-demo-tiny}
[[ -f $model/config.json ]] || build/sieve make-checkpoint --out "$model" --preset tiny --seed 1
build/sieve inspect "$model"

# Serve it on loopback, ask one chat question with curl, print the answer, stop the server cleanly.
log=$(mktemp)
build/sieve serve "$model" --host 127.0.0.1 --port 0 --served-model-name demo --max-model-len 1024 \
  --kv-cache-memory 0.25 >"$log" 2>&1 &
pid=$!
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
deadline=$((SECONDS + 120))
port=""
until [[ -n $port ]] && curl -sf --max-time 2 "http://127.0.0.1:$port/health" >/dev/null; do
  if ((SECONDS >= deadline)) || ! kill -0 "$pid" 2>/dev/null; then
    echo "sieve serve did not become ready:"; cat "$log"; exit 1
  fi
  sleep 0.2
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
done
grep -E "sieve serve:|KV cache:" "$log" | sed 's/^/server: /'
answer=$(curl -sf --max-time 120 "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model": "demo", "messages": [{"role": "user", "content": "Hello! Who are you?"}], "max_tokens": 24}')
echo "$answer" | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
  const j = JSON.parse(s);
  console.log("answer (random weights, so noise):", JSON.stringify(j.choices[0].message.content));
  console.log("usage:", JSON.stringify(j.usage)); });'
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
echo "sieve serve exited with $rc"
exit $rc
