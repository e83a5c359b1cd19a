#!/usr/bin/env bash
# Reproduces the table of docs/performance.md: every figure is a median of >= 5 runs, shown as a fraction
# of the limits (read bandwidth, FP32 FMA peak) measured in the same run.
#   bench/perf_table.sh BUILD_DIR MODEL_DIR [OUT_DIR] [THREADS]
# MODEL_DIR: e.g. `sieve make-checkpoint --preset small --out /tmp/sieve-model-small`.
# Set PREFILL_LEN (default 2048), OUTPUT_LEN (default 33: 32 decode steps) and CONTEXTS (default
# 1024,32768) to shorten a run on a slow machine.
set -euo pipefail
build=${1:?build dir}; model=${2:?model dir}; out=${3:-perf-out}; threads=${4:-0}
prefill_len=${PREFILL_LEN:-2048}; output_len=${OUTPUT_LEN:-33}; contexts=${CONTEXTS:-1024,32768}
sieve="$build/sieve"
mkdir -p "$out"
common=(--model "$model" --threads "$threads" --num-iters-warmup 1 --num-iters 5)

echo "== batch-1 decode (16-token prompt, $output_len tokens out)"
"$sieve" bench latency "${common[@]}" --batch-size 1 --input-len 16 --output-len "$output_len" --output-json "$out/b1.json" \
  2>"$out/b1.log" | tee "$out/b1.txt" | grep -E "^(Machine|Prefill|Decode)"
echo "== batch-16 decode (same prompts and lengths)"
"$sieve" bench latency "${common[@]}" --batch-size 16 --input-len 16 --output-len "$output_len" --output-json "$out/b16.json" \
  2>"$out/b16.log" | tee "$out/b16.txt" | grep -E "^(Machine|Decode)"
echo "== prefill of $prefill_len tokens"
"$sieve" bench latency "${common[@]}" --batch-size 1 --input-len "$prefill_len" --output-len 1 --output-json "$out/prefill.json" \
  2>"$out/prefill.log" | tee "$out/prefill.txt" | grep -E "^(Machine|Prefill)"
echo "== decode at long context, DSA vs dense attention (contexts $contexts)"
"$build/bench/long_context_bench" --model "$model" --threads "$threads" --runs 5 --contexts "$contexts" | tee "$out/long_context.txt"
echo "== load time of the model (ready to serve, warm page cache; 5 runs)"
for i in 1 2 3 4 5; do
  "$sieve" bench latency --model "$model" --threads "$threads" --batch-size 1 --input-len 1 --output-len 1 \
    --num-iters-warmup 0 --num-iters 1 --probe-mib 16 2>/dev/null | grep -oE "model load [0-9.]+ s"
done | sort -t' ' -k3 -n | sed -n 3p | sed 's/^/median /'
