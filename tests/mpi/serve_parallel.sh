#!/usr/bin/env bash
# `sieve serve` under a real mpirun (lock-step serving, engine/lock_step_model.h) on a random tiny
# checkpoint: greedy completions, n = 2 greedy choices (copy-on-write blocks) and a streamed chat give exactly
# the text of a single-process server, with --tensor-parallel-size 2 and with --enable-expert-parallel too;
# SIGTERM to rank 0 drains and every process exits 0, SIGTERM to mpirun ends the whole job within a
# bound; with --data-parallel-size 2 on 4 processes each replica serves the same text on its own port, also
# while both are busy, every rank reports its memory at start-up, and SIGTERM to one replica stops the job; speculative decoding with DP = 2 and a
# missing checkpoint are one error line and a non-zero exit.
# Usage: serve_parallel.sh SIEVE MPIEXEC
set -euo pipefail
sieve_bin=$(realpath "$1")
mpiexec=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/sieve_server.sh"
sieve_workspace
timeout 120 "$sieve_bin" make-checkpoint --out "$work/tiny" --preset tiny --seed 3 >/dev/null 2>&1
# sieve_start_server runs "$sieve serve ...": this launcher puts two ranks under mpirun.
printf '#!/bin/sh\nexec %s -np 2 %s "$@"\n' "$mpiexec" "$sieve_bin" >"$work/mpi_sieve"
chmod +x "$work/mpi_sieve"
status=0
serve_flags=(--max-model-len 256 --kv-cache-memory 0.05 --threads 1 --seed 1)

# Everything the servers must agree on, one line per request.
outputs() {
  for prompt in "The quick brown fox" "1, 2, 3, 4," "Once upon a time"; do
    curl -s --max-time 120 "$base/v1/completions" -H 'Content-Type: application/json' \
      -d "{\"model\": \"tiny\", \"prompt\": \"$prompt\", \"max_tokens\": 24, \"temperature\": 0, \"ignore_eos\": true}" |
      sed -n 's/.*"text":"\([^"]*\)".*/\1/p'
  done
  curl -s --max-time 120 "$base/v1/completions" -H 'Content-Type: application/json' \
    -d '{"model": "tiny", "prompt": "Two choices", "max_tokens": 16, "n": 2, "temperature": 0, "ignore_eos": true}' |
    grep -o '"text":"[^"]*"' | tr '\n' ' '
  echo
  curl -s -N --max-time 120 "$base/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"model": "tiny", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 20, "temperature": 0, "stream": true}' |
    grep -o '"content":"[^"]*"' | tr -d '\n'
  echo
}

# The pid of the job's rank 0 (the process whose environment says so).
rank0_pid() {
  for p in $(pgrep -f -- "$sieve_bin serve $work/tiny"); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=0'; then echo "$p"; return; fi
  done
}

# True when no process of the job is left, within `seconds`.
job_gone() {
  local seconds=$1 deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    pgrep -f -- "$sieve_bin serve $work/tiny" >/dev/null || return 0
    sleep 0.2
  done
  return 1
}

sieve=$sieve_bin
sieve_start_server "$work/tiny" "$work/one.log" "${serve_flags[@]}"
one=$(outputs)
sieve_stop_server "$pid" "$work/one.log" || status=1
echo "one process:"
echo "$one"
[[ $one == *'"text":'* && $one == *'"content":'* ]] || { echo "FAIL single-process outputs incomplete"; status=1; }

sieve=$work/mpi_sieve
for flags in "--tensor-parallel-size 2" "--tensor-parallel-size 2 --enable-expert-parallel"; do
  # shellcheck disable=SC2086
  sieve_start_server "$work/tiny" "$work/mpi.log" "${serve_flags[@]}" $flags
  grep -q "TP=2 DP=1" "$work/mpi.log" && echo "ok   banner shows the layout ($flags)" || { echo "FAIL no layout in the banner"; status=1; }
  [[ $(grep -c "listening on" "$work/mpi.log") == 1 ]] || { echo "FAIL more than one rank listens"; status=1; }
  many=$(outputs)
  if [[ $many == "$one" ]]; then echo "ok   same outputs as one process with $flags"
  else echo "FAIL outputs differ with $flags:"; echo "$many"; status=1; fi
  if [[ $flags == *expert* ]]; then
    # SIGTERM to mpirun: it ends every rank.
    kill -TERM "$pid"
    if job_gone 30; then echo "ok   SIGTERM to mpirun ends every process"; else echo "FAIL processes left 30 s after SIGTERM to mpirun"; status=1; fi
  else
    # SIGTERM to rank 0: it drains, stops the followers, and mpirun exits 0.
    r0=$(rank0_pid)
    [[ -n $r0 ]] || { echo "FAIL rank 0 not found"; status=1; }
    kill -TERM "$r0"
    rc=0
    if job_gone 30; then wait "$pid" || rc=$?; else rc=timeout; fi
    if [[ $rc == 0 ]]; then echo "ok   SIGTERM to rank 0: every rank exits 0"
    else echo "FAIL SIGTERM to rank 0: $rc"; tail -5 "$work/mpi.log"; status=1; fi
  fi
done

# Data-parallel attention on 4 processes: two replicas of TP=2, experts split 4 ways, each replica with its
# own HTTP server. Both serve the single-process text, also while the other is busy with its own requests
# (the MoE all-to-alls meet every step; an idle replica steps empty).
printf '#!/bin/sh\nexec %s -np 4 %s "$@"\n' "$mpiexec" "$sieve_bin" >"$work/mpi_sieve4"
chmod +x "$work/mpi_sieve4"
sieve=$work/mpi_sieve4
dp_flags="--tensor-parallel-size 2 --data-parallel-size 2 --enable-expert-parallel"
# shellcheck disable=SC2086
sieve_start_server "$work/tiny" "$work/dp.log" "${serve_flags[@]}" $dp_flags
for _ in $(seq 100); do [[ $(grep -c "listening on" "$work/dp.log") == 2 ]] && break; sleep 0.1; done
mapfile -t dp_ports < <(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\) (data-parallel replica [01] of 2).*/\1/p' "$work/dp.log")
if [[ ${#dp_ports[@]} == 2 ]]; then echo "ok   two replicas listen (ports ${dp_ports[*]})"
else echo "FAIL expected two replicas listening:"; cat "$work/dp.log"; status=1; fi
# Each rank's memory at start-up: its checkpoint slices (less than the whole) and its replica's KV cache.
if [[ $(grep -c '^memory: rank [0-3] .*checkpoint slices .* GiB of .* GiB (\([0-8][0-9]\|9[0-9]\)\.[0-9]%.*KV cache 0\.0[0-9][0-9] GiB' "$work/dp.log") == 4 ]]; then
  echo "ok   memory report: one line per rank"
else echo "FAIL memory report:"; grep memory "$work/dp.log"; status=1; fi
clients=()
for i in 0 1; do
  (base="http://127.0.0.1:${dp_ports[$i]:-0}"; outputs >"$work/dp_out$i") &
  clients+=($!)
done
wait "${clients[@]}"
for i in 0 1; do
  got=$(cat "$work/dp_out$i")
  if [[ $got == "$one" ]]; then echo "ok   replica $i: same outputs as one process (both replicas busy at once)"
  else echo "FAIL replica $i outputs differ:"; echo "$got"; status=1; fi
done
# SIGTERM to rank 0 only: its replica drains, the other replica follows, and every rank exits 0.
r0=$(rank0_pid)
kill -TERM "$r0"
rc=0
if job_gone 60; then wait "$pid" || rc=$?; else rc=timeout; fi
if [[ $rc == 0 ]] && grep -q "another data-parallel replica stopped" "$work/dp.log"; then
  echo "ok   SIGTERM to rank 0 with DP=2: both replicas stop, every rank exits 0"
else echo "FAIL SIGTERM to rank 0 with DP=2: $rc"; tail -5 "$work/dp.log"; status=1; fi
rc=0
# shellcheck disable=SC2086
timeout 60 "$work/mpi_sieve4" serve "$work/tiny" --port 0 --threads 1 $dp_flags \
  --speculative-config '{"method":"deepseek_mtp","num_speculative_tokens":1}' >"$work/dp_spec.log" 2>&1 || rc=$?
if ((rc != 0 && rc != 124)) && [[ $(grep -c '^sieve: ' "$work/dp_spec.log") == 1 ]] && grep -q "not supported yet" "$work/dp_spec.log"; then
  echo "ok   speculative decoding with --data-parallel-size 2: one error line, exit $rc"
else echo "FAIL speculative decoding with DP=2: exit $rc"; cat "$work/dp_spec.log"; status=1; fi
sieve=$work/mpi_sieve
# A start-up error on rank 0 releases the followers: one line, a non-zero exit, no hang.
rc=0
timeout 60 "$work/mpi_sieve" serve "$work/missing" --port 0 --tensor-parallel-size 2 >"$work/bad.log" 2>&1 || rc=$?
if ((rc != 0 && rc != 124)) && [[ $(grep -c '^sieve: ' "$work/bad.log") == 1 ]]; then
  echo "ok   missing checkpoint under mpirun: one error line, exit $rc"
else echo "FAIL missing checkpoint under mpirun: exit $rc"; cat "$work/bad.log"; status=1; fi
exit $status
