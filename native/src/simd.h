// The engine's vector lanes, one ISA per build, chosen at COMPILE time (the build makes one addon per ISA and
// main/lrp/index.ts picks one at run time, see native/README.md "Platforms"):
//   RW_SIMD_AVX2    x86-64 built with -mavx2 -mfma -mf16c: vf8 is an __m256 and every operation below is the
//                   one intrinsic the kernels used before this layer existed (same instructions, same bits)
//   RW_SIMD_NEON    ARM64 (NEON is part of the baseline): vf8 is two float32x4_t, fused multiply-adds
//   RW_SIMD_SCALAR  anything else (x86-64 without AVX2, ...): vf8 is 8 plain floats; the compiler vectorizes
//                   with whatever the baseline has (SSE2 on x86-64)
// The kernels (kernels.h, kernels.cpp) are written once on vf8, so their loop and summation orders, which the
// determinism rules depend on, exist once. What differs per ISA is only the arithmetic of a lane: a fused or
// an unfused multiply-add (the scalar path rounds a*b and a*b+c separately: a library fmaf without hardware FMA
// costs ~50x), and the order of the 8 lanes' horizontal sum.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

// MSVC defines only __AVX2__ for /arch:AVX2, which also enables the FMA and F16C instructions
#if defined(__AVX2__) && ((defined(__FMA__) && defined(__F16C__)) || defined(_MSC_VER))
#define RW_SIMD_AVX2 1
#include <immintrin.h>
#elif defined(__ARM_NEON) || defined(__ARM_NEON__)
#define RW_SIMD_NEON 1
#include <arm_neon.h>
#else
#define RW_SIMD_SCALAR 1
#endif

// switches off contraction of a * b - c into one fused operation in a function body (the decoders must round
// each product and difference separately to equal ggml's to_float bit for bit)
#if defined(__clang__)
#define RW_NO_CONTRACT
#define RW_NO_CONTRACT_BODY _Pragma("clang fp contract(off)")
#elif defined(__GNUC__)
#define RW_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#define RW_NO_CONTRACT_BODY
#else
#define RW_NO_CONTRACT
#define RW_NO_CONTRACT_BODY  // MSVC: /fp:precise does not contract
#endif

namespace rw {

// which lanes this build uses: "avx2" | "neon" | "scalar" (the addon exports it as `kernels`)
#if RW_SIMD_AVX2
constexpr const char* kSimdName = "avx2";
#elif RW_SIMD_NEON
constexpr const char* kSimdName = "neon";
#else
constexpr const char* kSimdName = "scalar";
#endif

static inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
static inline float bits_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// IEEE half <-> float. half -> float is exact; float -> half rounds to nearest even (as F16C's _cvtss_sh(x, 0)).
// Scalar versions: the FP16 library's (Maratyszcza), which ggml also uses on CPUs without conversion instructions.
#if RW_SIMD_AVX2
static inline float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
static inline uint16_t f32_to_f16(float f) { return _cvtss_sh(f, 0); }
#elif RW_SIMD_NEON
// through the vector conversions (MSVC for ARM64 has no __fp16 type); rounding: FPCR's default, to nearest even
static inline float f16_to_f32(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }
static inline uint16_t f32_to_f16(float f) { return vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(f))), 0); }
#else
static inline float f16_to_f32(uint16_t h) {
  const uint32_t w = (uint32_t)h << 16, sign = w & 0x80000000u, two_w = w + w;
  const float normalized = bits_f32((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  const float denormalized = bits_f32((two_w >> 17) | (126u << 23)) - 0.5f;
  return bits_f32(sign | (two_w < (1u << 27) ? f32_bits(denormalized) : f32_bits(normalized)));
}
static inline uint16_t f32_to_f16(float f) {
  float base = (std::fabs(f) * 0x1.0p+112f) * 0x1.0p-110f;
  const uint32_t w = f32_bits(f), shl1_w = w + w, sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = bits_f32((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = f32_bits(base);
  const uint32_t nonsign = ((bits >> 13) & 0x00007C00u) + (bits & 0x00000FFFu);
  return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}
#endif

// ---------------------------------------------------------------- 8 float lanes
#if RW_SIMD_AVX2
typedef __m256 vf8;
static inline vf8 v_zero() { return _mm256_setzero_ps(); }
static inline vf8 v_set1(float x) { return _mm256_set1_ps(x); }
static inline vf8 v_bcast(const float* p) { return _mm256_broadcast_ss(p); }
static inline vf8 v_load(const float* p) { return _mm256_loadu_ps(p); }
static inline void v_store(float* p, vf8 a) { _mm256_storeu_ps(p, a); }
static inline vf8 v_add(vf8 a, vf8 b) { return _mm256_add_ps(a, b); }
static inline vf8 v_sub(vf8 a, vf8 b) { return _mm256_sub_ps(a, b); }
static inline vf8 v_mul(vf8 a, vf8 b) { return _mm256_mul_ps(a, b); }
static inline vf8 v_div(vf8 a, vf8 b) { return _mm256_div_ps(a, b); }
static inline vf8 v_fmadd(vf8 a, vf8 b, vf8 c) { return _mm256_fmadd_ps(a, b, c); }    // a * b + c
static inline vf8 v_fnmadd(vf8 a, vf8 b, vf8 c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a * b
// min/max with x86's NaN rule: the second operand when either is NaN
static inline vf8 v_min(vf8 a, vf8 b) { return _mm256_min_ps(a, b); }
static inline vf8 v_max(vf8 a, vf8 b) { return _mm256_max_ps(a, b); }
static inline vf8 v_round(vf8 a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// a * 2^h * 2^(n - h), h = n >> 1, for integral n in [-128, 128] (two factors keep 2^128 and 2^-127 representable)
static inline vf8 v_scale2(vf8 a, vf8 n) {
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i h = _mm256_srai_epi32(ni, 1);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), _mm256_set1_epi32(127)), 23));
  return _mm256_mul_ps(_mm256_mul_ps(a, s1), s2);
}
static inline float v_hsum(vf8 s) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}
#elif RW_SIMD_NEON
struct vf8 { float32x4_t lo, hi; };
static inline vf8 v_zero() { return {vdupq_n_f32(0.f), vdupq_n_f32(0.f)}; }
static inline vf8 v_set1(float x) { return {vdupq_n_f32(x), vdupq_n_f32(x)}; }
static inline vf8 v_bcast(const float* p) { const float32x4_t b = vld1q_dup_f32(p); return {b, b}; }
static inline vf8 v_load(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
static inline void v_store(float* p, vf8 a) { vst1q_f32(p, a.lo); vst1q_f32(p + 4, a.hi); }
static inline vf8 v_add(vf8 a, vf8 b) { return {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)}; }
static inline vf8 v_sub(vf8 a, vf8 b) { return {vsubq_f32(a.lo, b.lo), vsubq_f32(a.hi, b.hi)}; }
static inline vf8 v_mul(vf8 a, vf8 b) { return {vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)}; }
static inline vf8 v_div(vf8 a, vf8 b) { return {vdivq_f32(a.lo, b.lo), vdivq_f32(a.hi, b.hi)}; }
static inline vf8 v_fmadd(vf8 a, vf8 b, vf8 c) { return {vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)}; }
static inline vf8 v_fnmadd(vf8 a, vf8 b, vf8 c) { return {vfmsq_f32(c.lo, a.lo, b.lo), vfmsq_f32(c.hi, a.hi, b.hi)}; }
// NEON's fmin/fmax return NaN when either operand is NaN (what the exp's clamp needs: NaN kept)
static inline vf8 v_min(vf8 a, vf8 b) { return {vminq_f32(a.lo, b.lo), vminq_f32(a.hi, b.hi)}; }
static inline vf8 v_max(vf8 a, vf8 b) { return {vmaxq_f32(a.lo, b.lo), vmaxq_f32(a.hi, b.hi)}; }
static inline vf8 v_round(vf8 a) { return {vrndnq_f32(a.lo), vrndnq_f32(a.hi)}; }
static inline float32x4_t scale2_4(float32x4_t a, float32x4_t n) {
  const int32x4_t ni = vcvtnq_s32_f32(n), h = vshrq_n_s32(ni, 1), b = vdupq_n_s32(127);
  const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(h, b), 23));
  const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(ni, h), b), 23));
  return vmulq_f32(vmulq_f32(a, s1), s2);
}
static inline vf8 v_scale2(vf8 a, vf8 n) { return {scale2_4(a.lo, n.lo), scale2_4(a.hi, n.hi)}; }
static inline float v_hsum(vf8 s) { return vaddvq_f32(vaddq_f32(s.lo, s.hi)); }
#else
struct vf8 { float v[8]; };
#define RW_LANES(expr) \
  vf8 r;               \
  for (int i = 0; i < 8; i++) r.v[i] = (expr); \
  return r
static inline vf8 v_zero() { RW_LANES(0.f); }
static inline vf8 v_set1(float x) { RW_LANES(x); }
static inline vf8 v_bcast(const float* p) { RW_LANES(*p); }
static inline vf8 v_load(const float* p) { RW_LANES(p[i]); }
static inline void v_store(float* p, vf8 a) { for (int i = 0; i < 8; i++) p[i] = a.v[i]; }
static inline vf8 v_add(vf8 a, vf8 b) { RW_LANES(a.v[i] + b.v[i]); }
static inline vf8 v_sub(vf8 a, vf8 b) { RW_LANES(a.v[i] - b.v[i]); }
static inline vf8 v_mul(vf8 a, vf8 b) { RW_LANES(a.v[i] * b.v[i]); }
static inline vf8 v_div(vf8 a, vf8 b) { RW_LANES(a.v[i] / b.v[i]); }
static inline vf8 v_fmadd(vf8 a, vf8 b, vf8 c) { RW_LANES(a.v[i] * b.v[i] + c.v[i]); }
static inline vf8 v_fnmadd(vf8 a, vf8 b, vf8 c) { RW_LANES(c.v[i] - a.v[i] * b.v[i]); }
// x86's rule (the second operand when either is NaN), so the exp's clamp keeps a NaN
static inline vf8 v_min(vf8 a, vf8 b) { RW_LANES(a.v[i] < b.v[i] ? a.v[i] : b.v[i]); }
static inline vf8 v_max(vf8 a, vf8 b) { RW_LANES(a.v[i] > b.v[i] ? a.v[i] : b.v[i]); }
// nearest, ties to even, for |a| < 2^22 (the exp's n is within [-128, 128]); NaN stays NaN
static inline vf8 v_round(vf8 a) { RW_LANES((a.v[i] + 12582912.f) - 12582912.f); }
static inline vf8 v_scale2(vf8 a, vf8 n) {
  vf8 r;
  for (int i = 0; i < 8; i++) {
    const int ni = n.v[i] == n.v[i] ? (int)n.v[i] : 0, h = ni >> 1;
    r.v[i] = a.v[i] * bits_f32((uint32_t)(h + 127) << 23) * bits_f32((uint32_t)(ni - h + 127) << 23);
  }
  return r;
}
static inline float v_hsum(vf8 s) {
  return ((s.v[0] + s.v[4]) + (s.v[2] + s.v[6])) + ((s.v[1] + s.v[5]) + (s.v[3] + s.v[7]));
}
#undef RW_LANES
#endif

// ---------------------------------------------------------------- accumulator lanes of the AVX2/NEON matmul kernel
// (the scalar build has its own in kernels.cpp's lane_kernel: double accumulators, see there)
typedef vf8 acc8;
static inline acc8 acc_load(const float* p) { return v_load(p); }
static inline void acc_store(float* p, acc8 a) { v_store(p, a); }
static inline acc8 acc_fmadd(vf8 a, vf8 b, acc8 c) { return v_fmadd(a, b, c); }

}  // namespace rw
