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
