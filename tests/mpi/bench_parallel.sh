#!/usr/bin/env bash
# `sieve bench latency|throughput` under a real mpirun (each replica's first rank runs an engine, the
# others follow its model calls in lock-step): both finish with exit 0 and their result lines, with
# --tensor-parallel-size 2, with --enable-expert-parallel, and with TP=2 x DP=2 on 4 processes (rank 0
# prints once); the latency bench's all-reduced bytes equal the analytic count; an error after the
# followers started (the engine refuses a flag) is one error line and a non-zero exit, not a hang.
# Usage: bench_parallel.sh SIEVE MPIEXEC
set -euo pipefail
sieve=$(realpath "$1")
mpiexec=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timeout 120 "$sieve" make-checkpoint --out "$work/tiny" --preset tiny --seed 4 >/dev/null 2>&1
common=(--model "$work/tiny" --threads 1 --probe-mib 16 --kv-cache-memory 0.05)
status=0

run() {  # EXPECTED-LINE FLAGS...: exit 0 and EXPECTED-LINE on stdout within 120 s
  local want=$1 rc=0
  shift
  timeout 120 "$mpiexec" -np "${np:-2}" "$sieve" "$@" >"$work/out.txt" 2>&1 || rc=$?
  if ((rc == 0)) && grep -q "$want" "$work/out.txt"; then echo "ok   -np ${np:-2} $*"
  else echo "FAIL (exit $rc) $*"; tail -5 "$work/out.txt"; status=1; fi
}
# The input runs past the tiny preset's index_topk, so the indexer's score all-reduces count too.
run "^Avg latency" bench latency "${common[@]}" --tp 2 --batch-size 2 --input-len 40 --output-len 8 --num-iters 2 --num-iters-warmup 1
# What rank 0 all-reduced in the last run equals the analytic count (model/step_communication.h).
communication_matches() {
  local line measured analytic
  line=$(grep '^Communication' "$work/out.txt" || true)
  measured=$(sed -n 's/.*all-reduced \([0-9]*\) bytes;.*/\1/p' <<<"$line")
  analytic=$(sed -n 's/.*analytic \([0-9]*\) bytes.*/\1/p' <<<"$line")
  if [[ -n $measured && $measured == "$analytic" ]]; then echo "ok   communication: $line"
  else echo "FAIL communication line: '$line'"; status=1; fi
}
communication_matches
run "^Throughput" bench throughput "${common[@]}" --tp 2 --enable-expert-parallel --num-prompts 4 --input-len 8 --output-len 8

refused() {  # MESSAGE FLAGS...: one 'sieve: ' line with MESSAGE and a non-zero exit within 60 s
  local want=$1 rc=0
  shift
  timeout 60 "$mpiexec" -np 2 "$sieve" "$@" >"$work/out.txt" 2>&1 || rc=$?
  if ((rc != 0 && rc != 124)) && [[ $(grep -c '^sieve: ' "$work/out.txt") == 1 ]] && grep -q -- "$want" "$work/out.txt"; then
    echo "ok   refused: $want (exit $rc)"
  else echo "FAIL (exit $rc) $*"; cat "$work/out.txt"; status=1; fi
}
refused "exceeds the model's max_position_embeddings" bench throughput "${common[@]}" --tp 2 --max-model-len 999999999
# TP=2 x DP=2 on 4 processes: each replica runs the batch (latency) or its share of the prompts
# (throughput) on its own engine, rank 0 prints once.
dp=(--tensor-parallel-size 2 --data-parallel-size 2 --enable-expert-parallel)
np=4 run "^Avg latency" bench latency "${common[@]}" "${dp[@]}" --batch-size 2 --input-len 40 --output-len 8 --num-iters 2 --num-iters-warmup 1
[[ $(grep -c "^Avg latency" "$work/out.txt") == 1 ]] || { echo "FAIL more than one rank printed"; status=1; }
communication_matches
np=4 run "^Throughput" bench throughput "${common[@]}" "${dp[@]}" --num-prompts 5 --input-len 8 --output-len 8
grep -q "^Total num output tokens:  40$" "$work/out.txt" || { echo "FAIL throughput totals"; tail -5 "$work/out.txt"; status=1; }
exit $status
