#!/usr/bin/env bash
# Builds the LRP addons native/build/rw_lrp.node (x86-64 AVX2) and rw_lrp_generic.node: compiled against the ggml headers of the llama.cpp release that
# node-llama-cpp ships (native/vendor/llama.cpp, from native/scripts/llama-src.sh), linked to the prebuilt
# libggml-base.so of the installed @node-llama-cpp platform package. Incremental (make): a no-op when up to date.
# Extra arguments are more make targets (native/scripts/check.sh asks for build/<flavour>/libengine.a).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
native="$root/native"
[ -f "$native/vendor/llama.cpp/ggml/include/ggml.h" ] || bash "$native/scripts/llama-src.sh"
# x86-64: two addons from the same sources, AVX2/FMA/F16C and the portable one (main/lrp/index.ts loads the first
# only on a CPU that has all three; building them needs no such CPU); ARM64: one, NEON. macOS and Windows build
# with native/CMakeLists.txt (cmake-js) instead.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) plat=linux-x64; flavours="avx2 generic" ;;
  Linux-aarch64) plat=linux-arm64; flavours="generic" ;;
  *) echo "build-native: this script builds on Linux x86-64 and ARM64; on $(uname -s)-$(uname -m) use native/CMakeLists.txt (npx cmake-js, see native/README.md)" >&2; exit 1 ;;
esac
libdir="$root/node_modules/@node-llama-cpp/$plat/bins/$plat"
[ -f "$libdir/libggml-base.so" ] || { echo "build-native: $libdir/libggml-base.so not found (is node-llama-cpp installed?)" >&2; exit 1; }
hv="$(sed -n 's/^set(GGML_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\))/\2/p' "$native/vendor/llama.cpp/ggml/CMakeLists.txt" | paste -sd.)"
mkdir -p "$native/build"
# ask the prebuilt library which ggml it is; the headers' version must be the same
probe="$native/build/ggml-probe"
if [ ! -x "$probe" ] || [ "$libdir/libggml-base.so" -nt "$probe" ]; then
  printf '#include <stdio.h>\nconst char* ggml_version(void); const char* ggml_commit(void);\nint main(void){printf("%%s %%s\\n", ggml_version(), ggml_commit()); return 0;}\n' > "$native/build/ggml-probe.c"
  cc -o "$probe" "$native/build/ggml-probe.c" -L"$libdir" -l:libggml-base.so -Wl,-rpath,"$libdir"
fi
read -r lv lc < <("$probe")
if [ "$lv" != "$hv" ]; then
  echo "build-native: header ggml version $hv (native/vendor/llama.cpp) differs from the prebuilt library's $lv ($libdir); re-run native/scripts/llama-src.sh" >&2
  exit 1
fi
rel="$(realpath --relative-to="$native/build" "$libdir")"
make -s -C "$native" -j2 LIBDIR="$libdir" RPATH_REL="$rel" GGML_VERSION="$hv" GGML_COMMIT="$lc" FLAVOURS="$flavours" all "$@"
