#!/usr/bin/env bash
# Builds the LRP addon native/build/rw_lrp.node: compiled against the ggml headers of the llama.cpp release that
# node-llama-cpp ships (native/vendor/llama.cpp, from native/scripts/llama-src.sh), linked to the prebuilt
# libggml-base.so of the installed @node-llama-cpp platform package. Incremental (make): a no-op when up to date.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
native="$root/native"
[ -f "$native/vendor/llama.cpp/ggml/include/ggml.h" ] || bash "$native/scripts/llama-src.sh"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) plat=linux-x64 ;;
  *) echo "build-native: platform $(uname -s)-$(uname -m) is not supported yet (needs linux-x64)" >&2; exit 1 ;;
esac
grep -qw avx2 /proc/cpuinfo || { echo "build-native: this CPU lacks AVX2, which the LRP kernels need" >&2; exit 1; }
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
make -s -C "$native" -j2 LIBDIR="$libdir" RPATH_REL="$rel" GGML_VERSION="$hv" GGML_COMMIT="$lc" build/rw_lrp.node
