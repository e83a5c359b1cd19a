#!/usr/bin/env bash
# The decode GEMV prefetches its weights tile by tile (TilePrefetch in kernels/cpu/fused_dot-inl.h). A
# prefetch has no effect a test can see in the results, and GCC 12 deleted every one of them without a
# word, along with the calls of the function that issued them, for many rounds (docs/performance.md,
# round 21). This checks the built binary: each FusedDotTokens (one per SIMD target) must still issue
# prefetches, inline or through a call of TilePrefetch::Part that holds them (a compiler that does not
# inline it). x86-64 only (the instruction's name), skipped elsewhere or without objdump.
set -euo pipefail
sieve=$1
if [[ $(uname -m) != x86_64 ]]; then echo "skipped: not an x86-64 machine"; exit 0; fi
if ! command -v objdump >/dev/null; then echo "skipped: objdump not installed"; exit 0; fi
# Per FusedDotTokens (not its split-off cold parts): its prefetch instructions plus its calls of a Part.
# An out-of-line Part without a prefetch of its own fails the run.
counts=$(objdump -d --no-show-raw-insn -C "$sieve" |
  awk '/^[0-9a-f]+ <.*>:$/ {
         fn = ($0 ~ /::FusedDotTokens\(/ && $0 !~ /\[clone /) ? $0 : ""; if (fn != "") n[fn] = 0
         part = ($0 ~ /::TilePrefetch::Part\(/) ? $0 : ""; if (part != "") p[part] = 0
       }
       fn != "" && (/prefetch/ || /call.*TilePrefetch::Part\(/) { n[fn]++ }
       part != "" && /prefetch/ { p[part]++ }
       END { for (f in p) if (p[f] == 0) print "part-without-prefetch"; for (f in n) print n[f] }')
if [[ -z $counts ]]; then echo "FAIL: no FusedDotTokens in $sieve"; exit 1; fi
if grep -q part-without-prefetch <<<"$counts"; then echo "FAIL: a TilePrefetch::Part holds no prefetch"; exit 1; fi
functions=$(wc -l <<<"$counts")
empty=$(grep -cx 0 <<<"$counts" || true)
echo "FusedDotTokens: $functions functions, prefetches (or calls of TilePrefetch::Part) in each: $(tr '\n' ' ' <<<"$counts")"
if ((empty > 0)); then echo "FAIL: $empty of $functions FusedDotTokens issue no prefetch"; exit 1; fi
echo "ok"
