#!/usr/bin/env bash
# Compile-only check of the engine for Windows x64: every native/src/*.cpp (the Node binding included, against
# the node-api headers in /usr/include/node) with Debian's mingw-w64 cross compiler, once per flavour (avx2 and
# generic, as the Makefile builds them on Linux). Nothing is linked (that needs node.lib and a Windows ggml); the
# Windows build proper is native/CMakeLists.txt with MSVC or clang-cl (see native/README.md "Platforms").
# Exit 0 when everything compiles; 3 with the reason when the cross compiler is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
native="$root/native"
cxx=""
for c in x86_64-w64-mingw32-g++-posix x86_64-w64-mingw32-g++; do command -v "$c" >/dev/null && { cxx="$c"; break; }; done
[ -n "$cxx" ] || { echo "missing: x86_64-w64-mingw32-g++ (apt: mingw-w64)"; exit 3; }
[ -f /usr/include/node/node_api.h ] || { echo "missing: /usr/include/node/node_api.h (apt: libnode-dev)"; exit 3; }
[ -f "$native/vendor/llama.cpp/ggml/include/ggml.h" ] || bash "$native/scripts/llama-src.sh" >&2
hv="$(sed -n 's/^set(GGML_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\))/\2/p' "$native/vendor/llama.cpp/ggml/CMakeLists.txt" | paste -sd.)"
for flav in avx2 generic; do
  out="$native/build/win-x64/$flav"
  mkdir -p "$out"
  flags=(); [ "$flav" = avx2 ] && flags=(-mavx2 -mfma -mf16c)
  for src in "$native"/src/*.cpp; do
    "$cxx" -O2 -std=c++17 -Wall -Wno-unused-function -D__USE_MINGW_ANSI_STDIO=1 "${flags[@]}" \
      -I"$native/vendor/llama.cpp/ggml/include" -I/usr/include/node -DNAPI_VERSION=8 \
      -DRW_GGML_VERSION="\"$hv\"" -DRW_GGML_COMMIT='"windows-check"' -c "$src" -o "$out/$(basename "$src" .cpp).obj"
  done
  echo "win-x64 $flav: compiled $(ls "$native"/src/*.cpp | wc -l) files with $cxx"
done
