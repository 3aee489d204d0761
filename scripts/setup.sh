#!/usr/bin/env bash
# One set-up step for a fresh machine: system packages the tests and reports need, then npm ci
# (whose postinstall extracts llama.cpp's headers and builds the native LRP addon).
# System packages are installed with apt-get when missing and we are root (or have sudo);
# otherwise the missing ones are named and the tests that need them say so.
set -euo pipefail
cd "$(dirname "$0")/.."
# g++-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user: the LRP engine's ARM64 checks (cross-built, run under
# qemu: tests/lrp/arm64.test.ts, kernels.test.ts); mingw-w64: its Windows compile check (tests/lrp/windows.test.ts);
# redis-server: the job queue's tests (tests/queue, tests/gui/workers.test.ts)
pkgs=(chromium xvfb xauth poppler-utils fonts-dejavu-core g++ make git redis-server
  g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user mingw-w64)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these system packages: ${missing[*]}" >&2
  fi
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run --silent postinstall
fi
