#!/usr/bin/env bash
# Prints the directory holding node-llama-cpp's linux-arm64 ggml build (libggml-base.so for aarch64), for the
# ARM64 checks under qemu (native/scripts/check.sh arm64). The installed optional package when npm put it in
# node_modules, else `npm pack` of @node-llama-cpp/linux-arm64 at the version of the installed linux-x64 package
# (the same llama.cpp release as the headers), unpacked once into .cache/arm64/. Not a dependency of the app.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
inst="$root/node_modules/@node-llama-cpp/linux-arm64/bins/linux-arm64"
ver="$(node -p "require('$root/node_modules/@node-llama-cpp/linux-x64/package.json').version")"
if [ -f "$inst/libggml-base.so" ] && [ "$(node -p "require('$root/node_modules/@node-llama-cpp/linux-arm64/package.json').version")" = "$ver" ]; then
  echo "$inst"; exit 0
fi
cache="$root/.cache/arm64/$ver"
lib="$cache/package/bins/linux-arm64"
if [ ! -f "$lib/libggml-base.so" ]; then
  mkdir -p "$cache"
  tgz="$(cd "$cache" && npm pack --silent "@node-llama-cpp/linux-arm64@$ver" | tail -1)"
  tar -xzf "$cache/$tgz" -C "$cache"
  rm -f "$cache/$tgz"
fi
[ -f "$lib/libggml-base.so" ] || { echo "arm64-ggml: no libggml-base.so in @node-llama-cpp/linux-arm64@$ver" >&2; exit 1; }
echo "$lib"
