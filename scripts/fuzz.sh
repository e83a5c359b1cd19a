#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time on its corpus
# (fuzz/corpus/<name>/). Exits non-zero on any crash or sanitizer report. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIEVE_FUZZ=ON >/dev/null
targets=$(for f in fuzz/*_fuzz.cpp; do basename "$f" .cpp; done)
cmake --build build-fuzz -j "$(nproc)" --target $targets
for bin in build-fuzz/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  corpus=fuzz/corpus/$name
  work=$(mktemp -d)
  [[ -d $corpus ]] && cp -r "$corpus"/. "$work"/
  echo "fuzz: $name for ${seconds}s"
  # A finding is written to build-fuzz/artifacts/ (reproduce: "$bin" FILE), never into the source tree.
  mkdir -p build-fuzz/artifacts
  "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=build-fuzz/artifacts/"$name"- "$work" 2>&1 | tail -n 3
  rm -rf "$work"
done
echo "fuzz: all targets ran without a crash"
