# Shared by the e2e and stress scripts (source it): start `sieve serve` on a free loopback port, stop it.
# The caller sets $sieve (the binary) and calls sieve_workspace first.

# sieve_workspace: a temporary folder $work and a list $pids of started servers; on exit every server
# still running is killed with -9 and the folder is removed.
sieve_workspace() {
  work=$(mktemp -d)
  pids=()
  trap sieve_cleanup EXIT
}
sieve_cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}

# sieve_start_server MODEL_DIR LOG [serve flags...]: sets $pid and $base once /health answers (60 s).
sieve_start_server() {
  local dir=$1 log=$2
  shift 2
  : >"$log"  # exists before the background start, so the port probe never races its creation
  "$sieve" serve "$dir" --host 127.0.0.1 --port 0 --served-model-name tiny "$@" >"$log" 2>&1 &
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

# sieve_stop_server PID LOG: SIGTERM, then the exit code must be 0 within 20 s.
sieve_stop_server() {
  local p=$1 log=$2 deadline=$((SECONDS + 20))
  kill -TERM "$p"
  while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then echo "FAIL server still running 20 s after SIGTERM"; return 1; fi
  local rc=0
  wait "$p" || rc=$?
  if ((rc != 0)); then echo "FAIL server exit code $rc after SIGTERM"; tail -5 "$log"; return 1; fi
  echo "ok   SIGTERM -> exit 0"
}
