#include "platform.h"

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <immintrin.h>
#include <intrin.h>
#endif

namespace rw {

bool cpu_has_avx2_fma_f16c() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
  int r[4];
  __cpuid(r, 1);
  const bool fma = r[2] & (1 << 12), osxsave = r[2] & (1 << 27), avx = r[2] & (1 << 28), f16c = r[2] & (1 << 29);
  if (!(fma && osxsave && avx && f16c) || (_xgetbv(0) & 6) != 6) return false;  // the OS saves the ymm registers
  __cpuidex(r, 7, 0);
  return r[1] & (1 << 5);
#else
  return false;
#endif
}

}  // namespace rw

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <string>

namespace rw {

void* map_file(const char* path, size_t* size, const char** failed) {
  *failed = "open";
  const int n = MultiByteToWideChar(CP_UTF8, 0, path, -1, nullptr, 0);
  if (n <= 0) return nullptr;
  std::wstring w((size_t)n, L'\0');
  MultiByteToWideChar(CP_UTF8, 0, path, -1, &w[0], n);
  HANDLE f = CreateFileW(w.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) return nullptr;
  LARGE_INTEGER sz;
  *failed = "mmap";
  if (!GetFileSizeEx(f, &sz) || sz.QuadPart == 0) { CloseHandle(f); return nullptr; }
  HANDLE m = CreateFileMappingW(f, nullptr, PAGE_READONLY, 0, 0, nullptr);
  CloseHandle(f);  // the mapping object keeps the file open
  if (!m) return nullptr;
  void* p = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
  CloseHandle(m);  // the view keeps the mapping alive
  if (!p) return nullptr;
  *size = (size_t)sz.QuadPart;
  *failed = nullptr;
  return p;
}

void unmap_file(void* p, size_t) {
  if (p) UnmapViewOfFile(p);
}

double physical_memory_bytes() {
  MEMORYSTATUSEX s;
  s.dwLength = sizeof(s);
  return GlobalMemoryStatusEx(&s) ? (double)s.ullTotalPhys : 0.0;
}

}  // namespace rw

#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rw {

void* map_file(const char* path, size_t* size, const char** failed) {
  *failed = "open";
  const int fd = ::open(path, O_RDONLY);
  if (fd < 0) return nullptr;
  struct stat st;
  *failed = "mmap";
  if (fstat(fd, &st) != 0) { ::close(fd); return nullptr; }
  void* p = mmap(nullptr, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file
  if (p == MAP_FAILED) return nullptr;
  *size = (size_t)st.st_size;
  *failed = nullptr;
  return p;
}

void unmap_file(void* p, size_t size) {
  if (p) munmap(p, size);
}

double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? (double)pages * (double)page : 0.0;
}

}  // namespace rw
#endif
