#!/usr/bin/env bash
# Builds and runs a C++ check harness (tests/lrp/fixtures/*-check.cpp) against the engine's sources for one target:
#   x64-avx2     the objects of native/build/rw_lrp.node (AVX2/FMA/F16C), run here
#   x64-generic  the objects of native/build/rw_lrp_generic.node (portable C++), run here
#   arm64        every native/src/*.cpp but addon.cpp cross-compiled with aarch64-linux-gnu-g++ (NEON), linked to
#                node-llama-cpp's linux-arm64 libggml-base (native/scripts/arm64-ggml.sh), run under qemu-aarch64
# Usage: check.sh <target> <fixture.cpp> [args for the harness...]   (the harness's stdout is passed through)
#        check.sh --probe arm64   exit 0 when the cross tools are installed, else 3 with the reason on stdout
# The harness links native/build/<target>/libengine.a (all engine sources except the Node binding, so new kernel
# files are included without edits here), rebuilt by make when a source changes.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
native="$root/native"
arm64_missing() {
  local m=()
  command -v aarch64-linux-gnu-g++ >/dev/null || m+=("aarch64-linux-gnu-g++ (apt: g++-aarch64-linux-gnu)")
  command -v qemu-aarch64 >/dev/null || m+=("qemu-aarch64 (apt: qemu-user)")
  [ -f /usr/aarch64-linux-gnu/lib/libc.so.6 ] || m+=("/usr/aarch64-linux-gnu/lib/libc.so.6 (apt: libc6-dev-arm64-cross)")
  [ ${#m[@]} -eq 0 ] || echo "missing: ${m[*]}"
}
if [ "${1:-}" = "--probe" ]; then
  [ "${2:-}" = arm64 ] || { echo "check: --probe knows only arm64" >&2; exit 2; }
  r="$(arm64_missing)"; [ -z "$r" ] || { echo "$r"; exit 3; }
  exit 0
fi
[ $# -ge 2 ] || { echo "usage: check.sh x64-avx2|x64-generic|arm64 <fixture.cpp> [args...]" >&2; exit 2; }
target="$1" fixture="$(realpath "$2")"; shift 2
name="$(basename "$fixture" .cpp)"
inc=(-I"$native/src" -I"$native/vendor/llama.cpp/ggml/include")
case "$target" in
  x64-avx2|x64-generic)
    flav="${target#x64-}"
    bash "$native/scripts/build.sh" "build/$flav/libengine.a" >&2
    lib="$root/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
    cxx=(g++); flags=(); [ "$flav" = avx2 ] && flags=(-mavx2 -mfma -mf16c)
    out="$native/build/$flav"; runner=() ;;
  arm64)
    r="$(arm64_missing)"; [ -z "$r" ] || { echo "check: cannot build for arm64, $r" >&2; exit 3; }
    [ -f "$native/vendor/llama.cpp/ggml/include/ggml.h" ] || bash "$native/scripts/llama-src.sh" >&2
    lib="$(bash "$native/scripts/arm64-ggml.sh")"
    hv="$(sed -n 's/^set(GGML_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\))/\2/p' "$native/vendor/llama.cpp/ggml/CMakeLists.txt" | paste -sd.)"
    make -s -C "$native" -j2 BUILD=build/arm64 CXX=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar LIBDIR="$lib" \
      GGML_VERSION="$hv" GGML_COMMIT=check build/arm64/generic/libengine.a >&2
    cxx=(aarch64-linux-gnu-g++); flags=()
    out="$native/build/arm64/generic"; runner=(qemu-aarch64 -L /usr/aarch64-linux-gnu) ;;
  *) echo "check: unknown target '$target' (x64-avx2, x64-generic, arm64)" >&2; exit 2 ;;
esac
exe="$out/$name"
if [ ! -x "$exe" ] || [ "$fixture" -nt "$exe" ] || [ "$out/libengine.a" -nt "$exe" ]; then
  "${cxx[@]}" -O2 -std=c++17 -pthread "${flags[@]}" "${inc[@]}" "$fixture" "$out/libengine.a" \
    -L"$lib" -l:libggml-base.so -Wl,-rpath,"$lib" -o "$exe.tmp"
  mv "$exe.tmp" "$exe"
fi
exec "${runner[@]}" "$exe" "$@"
