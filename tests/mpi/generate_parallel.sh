#!/usr/bin/env bash
# `sieve generate` under a real mpirun equals the single-process run and the official fp32 greedy tokens
# (tiny-dsv32-a, prompt_1: 40 tokens, so decode steps really select keys with the summed index scores), and
# a layout that does not fit the processes is one error line and a non-zero exit, not a hang.
# Usage: generate_parallel.sh SIEVE MPIEXEC NP LAYOUT-FLAGS...   (exit 77: fixture absent, skipped)
set -euo pipefail
sieve=$1 mpiexec=$2 np=$3
shift 3
fixture=${SIEVE_SOURCE_DIR}/../shared/fixtures/tiny-dsv32-a
if [ ! -d "$fixture" ]; then
  echo "../shared/fixtures/tiny-dsv32-a not present; test skipped"
  exit 77
fi
prompt=0,216,537,285,654,1098,243,1630,496,1610,653,1625,1974,1962,541,1138,904,523,1249,1837,1768,1323,1769,1062,1382,1956,1352,98,1507,1513,457,1776,354,1615,1782,989,125,334,1400,87
golden="990 881 911 1454 1640 1257 1714 1384 250 50 586 526 1685 769 197 340"  # golden/fp32_logits gen_tokens_1
args=(generate --model "$fixture/checkpoint" --prompt-ids "$prompt" --max-tokens 16 --threads 1)

t0=$(date +%s.%N)
one=$("$sieve" "${args[@]}")
t1=$(date +%s.%N)
many=$("$mpiexec" -np "$np" "$sieve" "${args[@]}" "$@")
t2=$(date +%s.%N)
echo "one process: $one ($(echo "$t1 - $t0" | bc) s); np $np $*: $many ($(echo "$t2 - $t1" | bc) s)"
[ "$one" = "$golden" ] || { echo "FAIL: one process gives '$one', golden '$golden'"; exit 1; }
[ "$many" = "$one" ] || { echo "FAIL: np $np gives '$many', one process '$one'"; exit 1; }

# A bad layout: one tensor-parallel rank more than the processes.
bad_err=$(mktemp)
trap 'rm -f "$bad_err"' EXIT
if "$mpiexec" -np "$np" "$sieve" "${args[@]}" --tp $((np + 1)) >/dev/null 2>"$bad_err"; then
  echo "FAIL: --tp $((np + 1)) on $np processes succeeded"
  exit 1
fi
lines=$(grep -c '^sieve: ' "$bad_err" || true)
cat "$bad_err"
[ "$lines" = 1 ] || { echo "FAIL: expected one 'sieve: ' error line, got $lines"; exit 1; }
grep -q "needs $((np + 1)) processes, but mpirun started $np" "$bad_err" || { echo "FAIL: unexpected message"; exit 1; }

# --no-mmap would copy the whole checkpoint into every rank: a usage error (exit 2) under mpirun.
rc=0
"$mpiexec" -np "$np" "$sieve" "${args[@]}" "$@" --no-mmap >/dev/null 2>"$bad_err" || rc=$?
cat "$bad_err"
[ "$rc" != 0 ] || { echo "FAIL: --no-mmap on $np processes succeeded"; exit 1; }
lines=$(grep -c '^sieve: ' "$bad_err" || true)
[ "$lines" = 1 ] || { echo "FAIL: expected one 'sieve: ' error line for --no-mmap, got $lines"; exit 1; }
grep -q "no-mmap copies the whole checkpoint into every process; under mpirun ($np processes)" "$bad_err" ||
  { echo "FAIL: unexpected --no-mmap message"; exit 1; }
echo "PASS"
