#!/usr/bin/env bash
# Installs dependencies, builds, and runs the default test tier (unit + e2e), then the unit tier again
# under AddressSanitizer + UBSan, then each libFuzzer target for a bounded time. Prints ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh build
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 600)
if [[ "${SIEVE_SKIP_SANITIZERS:-0}" != 1 ]]; then
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIEVE_SANITIZE=ON -DSIEVE_BUILD_BENCH=OFF
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$(nproc)" -L unit --timeout 900)
fi
if [[ "${SIEVE_SKIP_FUZZ:-0}" != 1 ]]; then
  scripts/fuzz.sh "${SIEVE_FUZZ_SECONDS:-15}"
fi
