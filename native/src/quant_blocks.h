// ggml's quantized block layouts the engine decodes itself (kernels.cpp's float decoders, kernels_int8.cpp's
// integer rows), and Q4_K's packed 6-bit sub-block scales: one definition for both.
#pragma once
#include <cstdint>

namespace rw {

struct BlockQ4K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
static_assert(sizeof(BlockQ4K) == 144, "block_q4_K layout");
struct BlockQ80 { uint16_t d; int8_t qs[32]; };
static_assert(sizeof(BlockQ80) == 34, "block_q8_0 layout");
struct BlockQ40 { uint16_t d; uint8_t qs[16]; };
static_assert(sizeof(BlockQ40) == 18, "block_q4_0 layout");
struct BlockQ41 { uint16_t d, m; uint8_t qs[16]; };
static_assert(sizeof(BlockQ41) == 20, "block_q4_1 layout");

// scale and min of Q4_K sub-block j (ggml's get_scale_min_k4)
static inline void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) { *d = q[j] & 63; *m = q[j + 4] & 63; }
  else { *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4); *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
}

}  // namespace rw
