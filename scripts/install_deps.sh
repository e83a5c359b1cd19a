#!/usr/bin/env bash
# Installs Sieve's build and test dependencies from Debian 12's apt (and, through npm, the e2e test
# clients; see tests/e2e/package.json).
set -euo pipefail
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
PKGS=(cmake ninja-build g++ pkg-config libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
      libcpp-httplib-dev libpcre2-dev libhwy-dev libdnnl-dev libfmt-dev libspdlog-dev libcli11-dev libssl-dev
      zlib1g-dev curl ca-certificates clang libclang-rt-14-dev libopenmpi-dev openmpi-bin
      ocl-icd-opencl-dev)
# ocl-icd-opencl-dev: Debian's oneDNN is built with its OpenCL GPU runtime, so its CMake package asks for
# OpenCL (a Recommends, which --no-install-recommends skips).
# Node.js with npm (Debian's nodejs + npm; a nodejs build that bundles npm is fine as it is).
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The e2e tests' node clients (the official openai SDK, pinned by tests/e2e/package-lock.json).
e2e_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/e2e"
if [[ -f $e2e_dir/package-lock.json && ! -d $e2e_dir/node_modules/openai ]]; then
  (cd "$e2e_dir" && npm ci --no-audit --no-fund >/dev/null)
fi
