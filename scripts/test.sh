#!/usr/bin/env bash
# Installs dependencies, builds, and runs the default test tier (unit + e2e), then the unit tier again
# under AddressSanitizer + UBSan, then each libFuzzer target for a bounded time. Ends with one summary
# line over every ctest run: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh build
logs=$(mktemp -d)
status=0
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 600) 2>&1 | tee "$logs/release.log" || status=1
if [[ "${SIEVE_SKIP_SANITIZERS:-0}" != 1 ]]; then
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIEVE_SANITIZE=ON -DSIEVE_BUILD_BENCH=OFF
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$(nproc)" -L unit --timeout 900) 2>&1 | tee "$logs/asan.log" || status=1
fi
if [[ "${SIEVE_SKIP_FUZZ:-0}" != 1 ]]; then
  scripts/fuzz.sh "${SIEVE_FUZZ_SECONDS:-15}" || status=1
fi
# ctest prints "NN% tests passed, F tests failed out of T" per run.
read -r passed failed < <(cat "$logs"/*.log | awk '/tests passed, [0-9]+ tests? failed out of/ {
  for (i = 1; i <= NF; i++) { if ($i == "failed") f += $(i - 1); if ($i == "of") t += $(i + 1) } }
  END { printf "%d %d\n", t - f, f }')
rm -rf "$logs"
echo "tests: $passed passed, $failed failed"
exit $status
