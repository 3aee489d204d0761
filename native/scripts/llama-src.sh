#!/usr/bin/env bash
# Extracts the llama.cpp source that node-llama-cpp ships (as a git bundle) into native/vendor/llama.cpp.
# The native LRP addon compiles against these headers (same release as the prebuilt ggml it links), and
# tests use the vocab-only GGUFs of real tokenizers under native/vendor/llama.cpp/models/.
# Idempotent: does nothing when the checkout already matches the bundle's commit.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bundle="$root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
dest="$root/native/vendor/llama.cpp"
[ -f "$bundle" ] || { echo "llama-src: $bundle not found (run npm ci first)" >&2; exit 1; }
want="$(git bundle list-heads "$bundle" | head -n1 | cut -d' ' -f1)"
if [ -d "$dest/.git" ] && [ "$(git -C "$dest" rev-parse HEAD)" = "$want" ]; then exit 0; fi
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
git -c advice.detachedHead=false clone -q "$bundle" "$dest"
git -C "$dest" -c advice.detachedHead=false checkout -q "$want"
echo "llama-src: extracted llama.cpp $(git -C "$dest" rev-parse --short HEAD) into native/vendor/llama.cpp"
