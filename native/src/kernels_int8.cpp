#include "kernels_int8.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#include "engine.h"  // LrpError
#include "quant_blocks.h"

namespace rw {

// ---------------------------------------------------------------- layout
// Activations (X forward, G backward), [T, K] floats -> per block of 8 tokens ("token block" tb), per group of 4
// along K ("step"): 32 bytes = 8 tokens x 4 values, so one 256-bit vector holds 4 consecutive values of 8 tokens
// (tokens are the vector lanes, as in the float kernels). Block b of 32 values = steps 8b .. 8b + 7 = 256 bytes.
// Per (tb, b): 8 scales (one per token) and 8 offsets' partners z = scale * sum of the block's int8 values.
// Tokens past T and values past K are zero.
struct QAct {
  int64_t T = 0, K = 0, Kp = 0, nb = 0, ntb = 0;
  std::vector<int8_t> q;   // [ntb][Kp / 4][8][4]
  std::vector<float> s, z; // [ntb][nb][8]
  std::vector<int32_t> qsum;  // [ntb][nb][8]: sum of the block's int8 values (the VNNI kernels' offset)
  std::vector<char> live;  // [ntb][nb]: some token's block is nonzero
};

// A weight tile for the dot kernels: element (i, j) of output row i (forward: weight row; backward: weight
// column) and reduction index j (block b = j / 32, step k = j % 32 / 4) is byte w[i * wi + (8 b + k) * wk + j % 4];
// a holds the unsigned operand of the signed kind: |w| (maddubs, sign moved onto the input) or w + 128 (VNNI,
// the offset taken off with the input's block sum: sum (w + 128) x - 128 sum x); scale and offset of (i, b): s[i * si + b * sb],
// o[i * si + b * sb] (o null: no offsets). Value = s * w + o.
struct KArgs {
  const int8_t* w;
  const uint8_t* a;
  size_t wi, wk;
  const float* s;
  const float* o;
  size_t si, sb;
  int nb;                                // blocks in the tile
  const int8_t* q[2];                    // per token vector v: the tile's first block in the packed activations
  const float* qs[2];
  const float* qz[2];
  const int32_t* qi[2];                  // the input's block sums (VNNI, signed kind)
  float* acc;                            // acc + i * lda + 8 * v: 8 token lanes
  size_t lda;
};

static inline int32_t ld32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---------------------------------------------------------------- dot kernels
// acc[i][lanes of v] += sum_b (isum(i, b, lane) * (qs * s[i, b]) [+ o[i, b] * qz]) in ascending b, where isum is the
// exact integer dot product of the block. U4: w in [0, 15] (unsigned operand as is); else signed w: with maddubs
// the unsigned operand is |w| and the sign moves onto the input (ggml's mul_sum_i8_pairs): |w| <= 128, |x| <= 127,
// so a pair is at most 32512 and never saturates; U4 pairs are at most 3810, so 8 steps add up in int16. VNNI
// (dpbusd, no intermediate saturation) takes w + 128 and subtracts 128 x the input's block sum: one instruction a
// step instead of four. All of these are the same exact integer, so every path gives the same bits.
template <int MR, int NV, bool U4>
static void dot_scalar(const KArgs& A) {
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++)
      for (int l = 0; l < 8; l++) {
        float f = A.acc[i * A.lda + 8 * v + l];
        for (int b = 0; b < A.nb; b++) {
          int32_t is = 0;
          for (int k = 0; k < 8; k++) {
            const int8_t* wp = A.w + i * A.wi + (size_t)(8 * b + k) * A.wk;
            const int8_t* xp = A.q[v] + (size_t)(8 * b + k) * 32 + 4 * l;
            for (int j = 0; j < 4; j++) is += (int32_t)wp[j] * (int32_t)xp[j];
          }
          const float p = A.qs[v][8 * b + l] * A.s[i * A.si + b * A.sb];
          f = std::fma((float)is, p, f);
          if (A.o) f = std::fma(A.o[i * A.si + b * A.sb], A.qz[v][8 * b + l], f);
        }
        A.acc[i * A.lda + 8 * v + l] = f;
      }
}

#if defined(__AVX2__)
// The x86 kernels share one body; DOT accumulates one step, FIN turns a block's accumulator into 8 int32 lanes.
#define RW_INT8_KERNEL(NAME, ATTR, DOT_U4, DOT_S8, FIN_U4, FIN_S8)                                                   \
  template <int MR, int NV, bool U4>                                                                          \
  ATTR static void NAME(const KArgs& A) {                                                                     \
    const __m256i ones = _mm256_set1_epi16(1);                                                                \
    (void)ones;                                                                                               \
    __m256 f[MR][NV];                                                                                         \
    for (int i = 0; i < MR; i++)                                                                              \
      for (int v = 0; v < NV; v++) f[i][v] = _mm256_loadu_ps(A.acc + i * A.lda + 8 * v);                      \
    for (int b = 0; b < A.nb; b++) {                                                                          \
      __m256i s[MR][NV];                                                                                      \
      for (int i = 0; i < MR; i++)                                                                            \
        for (int v = 0; v < NV; v++) s[i][v] = _mm256_setzero_si256();                                        \
      for (int k = 0; k < 8; k++) {                                                                           \
        const size_t off = (size_t)(8 * b + k) * A.wk;                                                        \
        __m256i x[NV];                                                                                        \
        for (int v = 0; v < NV; v++)                                                                          \
          x[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A.q[v] + (size_t)(8 * b + k) * 32));    \
        for (int i = 0; i < MR; i++) {                                                                        \
          const __m256i wb = _mm256_set1_epi32(ld32(A.w + i * A.wi + off));                                   \
          if (U4) {                                                                                           \
            for (int v = 0; v < NV; v++) s[i][v] = DOT_U4(s[i][v], wb, x[v]);                                 \
          } else {                                                                                            \
            const __m256i ub = _mm256_set1_epi32(ld32(A.a + i * A.wi + off));                                 \
            for (int v = 0; v < NV; v++) s[i][v] = DOT_S8(s[i][v], ub, x[v], wb);                             \
          }                                                                                                   \
        }                                                                                                     \
      }                                                                                                       \
      for (int i = 0; i < MR; i++) {                                                                          \
        const __m256 sc = _mm256_set1_ps(A.s[i * A.si + b * A.sb]);                                           \
        for (int v = 0; v < NV; v++) {                                                                        \
          const __m256i is = U4 ? FIN_U4(s[i][v]) : FIN_S8(s[i][v], v);                                       \
          const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(A.qs[v] + 8 * b), sc);                               \
          f[i][v] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), p, f[i][v]);                                      \
          if (A.o)                                                                                            \
            f[i][v] = _mm256_fmadd_ps(_mm256_set1_ps(A.o[i * A.si + b * A.sb]), _mm256_loadu_ps(A.qz[v] + 8 * b), f[i][v]); \
        }                                                                                                     \
      }                                                                                                       \
    }                                                                                                         \
    for (int i = 0; i < MR; i++)                                                                              \
      for (int v = 0; v < NV; v++) _mm256_storeu_ps(A.acc + i * A.lda + 8 * v, f[i][v]);                      \
  }

// AVX2: maddubs gives int16 pairs; U4 adds 8 steps of them in int16 (at most 8 x 3810) and widens once per
// block, the signed kind widens every step (pairs up to 32512)
#define RW_AVX2_U4(s, w, x) _mm256_add_epi16(s, _mm256_maddubs_epi16(w, x))
#define RW_AVX2_S8(s, u, x, w) _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(x, w)), ones))
#define RW_AVX2_FIN(s) _mm256_madd_epi16(s, ones)
#define RW_AVX2_FIN_S8(s, v) (s)
RW_INT8_KERNEL(dot_avx2, , RW_AVX2_U4, RW_AVX2_S8, RW_AVX2_FIN, RW_AVX2_FIN_S8)
// VNNI: dpbusd adds the four u8 x s8 products of each lane into int32 with no intermediate saturation, the same
// integers as maddubs + madd when maddubs does not saturate (never here)
#define RW_VNNI_FIN(s) (s)
#define RW_VNNI_FIN_S8(s, v) _mm256_sub_epi32(s, _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(A.qi[v] + 8 * b)), 7))
#define RW_AVXVNNI_DOT(s, u, x) _mm256_dpbusd_avx_epi32(s, u, x)
#define RW_AVXVNNI_S8(s, u, x, w) _mm256_dpbusd_avx_epi32(s, u, x)
RW_INT8_KERNEL(dot_avxvnni, __attribute__((target("avx2,fma,avxvnni"))), RW_AVXVNNI_DOT, RW_AVXVNNI_S8, RW_VNNI_FIN, RW_VNNI_FIN_S8)
#define RW_AVX512VNNI_DOT(s, u, x) _mm256_dpbusd_epi32(s, u, x)
#define RW_AVX512VNNI_S8(s, u, x, w) _mm256_dpbusd_epi32(s, u, x)
RW_INT8_KERNEL(dot_avx512vnni, __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni"))), RW_AVX512VNNI_DOT,
               RW_AVX512VNNI_S8, RW_VNNI_FIN, RW_VNNI_FIN_S8)
static inline bool offset_u8(Int8Isa isa) { return isa == Int8Isa::AvxVnni || isa == Int8Isa::Avx512Vnni; }
#else
static inline bool offset_u8(Int8Isa) { return false; }
#endif

#if defined(__ARM_NEON) && !defined(__AVX2__)
// NEON: 4 token lanes per q register (two per token vector). With the dot-product extension sdot adds 4 products per
// lane (signed x signed: w itself, no sign trick needed: w * x = |w| * sign(x, w)); without it vmull_s8 gives 8
// int16 products (two tokens) and vpadalq_s16 adds their pairs into int32, the token's two halves joined by vpaddq
// at the end of the block. The same integers as every other path.
template <int MR, int NV, bool U4>
static void dot_neon(const KArgs& A) {
  float32x4_t f[MR][NV][2];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++)
      for (int h = 0; h < 2; h++) f[i][v][h] = vld1q_f32(A.acc + i * A.lda + 8 * v + 4 * h);
  for (int b = 0; b < A.nb; b++) {
#if defined(__ARM_FEATURE_DOTPROD)
    int32x4_t s[MR][NV][2];
    for (int i = 0; i < MR; i++)
      for (int v = 0; v < NV; v++) s[i][v][0] = s[i][v][1] = vdupq_n_s32(0);
    for (int k = 0; k < 8; k++) {
      const size_t off = (size_t)(8 * b + k) * A.wk;
      int8x16_t x[NV][2];
      for (int v = 0; v < NV; v++)
        for (int h = 0; h < 2; h++) x[v][h] = vld1q_s8(A.q[v] + (size_t)(8 * b + k) * 32 + 16 * h);
      for (int i = 0; i < MR; i++) {
        const int8x16_t wb = vreinterpretq_s8_s32(vdupq_n_s32(ld32(A.w + i * A.wi + off)));
        for (int v = 0; v < NV; v++)
          for (int h = 0; h < 2; h++) s[i][v][h] = vdotq_s32(s[i][v][h], wb, x[v][h]);
      }
    }
#else
    int32x4_t pp[MR][NV][4];
    for (int i = 0; i < MR; i++)
      for (int v = 0; v < NV; v++)
        for (int h = 0; h < 4; h++) pp[i][v][h] = vdupq_n_s32(0);
    for (int k = 0; k < 8; k++) {
      const size_t off = (size_t)(8 * b + k) * A.wk;
      int8x8_t x[NV][4];
      for (int v = 0; v < NV; v++)
        for (int h = 0; h < 4; h++) x[v][h] = vld1_s8(A.q[v] + (size_t)(8 * b + k) * 32 + 8 * h);
      for (int i = 0; i < MR; i++) {
        const int8x8_t wb = vreinterpret_s8_s32(vdup_n_s32(ld32(A.w + i * A.wi + off)));
        for (int v = 0; v < NV; v++)
          for (int h = 0; h < 4; h++) pp[i][v][h] = vpadalq_s16(pp[i][v][h], vmull_s8(wb, x[v][h]));
      }
    }
    int32x4_t s[MR][NV][2];
    for (int i = 0; i < MR; i++)
      for (int v = 0; v < NV; v++)
        for (int h = 0; h < 2; h++) s[i][v][h] = vpaddq_s32(pp[i][v][2 * h], pp[i][v][2 * h + 1]);
#endif
    for (int i = 0; i < MR; i++) {
      const float sc = A.s[i * A.si + b * A.sb];
      for (int v = 0; v < NV; v++)
        for (int h = 0; h < 2; h++) {
          const float32x4_t p = vmulq_f32(vld1q_f32(A.qs[v] + 8 * b + 4 * h), vdupq_n_f32(sc));
          f[i][v][h] = vfmaq_f32(f[i][v][h], vcvtq_f32_s32(s[i][v][h]), p);
          if (A.o) f[i][v][h] = vfmaq_f32(f[i][v][h], vdupq_n_f32(A.o[i * A.si + b * A.sb]), vld1q_f32(A.qz[v] + 8 * b + 4 * h));
        }
    }
  }
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++)
      for (int h = 0; h < 2; h++) vst1q_f32(A.acc + i * A.lda + 8 * v + 4 * h, f[i][v][h]);
  (void)U4;
}
#endif

// ---------------------------------------------------------------- instruction sets
bool int8_isa_available(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::Scalar: return true;
#if defined(__AVX2__)
    case Int8Isa::Avx2: return true;
    case Int8Isa::AvxVnni: return __builtin_cpu_supports("avxvnni");
    case Int8Isa::Avx512Vnni: return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
#elif defined(__ARM_NEON)
    case Int8Isa::Neon: return true;
#endif
    default: return false;
  }
}

Int8Isa int8_best_isa() {
  static const Int8Isa best = [] {
    for (Int8Isa i : {Int8Isa::AvxVnni, Int8Isa::Avx512Vnni, Int8Isa::Avx2, Int8Isa::Neon})
      if (int8_isa_available(i)) return i;
    return Int8Isa::Scalar;
  }();
  return best;
}

const char* int8_isa_name(Int8Isa isa) {
  switch (isa) {
    case Int8Isa::Scalar: return "scalar";
    case Int8Isa::Avx2: return "avx2";
    case Int8Isa::AvxVnni: return "avxvnni";
    case Int8Isa::Avx512Vnni: return "avx512vnni";
    case Int8Isa::Neon: return "neon";
    default: return "best";
  }
}

static Int8Isa resolve(Int8Isa isa) {
  if (isa == Int8Isa::Best) return int8_best_isa();
  if (!int8_isa_available(isa)) throw LrpError(std::string("int8 kernels: instruction set not available: ") + int8_isa_name(isa));
  return isa;
}

template <int MR, int NV, bool U4>
static void dot_isa(Int8Isa isa, const KArgs& A) {
  switch (isa) {
#if defined(__AVX2__)
    case Int8Isa::Avx2: dot_avx2<MR, NV, U4>(A); return;
    case Int8Isa::AvxVnni: dot_avxvnni<MR, NV, U4>(A); return;
    case Int8Isa::Avx512Vnni: dot_avx512vnni<MR, NV, U4>(A); return;
#elif defined(__ARM_NEON)
    case Int8Isa::Neon: dot_neon<MR, NV, U4>(A); return;
#endif
    default: dot_scalar<MR, NV, U4>(A); return;
  }
}

// m (1..4) output rows of NV token vectors
template <int NV>
static void dot_rows(Int8Isa isa, bool u4, int m, const KArgs& A) {
  switch (m * 2 + (u4 ? 1 : 0)) {
    case 9: dot_isa<4, NV, true>(isa, A); break;
    case 8: dot_isa<4, NV, false>(isa, A); break;
    case 7: dot_isa<3, NV, true>(isa, A); break;
    case 6: dot_isa<3, NV, false>(isa, A); break;
    case 5: dot_isa<2, NV, true>(isa, A); break;
    case 4: dot_isa<2, NV, false>(isa, A); break;
    case 3: dot_isa<1, NV, true>(isa, A); break;
    case 2: dot_isa<1, NV, false>(isa, A); break;
    default: break;
  }
}
static const int MR = 4;  // output rows per kernel call

// ---------------------------------------------------------------- activation quantization
// one token's block of 32 (n <= 32 values, the rest zero): scale amax / 127, values round(x * 127 / amax) (ties to
// even, as _mm256_round_ps), packed into the token's lane of the 8 steps at dst (+ 32 per step)
static void quant_block_scalar(const float* x, int n, int8_t* dst, float* s, float* z, int32_t* qs) {
  float amax = 0.f;
  for (int i = 0; i < n; i++) amax = std::max(amax, std::fabs(x[i]));
  const float inv = amax > 0.f ? 127.f / amax : 0.f;
  int32_t sum = 0;
  for (int i = 0; i < 32; i++) {
    const int8_t q = i < n ? (int8_t)std::nearbyint(x[i] * inv) : 0;
    dst[(i / 4) * 32 + i % 4] = q;
    sum += q;
  }
  *s = amax / 127.f;
  *z = *s * (float)sum;
  *qs = sum;
}

#if defined(__AVX2__)
static void quant_block_avx2(const float* x, int n, int8_t* dst, float* s, float* z, int32_t* qs) {
  if (n < 32) {
    alignas(32) float buf[32] = {};
    std::memcpy(buf, x, sizeof(float) * n);
    quant_block_avx2(buf, 32, dst, s, z, qs);
    return;
  }
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 v[4], m = _mm256_setzero_ps();
  for (int k = 0; k < 4; k++) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[k]));
  }
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  const float amax = _mm_cvtss_f32(h);
  const float inv = amax > 0.f ? 127.f / amax : 0.f;
  const __m256 iv = _mm256_set1_ps(inv);
  __m256i q[4], sum = _mm256_setzero_si256();
  for (int k = 0; k < 4; k++) {
    q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], iv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    sum = _mm256_add_epi32(sum, q[k]);
  }
  // packs interleave per 128-bit lane: dword d holds values 4 g .. 4 g + 3 with g = {0, 2, 4, 6, 1, 3, 5, 7}[d]
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
  const __m256i g = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  alignas(32) int32_t out[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), g);
  for (int k = 0; k < 8; k++) std::memcpy(dst + 32 * k, &out[k], 4);
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
  *s = amax / 127.f;
  *qs = _mm_cvtsi128_si32(t);
  *z = *s * (float)*qs;
}
#endif

// X [T, K] -> QAct, tokens split over the threads in fixed ranges (each token on its own: same bits for any split)
static void quantize_acts(Pool& pool, Int8Isa isa, const float* X, int64_t T, int64_t K, QAct& a) {
  a.T = T;
  a.K = K;
  a.Kp = (K + 31) / 32 * 32;
  a.nb = a.Kp / 32;
  a.ntb = (T + 7) / 8;
  a.q.assign((size_t)a.ntb * a.Kp * 8, 0);
  a.s.assign((size_t)a.ntb * a.nb * 8, 0.f);
  a.z.assign((size_t)a.ntb * a.nb * 8, 0.f);
  a.qsum.assign((size_t)a.ntb * a.nb * 8, 0);
  a.live.assign((size_t)a.ntb * a.nb, 0);
  pool.run([&](int ith, int nth) {
    const int64_t t0 = T * ith / nth, t1 = T * (ith + 1) / nth;
    for (int64_t t = t0; t < t1; t++) {
      const int64_t tb = t / 8, l = t % 8;
      for (int64_t b = 0; b < a.nb; b++) {
        const int n = (int)std::min<int64_t>(32, K - 32 * b);
        int8_t* dst = a.q.data() + (size_t)tb * a.Kp * 8 + (size_t)b * 256 + 4 * l;
        float* s = &a.s[((size_t)tb * a.nb + b) * 8 + l];
        float* z = &a.z[((size_t)tb * a.nb + b) * 8 + l];
        int32_t* qs = &a.qsum[((size_t)tb * a.nb + b) * 8 + l];
#if defined(__AVX2__)
        if (isa != Int8Isa::Scalar) quant_block_avx2(X + t * K + 32 * b, n, dst, s, z, qs);
        else
#endif
          quant_block_scalar(X + t * K + 32 * b, n, dst, s, z, qs);
      }
    }
  });
  (void)isa;
  for (int64_t tb = 0; tb < a.ntb; tb++)
    for (int64_t b = 0; b < a.nb; b++) {
      const float* s = &a.s[((size_t)tb * a.nb + b) * 8];
      char nz = 0;
      for (int l = 0; l < 8; l++) nz |= s[l] != 0.f;
      a.live[(size_t)tb * a.nb + b] = nz;
    }
}

// ---------------------------------------------------------------- weight decoding
static inline float fp16(uint16_t h) { return ggml_fp16_to_fp32(h); }

// how a weight type's rows become int8 blocks along the columns (forward)
enum class RowKind { U4, Q8, Requant };
static RowKind row_kind(ggml_type t) {
  switch (t) {
    case GGML_TYPE_Q4_K: case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: return RowKind::U4;
    case GGML_TYPE_Q8_0: return RowKind::Q8;
    default: return RowKind::Requant;
  }
}

bool int8_takes(ggml_type t) {
  switch (t) {
    case GGML_TYPE_Q8_0: case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1:
    case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K:
      return true;
    default: return false;
  }
}

// symmetric int8 of n floats in blocks of 32 (scale amax / 127), the same rounding as the activations
static inline uint8_t unsigned_operand(int8_t w, bool off) { return off ? (uint8_t)(w + 128) : (uint8_t)std::abs((int)w); }
static void requant_row(const float* f, int64_t n, int8_t* w, uint8_t* a, float* s, float* o, bool off) {
  for (int64_t b = 0; b < n / 32; b++) {
    float amax = 0.f;
    for (int i = 0; i < 32; i++) amax = std::max(amax, std::fabs(f[32 * b + i]));
    const float inv = amax > 0.f ? 127.f / amax : 0.f;
    for (int i = 0; i < 32; i++) {
      const int8_t q = (int8_t)std::nearbyint(f[32 * b + i] * inv);
      w[32 * b + i] = q;
      a[32 * b + i] = unsigned_operand(q, off);
    }
    s[b] = amax / 127.f;
    o[b] = 0.f;
  }
}

// columns [c0, c0 + n) of row r as int8 blocks of 32 (w; |w| in a unless U4), scale s and offset o per block
// (value = s * w + o); fbuf: n floats of scratch for the requantized types
static void decode_row_int8(const Weight& W, int64_t e, int64_t r, int64_t c0, int64_t n, int8_t* w, uint8_t* a,
                            float* s, float* o, float* fbuf, bool off) {
  const uint8_t* row = W.row(e, r);
  switch (W.type) {
    case GGML_TYPE_Q4_K: {
      const BlockQ4K* x = reinterpret_cast<const BlockQ4K*>(row) + c0 / 256;
      for (int64_t bi = 0; bi < n / 256; bi++, w += 256, s += 8, o += 8) {
        const float d = fp16(x[bi].d), mn = fp16(x[bi].dmin);
        for (int j = 0; j < 8; j++) {
          uint8_t sc, m;
          scale_min_k4(j, x[bi].scales, &sc, &m);
          s[j] = d * sc;
          o[j] = -(mn * m);
        }
        // sub-blocks 2p and 2p + 1: the low and high nibbles of the same 32 bytes (constant shifts: vectorized)
        for (int p = 0; p < 4; p++) {
          const uint8_t* q = x[bi].qs + 32 * p;
          for (int k = 0; k < 32; k++) w[64 * p + k] = (int8_t)(q[k] & 0xF);
          for (int k = 0; k < 32; k++) w[64 * p + 32 + k] = (int8_t)(q[k] >> 4);
        }
      }
      return;
    }
    case GGML_TYPE_Q4_0: {
      const BlockQ40* x = reinterpret_cast<const BlockQ40*>(row) + c0 / 32;
      for (int64_t bi = 0; bi < n / 32; bi++, w += 32) {
        const float d = fp16(x[bi].d);
        s[bi] = d;
        o[bi] = -8.f * d;
        for (int k = 0; k < 16; k++) { w[k] = (int8_t)(x[bi].qs[k] & 0xF); w[k + 16] = (int8_t)(x[bi].qs[k] >> 4); }
      }
      return;
    }
    case GGML_TYPE_Q4_1: {
      const BlockQ41* x = reinterpret_cast<const BlockQ41*>(row) + c0 / 32;
      for (int64_t bi = 0; bi < n / 32; bi++, w += 32) {
        s[bi] = fp16(x[bi].d);
        o[bi] = fp16(x[bi].m);
        for (int k = 0; k < 16; k++) { w[k] = (int8_t)(x[bi].qs[k] & 0xF); w[k + 16] = (int8_t)(x[bi].qs[k] >> 4); }
      }
      return;
    }
    case GGML_TYPE_Q8_0: {
      const BlockQ80* x = reinterpret_cast<const BlockQ80*>(row) + c0 / 32;
      for (int64_t bi = 0; bi < n / 32; bi++, w += 32, a += 32) {
        s[bi] = fp16(x[bi].d);
        o[bi] = 0.f;
        std::memcpy(w, x[bi].qs, 32);
        if (off) for (int k = 0; k < 32; k++) a[k] = (uint8_t)(x[bi].qs[k] ^ 0x80);  // w + 128 (VNNI)
        else for (int k = 0; k < 32; k++) a[k] = (uint8_t)(x[bi].qs[k] < 0 ? -x[bi].qs[k] : x[bi].qs[k]);
      }
      return;
    }
    default: {
      const int64_t bs = ggml_blck_size(W.type);
      ggml_get_type_traits(W.type)->to_float(row + (c0 / bs) * ggml_type_size(W.type), fbuf, n);
      requant_row(fbuf, n, w, a, s, o, off);
      return;
    }
  }
}

// ---------------------------------------------------------------- forward: Y[t, r] = X[t, :] . W[r, :] (+ b[r])
// Work items (product, block of FRB rows) handed out dynamically; per item a float accumulator [FRB][Tp] (tokens as
// lanes) summed over column tiles of FCB in ascending blocks; the tile's rows are decoded once and used by all
// tokens. The X slice of a 16-token pair over a tile (16 x FCB bytes) stays in L1 while the rows pass over it.
static const int FRB = 64;
static const int FCB = 512;

bool matmul_fwd_n_int8(Pool& pool, const FwdProduct* ps, int n, const float* X, int64_t T, Int8Isa isa_in) {
  if (n <= 0) return true;
  const int64_t C = ps[0].W->C;
  for (int k = 0; k < n; k++) {
    if (!int8_takes(ps[k].W->type) || ps[k].W->C % 32 != 0) return false;
    if (ps[k].W->C != C) throw LrpError("matmul_fwd_n_int8: products of one input must have the same column count");
  }
  if (T <= 0) return true;
  const Int8Isa isa = resolve(isa_in);
  QAct xa;
  quantize_acts(pool, isa, X, T, C, xa);
  const int64_t Tp = xa.ntb * 8;
  std::vector<std::vector<float>> bias(n);
  for (int k = 0; k < n; k++)
    if (ps[k].bias && ps[k].bias->present()) {
      bias[k].resize(ps[k].W->R);
      dequant_row(*ps[k].bias, 0, 0, bias[k].data());
    }
  std::vector<std::pair<int, int64_t>> items;
  for (int k = 0; k < n; k++)
    for (int64_t r0 = 0; r0 < ps[k].W->R; r0 += FRB) items.emplace_back(k, r0);
  std::atomic<size_t> next{0};
  pool.run([&](int, int) {
    const int64_t cwmax = std::min<int64_t>(C, FCB), nbmax = cwmax / 32;
    std::vector<int8_t> w((size_t)FRB * cwmax);
    std::vector<uint8_t> a((size_t)FRB * cwmax);
    std::vector<float> s((size_t)FRB * nbmax), o((size_t)FRB * nbmax), fbuf(cwmax);
    std::vector<float> acc((size_t)FRB * Tp);
    for (;;) {
      const size_t it = next.fetch_add(1);
      if (it >= items.size()) break;
      const FwdProduct& P = ps[items[it].first];
      const std::vector<float>& bv = bias[items[it].first];
      const int64_t r0 = items[it].second, R = P.W->R;
      const int nr = (int)std::min<int64_t>(FRB, R - r0);
      const bool u4 = row_kind(P.W->type) == RowKind::U4;
      for (int r = 0; r < nr; r++) std::fill_n(acc.data() + (size_t)r * Tp, Tp, bv.empty() ? 0.f : bv[r0 + r]);
      for (int64_t c0 = 0; c0 < C; c0 += FCB) {
        const int64_t cw = std::min<int64_t>(FCB, C - c0), nbt = cw / 32;
        for (int r = 0; r < nr; r++)
          decode_row_int8(*P.W, P.e, r0 + r, c0, cw, w.data() + (size_t)r * cw, a.data() + (size_t)r * cw,
                          s.data() + (size_t)r * nbt, o.data() + (size_t)r * nbt, fbuf.data(), offset_u8(isa));
        for (int64_t tb = 0; tb < xa.ntb; tb += 2) {
          const int nv = (int)std::min<int64_t>(2, xa.ntb - tb);
          KArgs A;
          A.wi = (size_t)cw;
          A.wk = 4;
          A.si = (size_t)nbt;
          A.sb = 1;
          A.nb = (int)nbt;
          for (int v = 0; v < nv; v++) {
            A.q[v] = xa.q.data() + (size_t)(tb + v) * xa.Kp * 8 + (size_t)c0 * 8;
            A.qs[v] = xa.s.data() + ((size_t)(tb + v) * xa.nb + c0 / 32) * 8;
            A.qz[v] = xa.z.data() + ((size_t)(tb + v) * xa.nb + c0 / 32) * 8;
            A.qi[v] = xa.qsum.data() + ((size_t)(tb + v) * xa.nb + c0 / 32) * 8;
          }
          for (int r = 0; r < nr; r += MR) {
            A.w = w.data() + (size_t)r * cw;
            A.a = a.data() + (size_t)r * cw;
            A.s = s.data() + (size_t)r * nbt;
            A.o = o.data() + (size_t)r * nbt;
            A.acc = acc.data() + (size_t)r * Tp + tb * 8;
            A.lda = (size_t)Tp;
            const int m = std::min(MR, nr - r);
            if (nv == 2) dot_rows<2>(isa, u4, m, A);
            else dot_rows<1>(isa, u4, m, A);
          }
        }
      }
      for (int64_t t = 0; t < T; t++)
        for (int r = 0; r < nr; r++) P.Y[t * R + r0 + r] = acc[(size_t)r * Tp + t];
    }
  });
  return true;
}

// ---------------------------------------------------------------- backward: GX[t, c] += sum_r G[t, r] W[r, c]
// Work items: tiles of BCW columns (a multiple of every block size), handed out dynamically; each column is summed
// by one thread over the row blocks in ascending order, starting from GX, so the bits do not depend on the thread
// count. Per row tile (BRT rows): the rows' columns are decoded to float and requantized per 32 rows of each column
// into the kernel's layout (step-major: the 4 bytes of rows 4k..4k+3 of consecutive columns are adjacent), used
// by every token. A token block whose gradient is zero over the tile's rows is skipped.
static const int BCW = 256;
static const int BRT = 128;

// floats of rows [0, nr) (row i at f + i * ldf, columns [0, cw)) -> int8 per 32 rows of each column: w, a at
// ((8 b + k) * cw + c) * 4 + j for row 32 b + 4 k + j, scale s[b * cw + c]; nr, cw multiples of 32 and 8
static void requant_cols_scalar(const float* f, size_t ldf, int nr, int cw, int8_t* w, uint8_t* a, float* s, bool off) {
  for (int b = 0; b < nr / 32; b++)
    for (int c = 0; c < cw; c++) {
      float amax = 0.f;
      for (int r = 0; r < 32; r++) amax = std::max(amax, std::fabs(f[(size_t)(32 * b + r) * ldf + c]));
      const float inv = amax > 0.f ? 127.f / amax : 0.f;
      for (int r = 0; r < 32; r++) {
        const int8_t q = (int8_t)std::nearbyint(f[(size_t)(32 * b + r) * ldf + c] * inv);
        const size_t at = ((size_t)(8 * b + r / 4) * cw + c) * 4 + r % 4;
        w[at] = q;
        a[at] = unsigned_operand(q, off);
      }
      s[(size_t)b * cw + c] = amax / 127.f;
    }
}

#if defined(__AVX2__)
static void requant_cols_avx2(const float* f, size_t ldf, int nr, int cw, int8_t* w, uint8_t* a, float* s, bool off) {
  const __m256i x80 = _mm256_set1_epi8((char)0x80);
  const __m256 sign = _mm256_set1_ps(-0.0f), c127 = _mm256_set1_ps(127.f), zero = _mm256_setzero_ps();
  const __m256i shuf = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
                                        0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  for (int b = 0; b < nr / 32; b++)
    for (int c = 0; c < cw; c += 8) {
      const float* fb = f + (size_t)32 * b * ldf + c;
      __m256 m = zero;
      for (int r = 0; r < 32; r++) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(fb + r * ldf)));
      // inv = amax > 0 ? 127 / amax : 0 (a zero column divides to inf; masked)
      const __m256 inv = _mm256_and_ps(_mm256_cmp_ps(m, zero, _CMP_GT_OQ), _mm256_div_ps(c127, m));
      _mm256_storeu_ps(s + (size_t)b * cw + c, _mm256_div_ps(m, c127));
      for (int k = 0; k < 8; k++) {
        __m256i q[4];
        for (int j = 0; j < 4; j++)
          q[j] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(fb + (4 * k + j) * ldf), inv),
                                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        // per 128-bit lane: rows j = 0..3 of 4 columns, regrouped to 4 columns x rows 0..3
        const __m256i p = _mm256_shuffle_epi8(
            _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3])), shuf);
        const size_t at = ((size_t)(8 * b + k) * cw + c) * 4;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + at), p);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + at), off ? _mm256_xor_si256(p, x80) : _mm256_abs_epi8(p));
      }
    }
}
#endif

bool matmul_bwd_int8(Pool& pool, const Weight& W, int64_t e, const float* G, int64_t T, float* GX, Int8Isa isa_in) {
  const int64_t C = W.C, R = W.R;
  if (!int8_takes(W.type) || C % 32 != 0 || BCW % ggml_blck_size(W.type) != 0) return false;
  if (T <= 0) return true;
  const Int8Isa isa = resolve(isa_in);
  QAct ga;
  quantize_acts(pool, isa, G, T, R, ga);
  const int64_t Tp = ga.ntb * 8, Rp = ga.Kp;
  const int64_t nct = (C + BCW - 1) / BCW;
  std::atomic<int64_t> next{0};
  pool.run([&](int, int) {
    const int cwmax = (int)std::min<int64_t>(C, BCW);
    std::vector<float> f((size_t)BRT * cwmax);
    std::vector<int8_t> w((size_t)BRT * cwmax);
    std::vector<uint8_t> a((size_t)BRT * cwmax);
    std::vector<float> s((size_t)(BRT / 32) * cwmax);
    std::vector<float> acc((size_t)cwmax * Tp);  // acc[c][t]
    std::vector<char> lv(ga.ntb);
    for (;;) {
      const int64_t ct = next.fetch_add(1);
      if (ct >= nct) break;
      const int64_t c0 = ct * BCW;
      const int cw = (int)std::min<int64_t>(BCW, C - c0);
      for (int c = 0; c < cw; c++) {
        float* ac = acc.data() + (size_t)c * Tp;
        for (int64_t t = 0; t < T; t++) ac[t] = GX[t * C + c0 + c];
        std::fill(ac + T, ac + Tp, 0.f);
      }
      for (int64_t r0 = 0; r0 < Rp; r0 += BRT) {
        const int nr = (int)std::min<int64_t>(BRT, Rp - r0), nrv = (int)std::min<int64_t>(nr, R - r0);
        const int64_t b0 = r0 / 32, nbt = nr / 32;
        bool any = false;
        for (int64_t tb = 0; tb < ga.ntb; tb++) {
          char l = 0;
          for (int64_t b = b0; b < b0 + nbt; b++) l |= ga.live[(size_t)tb * ga.nb + b];
          lv[tb] = l;
          any = any || l;
        }
        if (!any) continue;
        for (int r = 0; r < nrv; r++) dequant_segment(W, e, r0 + r, c0, cw, f.data() + (size_t)r * cw);
        std::fill(f.begin() + (size_t)nrv * cw, f.begin() + (size_t)nr * cw, 0.f);
#if defined(__AVX2__)
        if (isa != Int8Isa::Scalar) requant_cols_avx2(f.data(), (size_t)cw, nr, cw, w.data(), a.data(), s.data(), offset_u8(isa));
        else
#endif
          requant_cols_scalar(f.data(), (size_t)cw, nr, cw, w.data(), a.data(), s.data(), offset_u8(isa));
        for (int64_t tb = 0; tb < ga.ntb; tb += 2) {
          const int nv = (int)std::min<int64_t>(2, ga.ntb - tb);
          if (!lv[tb] && (nv == 1 || !lv[tb + 1])) continue;
          KArgs A;
          A.wi = 4;
          A.wk = (size_t)cw * 4;
          A.si = 1;
          A.sb = (size_t)cw;
          A.o = nullptr;
          A.nb = (int)nbt;
          for (int v = 0; v < nv; v++) {
            A.q[v] = ga.q.data() + (size_t)(tb + v) * Rp * 8 + (size_t)r0 * 8;
            A.qs[v] = ga.s.data() + ((size_t)(tb + v) * ga.nb + b0) * 8;
            A.qz[v] = nullptr;
            A.qi[v] = ga.qsum.data() + ((size_t)(tb + v) * ga.nb + b0) * 8;
          }
          for (int c = 0; c < cw; c += MR) {
            A.w = w.data() + (size_t)c * 4;
            A.a = a.data() + (size_t)c * 4;
            A.s = s.data() + c;
            A.acc = acc.data() + (size_t)c * Tp + tb * 8;
            A.lda = (size_t)Tp;
            const int m = std::min(MR, cw - c);
            if (nv == 2) dot_rows<2>(isa, false, m, A);
            else dot_rows<1>(isa, false, m, A);
          }
        }
      }
      for (int64_t t = 0; t < T; t++)
        for (int c = 0; c < cw; c++) GX[t * C + c0 + c] = acc[(size_t)c * Tp + t];
    }
  });
  return true;
}

}  // namespace rw
