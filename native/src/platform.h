// What the engine needs from the operating system, in one place: a read-only mapping of a whole model file and
// the machine's physical memory. POSIX (Linux, macOS) through mmap/sysconf, Windows through CreateFileMapping /
// GlobalMemoryStatusEx (compiled with mingw-w64 here; see native/README.md "Platforms").
#pragma once
#include <cstddef>

// printf-style format checking where the compiler has it (GCC, clang; mingw-w64 needs gnu_printf for %zu, which
// its C99 stdio handles); nothing for MSVC
#if defined(__MINGW32__)
#define RW_PRINTF_FORMAT(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__) || defined(__clang__)
#define RW_PRINTF_FORMAT(f, a) __attribute__((format(printf, f, a)))
#else
#define RW_PRINTF_FORMAT(f, a)
#endif

namespace rw {

// Maps the file at path (UTF-8) read-only and shared; returns its address and size, or nullptr with *failed set to
// the step that failed ("open" or "mmap").
void* map_file(const char* path, size_t* size, const char** failed);
void unmap_file(void* p, size_t size);
// bytes of physical memory, or 0 when the system does not say
double physical_memory_bytes();
// true on an x86-64 CPU (and OS) with AVX2, FMA and F16C: the condition for loading the avx2 build. The portable
// build answers it (main/lrp/index.ts asks before loading rw_lrp.node); false on every other CPU.
bool cpu_has_avx2_fma_f16c();

}  // namespace rw
