#include "kernels.h"
#include "engine.h"  // LrpError
#include "kernels_int8.h"
#include "quant_blocks.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

namespace rw {

// ---------------------------------------------------------------- pool
Pool::Pool(int n) : n_(std::max(1, n)) {
  for (int i = 1; i < n_; i++) threads_.emplace_back([this, i] { worker(i); });
}

Pool::~Pool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    gen_++;
  }
  cv_start_.notify_all();
  for (auto& t : threads_) t.join();
}

void Pool::worker(int ith) {
  long seen = 0;
  for (;;) {
    const std::function<void(int, int)>* fn;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_start_.wait(lk, [&] { return gen_ != seen; });
      seen = gen_;
      if (stop_) return;
      fn = fn_;
    }
    std::exception_ptr err;
    try {
      (*fn)(ith, n_);
    } catch (...) {
      err = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (err && !error_) error_ = err;
      if (--pending_ == 0) cv_done_.notify_one();
    }
  }
}

void Pool::run(const std::function<void(int, int)>& fn) {
  if (n_ == 1) {
    fn(0, 1);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = &fn;
    error_ = nullptr;
    pending_ = n_ - 1;
    gen_++;
  }
  cv_start_.notify_all();
  std::exception_ptr err;
  try {
    fn(0, n_);
  } catch (...) {
    err = std::current_exception();
  }
  std::unique_lock<std::mutex> lk(mu_);
  cv_done_.wait(lk, [&] { return pending_ == 0; });  // the workers still use fn and the caller's data
  if (!err) err = error_;
  error_ = nullptr;
  lk.unlock();
  if (err) std::rethrow_exception(err);
}

// ---------------------------------------------------------------- dequantization
static const int CB = 512;   // backward: weight columns per tile (a multiple of every block size: 1, 32, 256)

// Q4_K rows (AVX2, NEON or scalar), bit-identical to ggml's scalar reference dequantize_row_q4_K (y = d1 * q - m1 per
// element, each rounded separately: contraction into an FMA is switched off for this function).
#if RW_SIMD_AVX2
RW_NO_CONTRACT
static void dequant_q4k(const uint8_t* src, float* y, int64_t n) {
  const BlockQ4K* x = reinterpret_cast<const BlockQ4K*>(src);
  const __m256i lo4 = _mm256_set1_epi8(0xF);
  for (int64_t i = 0; i < n / 256; i++) {
    const float d = _cvtsh_ss(x[i].d), mn = _cvtsh_ss(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
      uint8_t sc, m;
      scale_min_k4(is, x[i].scales, &sc, &m);
      const __m256 d1 = _mm256_set1_ps(d * sc), m1 = _mm256_set1_ps(mn * m);
      scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const __m256 d2 = _mm256_set1_ps(d * sc), m2 = _mm256_set1_ps(mn * m);
      const __m256i qv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
      const __m256i ql = _mm256_and_si256(qv, lo4), qh = _mm256_and_si256(_mm256_srli_epi16(qv, 4), lo4);
      alignas(32) uint8_t bl[32], bh[32];
      _mm256_store_si256(reinterpret_cast<__m256i*>(bl), ql);
      _mm256_store_si256(reinterpret_cast<__m256i*>(bh), qh);
      for (int k = 0; k < 32; k += 8) {
        const __m256 fl = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bl + k))));
        const __m256 fh = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bh + k))));
        _mm256_storeu_ps(y + j + k, _mm256_sub_ps(_mm256_mul_ps(d1, fl), m1));
        _mm256_storeu_ps(y + j + 32 + k, _mm256_sub_ps(_mm256_mul_ps(d2, fh), m2));
      }
    }
    y += 256;
  }
}

#elif RW_SIMD_NEON
// 16 nibbles (as bytes) -> y[k] = d1 * q[k] - m1, product and difference rounded separately
RW_NO_CONTRACT
static inline void q4k_16(uint8x16_t v, float32x4_t d1, float32x4_t m1, float* y) {
  RW_NO_CONTRACT_BODY
  const uint16x8_t a = vmovl_u8(vget_low_u8(v)), b = vmovl_u8(vget_high_u8(v));
  vst1q_f32(y, vsubq_f32(vmulq_f32(d1, vcvtq_f32_u32(vmovl_u16(vget_low_u16(a)))), m1));
  vst1q_f32(y + 4, vsubq_f32(vmulq_f32(d1, vcvtq_f32_u32(vmovl_u16(vget_high_u16(a)))), m1));
  vst1q_f32(y + 8, vsubq_f32(vmulq_f32(d1, vcvtq_f32_u32(vmovl_u16(vget_low_u16(b)))), m1));
  vst1q_f32(y + 12, vsubq_f32(vmulq_f32(d1, vcvtq_f32_u32(vmovl_u16(vget_high_u16(b)))), m1));
}
RW_NO_CONTRACT
static void dequant_q4k(const uint8_t* src, float* y, int64_t n) {
  RW_NO_CONTRACT_BODY
  const BlockQ4K* x = reinterpret_cast<const BlockQ4K*>(src);
  const uint8x16_t lo4 = vdupq_n_u8(0xF);
  for (int64_t i = 0; i < n / 256; i++) {
    const float d = f16_to_f32(x[i].d), mn = f16_to_f32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
      uint8_t sc, m;
      scale_min_k4(is, x[i].scales, &sc, &m);
      const float32x4_t d1 = vdupq_n_f32(d * sc), m1 = vdupq_n_f32(mn * m);
      scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float32x4_t d2 = vdupq_n_f32(d * sc), m2 = vdupq_n_f32(mn * m);
      const uint8x16_t q0 = vld1q_u8(q), q1 = vld1q_u8(q + 16);
      q4k_16(vandq_u8(q0, lo4), d1, m1, y + j);
      q4k_16(vandq_u8(q1, lo4), d1, m1, y + j + 16);
      q4k_16(vshrq_n_u8(q0, 4), d2, m2, y + j + 32);
      q4k_16(vshrq_n_u8(q1, 4), d2, m2, y + j + 48);
    }
    y += 256;
  }
}
#else
RW_NO_CONTRACT
static void dequant_q4k(const uint8_t* src, float* y, int64_t n) {
  RW_NO_CONTRACT_BODY
  const BlockQ4K* x = reinterpret_cast<const BlockQ4K*>(src);
  for (int64_t i = 0; i < n / 256; i++) {
    const float d = f16_to_f32(x[i].d), mn = f16_to_f32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
      uint8_t sc, m;
      scale_min_k4(is, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = mn * m;
      scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = mn * m;
      for (int k = 0; k < 32; k++) {
        const float p1 = d1 * (float)(q[k] & 0xF), p2 = d2 * (float)(q[k] >> 4);
        y[j + k] = p1 - m1;
        y[j + 32 + k] = p2 - m2;
      }
    }
    y += 256;
  }
}
#endif

#if RW_SIMD_AVX2
// F16 and Q8_0 rows with F16C/AVX2 (ggml's to_float for these is scalar here); both are exact conversions
// (half -> float; int8 * d rounded once), so bit-identical to the reference
static void dequant_f16(const uint8_t* src, float* y, int64_t n) {
  const uint16_t* h = reinterpret_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  for (; i < n; i++) y[i] = _cvtsh_ss(h[i]);
}
static void dequant_q80(const uint8_t* src, float* y, int64_t n) {
  const BlockQ80* x = reinterpret_cast<const BlockQ80*>(src);
  for (int64_t i = 0; i < n / 32; i++, y += 32) {
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(x[i].d));
    for (int k = 0; k < 32; k += 8) {
      const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[i].qs + k)));
      _mm256_storeu_ps(y + k, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
    }
  }
}

#elif RW_SIMD_NEON
// F16 and Q8_0 rows with NEON: exact conversions (half -> float; int8 * d rounded once), as the reference
static void dequant_f16(const uint8_t* src, float* y, int64_t n) {
  const uint16_t* h = reinterpret_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + i))));
  for (; i < n; i++) y[i] = f16_to_f32(h[i]);
}
static void dequant_q80(const uint8_t* src, float* y, int64_t n) {
  const BlockQ80* x = reinterpret_cast<const BlockQ80*>(src);
  for (int64_t i = 0; i < n / 32; i++, y += 32) {
    const float32x4_t d = vdupq_n_f32(f16_to_f32(x[i].d));
    for (int k = 0; k < 32; k += 8) {
      const int16x8_t q = vmovl_s8(vld1_s8(x[i].qs + k));
      vst1q_f32(y + k, vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(q))), d));
      vst1q_f32(y + k + 4, vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(q))), d));
    }
  }
}
#else
// F16 and Q8_0 rows, plain C++: exact conversions (half -> float; int8 * d rounded once), as the reference
static void dequant_f16(const uint8_t* src, float* y, int64_t n) {
  const uint16_t* h = reinterpret_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; i++) y[i] = f16_to_f32(h[i]);
}
static void dequant_q80(const uint8_t* src, float* y, int64_t n) {
  const BlockQ80* x = reinterpret_cast<const BlockQ80*>(src);
  for (int64_t i = 0; i < n / 32; i++, y += 32) {
    const float d = f16_to_f32(x[i].d);
    for (int k = 0; k < 32; k++) y[k] = (float)x[i].qs[k] * d;
  }
}
#endif

// floats of row r, columns [c0, c0 + n) into out; c0 and n are multiples of the type's block size
static inline const float* row_segment(const Weight& W, int64_t e, int64_t r, int64_t c0, int64_t n, float* out) {
  const uint8_t* row = W.row(e, r);
  if (W.type == GGML_TYPE_F32) return reinterpret_cast<const float*>(row) + c0;
  if (W.type == GGML_TYPE_Q4_K) {
    dequant_q4k(row + (c0 / 256) * sizeof(BlockQ4K), out, n);
    return out;
  }
  if (W.type == GGML_TYPE_F16) {
    dequant_f16(row + c0 * 2, out, n);
    return out;
  }
  if (W.type == GGML_TYPE_Q8_0) {
    dequant_q80(row + (c0 / 32) * sizeof(BlockQ80), out, n);
    return out;
  }
  const int64_t bs = ggml_blck_size(W.type);
  const size_t ts = ggml_type_size(W.type);
  ggml_get_type_traits(W.type)->to_float(row + (c0 / bs) * ts, out, n);
  return out;
}

void dequant_segment(const Weight& W, int64_t e, int64_t r, int64_t c0, int64_t n, float* out) {
  const float* p = row_segment(W, e, r, c0, n, out);
  if (p != out) std::memcpy(out, p, sizeof(float) * n);
}

void dequant_row(const Weight& W, int64_t e, int64_t r, float* out) { dequant_segment(W, e, r, 0, W.C, out); }

// ---------------------------------------------------------------- transposition
// dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols, in 8 x 8 AVX blocks (the packing of activations
// and gradients into token lanes and back; element-by-element strided stores cost ~1.5 ns each and were 6% of
// an AttnLRP explanation)
#if RW_SIMD_AVX2
static inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20); r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20); r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31); r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31); r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

#endif

static void transpose(const float* src, size_t lds, int64_t rows, int64_t cols, float* dst, size_t ldd) {
  int64_t i = 0;
#if RW_SIMD_AVX2
  for (; i + 8 <= rows; i += 8) {
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      __m256 r[8];
      for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(src + (i + k) * lds + j);
      transpose8(r);
      for (int k = 0; k < 8; k++) _mm256_storeu_ps(dst + (j + k) * ldd + i, r[k]);
    }
    for (; j < cols; j++)
      for (int k = 0; k < 8; k++) dst[j * ldd + i + k] = src[(i + k) * lds + j];
  }
#endif
  for (; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) dst[j * ldd + i] = src[i * lds + j];
}

// X [T, n] packed per token block into the pool's scratch buffer (kept for the job's next product, so its pages
// are not faulted in again): block [t0, t0 + wb) (wb = 16, or 8 for the last; Tp = T rounded up to 8) lies at
// P + t0 * n as [n][wb], zero padded, so the slice of a column tile is contiguous (a stride of Tp floats over n
// would put it on few L1 sets). All threads pack, one token block each.
static float* pack_tokens(Pool& pool, const float* X, int64_t T, int64_t n) {
  const int64_t Tp = (T + 7) / 8 * 8, nblk = (Tp + 15) / 16;
  std::vector<float>& keep = pool.scratch();
  if (keep.size() < (size_t)n * Tp) keep.resize((size_t)n * Tp);
  float* P = keep.data();
  pool.run([&](int ith, int nth) {
    for (int64_t bi = ith; bi < nblk; bi += nth) {
      const int64_t t0 = bi * 16, wb = std::min<int64_t>(16, Tp - t0), t1 = std::min<int64_t>(T, t0 + wb);
      float* pb = P + (size_t)t0 * n;
      if (t1 - t0 < wb) std::fill_n(pb, (size_t)wb * n, 0.f);
      transpose(X + t0 * n, n, t1 - t0, n, pb, wb);
    }
  });
  return P;
}

// ---------------------------------------------------------------- forward: Y[t, r] = X[t, :] . W[r, :] (+ b[r])
// Tokens are the vector lanes: X is transposed once per product into Xt, [c][16] per block of 16 tokens (Tp = T
// rounded up to 8, zero padded), and a 6-row x 16-token register block accumulates acc[i][t] += W[r + i, c] * Xt[c,
// t] over the tile's columns with one broadcast per weight (no horizontal sums; 12 FMAs per 2 vector loads + 6
// broadcasts, 15 of the 16 ymm registers). Each Y element is summed by one thread in ascending c, so results do not
// depend on the thread count. Tile: FRB rows x FCB columns dequantized once per product; the 16-token x FCB slice of
// Xt (16 KiB) stays in L1 while all FRB rows pass over it.
static const int FRB = 48;   // weight rows per forward tile (multiple of the 6-row register block)
static const int FCB = 256;  // columns per forward tile (multiple of every block size: 1, 32, 256)

// The one micro-kernel of both directions, tokens as lanes: acc[i][lanes] += w[i * si + k * sk] * P[k * ldp + lanes]
// for i < MR, k < nk (NV vectors of 8 tokens). Forward: i = weight row (si = row stride), k = column (sk = 1), P = X
// packed; backward: i = weight column (si = 1), k = weight row (sk = row stride), P = G packed. Each acc element
// is one FMA chain in ascending k starting from its stored value.
template <int MR, int NV>
static inline void lane_kernel(const float* w, size_t si, size_t sk, int nk, const float* P, size_t ldp, float* acc, size_t lda) {
#if RW_SIMD_SCALAR
  // Without hardware FMA a float a * b + c rounds twice per term; here the accumulators are doubles (the float
  // product is exact in double: one rounding per term in double, one to float per tile), at least as accurate as
  // the fused float chain of AVX2/NEON. Measured on gemma3, whose fp16 GELU table turns a last-bit change of a gate
  // value into a jump of its activation: an unfused float chain put the relevances 10x further from the float64
  // reference than the AVX2 build (1.7e-4 of max |R| against 1.8e-5), double accumulators 1.0e-5; ~1.5-2x the time
  // of the float chain. One row x 8 lanes per pass over k (8 doubles stay in registers); each element is one chain in
  // ascending k, so the blocking changes no bit.
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) {
      double c[8];
      float* o = acc + i * lda + 8 * v;
      for (int l = 0; l < 8; l++) c[l] = o[l];
      for (int k = 0; k < nk; k++) {
        const double b = w[k * sk + i * si];
        const float* x = P + k * ldp + 8 * v;
        for (int l = 0; l < 8; l++) c[l] += b * (double)x[l];
      }
      for (int l = 0; l < 8; l++) o[l] = (float)c[l];
    }
#else
  acc8 a[MR][NV];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) a[i][v] = acc_load(acc + i * lda + 8 * v);
  for (int k = 0; k < nk; k++) {
    vf8 x[NV];
    for (int v = 0; v < NV; v++) x[v] = v_load(P + k * ldp + 8 * v);
    const float* wk = w + k * sk;
    for (int i = 0; i < MR; i++) {
      const vf8 b = v_bcast(wk + i * si);
      for (int v = 0; v < NV; v++) a[i][v] = acc_fmadd(b, x[v], a[i][v]);
    }
  }
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) acc_store(acc + i * lda + 8 * v, a[i][v]);
#endif
}

// m (<= 6) rows of acc through lane_kernel
template <int NV>
static inline void lane_block(int m, const float* w, size_t si, size_t sk, int nk, const float* P, size_t ldp, float* acc, size_t lda) {
  switch (m) {
    case 6: lane_kernel<6, NV>(w, si, sk, nk, P, ldp, acc, lda); break;
    case 5: lane_kernel<5, NV>(w, si, sk, nk, P, ldp, acc, lda); break;
    case 4: lane_kernel<4, NV>(w, si, sk, nk, P, ldp, acc, lda); break;
    case 3: lane_kernel<3, NV>(w, si, sk, nk, P, ldp, acc, lda); break;
    case 2: lane_kernel<2, NV>(w, si, sk, nk, P, ldp, acc, lda); break;
    case 1: lane_kernel<1, NV>(w, si, sk, nk, P, ldp, acc, lda); break;
    default: break;
  }
}

// forward tile: nr weight rows (row i at w + i * ldw) x cw columns against one token block
template <int NV>
static inline void fwd_rows(const float* w, size_t ldw, int nr, int cw, const float* Xt, size_t ldt, float* acc, size_t lda) {
  for (int r = 0; r < nr; r += 6) lane_block<NV>(std::min(6, nr - r), w + r * ldw, ldw, 1, cw, Xt, ldt, acc + r * lda, lda);
}

void matmul_fwd_n(Pool& pool, const FwdProduct* ps, int n, const float* X, int64_t T) {
  if (n <= 0 || T <= 0) return;
  if (pool.int8 && matmul_fwd_n_int8(pool, ps, n, X, T)) return;
  const int64_t C = ps[0].W->C;
  for (int k = 1; k < n; k++)
    if (ps[k].W->C != C) throw LrpError("matmul_fwd_n: products of one input must have the same column count");
  const int64_t Tp = (T + 7) / 8 * 8;
  std::vector<std::vector<float>> bias(n);
  for (int k = 0; k < n; k++)
    if (ps[k].bias && ps[k].bias->present()) {
      bias[k].resize(ps[k].W->R);
      dequant_row(*ps[k].bias, 0, 0, bias[k].data());
    }
  // X packed once for all n products (q/k/v, gate/up share their input)
  const float* Xt = pack_tokens(pool, X, T, C);
  // work items: (product, row block) over all products, handed out dynamically; each Y element is still
  // summed by one thread in ascending c, so the bits do not depend on which thread takes which item
  std::vector<std::pair<int, int64_t>> items;
  for (int k = 0; k < n; k++)
    for (int64_t r0 = 0; r0 < ps[k].W->R; r0 += FRB) items.emplace_back(k, r0);
  std::atomic<size_t> next{0};
  pool.run([&](int, int) {
    const int64_t cwmax = std::min<int64_t>(C, FCB);
    std::vector<float> buf((size_t)FRB * cwmax);
    std::vector<float> acc((size_t)FRB * Tp);  // acc[r][t]
    for (;;) {
      const size_t it = next.fetch_add(1);
      if (it >= items.size()) break;
      const FwdProduct& P = ps[items[it].first];
      const std::vector<float>& b = bias[items[it].first];
      const int64_t r0 = items[it].second, R = P.W->R;
      const int nr = (int)std::min<int64_t>(FRB, R - r0);
      for (int r = 0; r < nr; r++) std::fill_n(acc.data() + (size_t)r * Tp, Tp, b.empty() ? 0.f : b[r0 + r]);
      for (int64_t c0 = 0; c0 < C; c0 += FCB) {
        const int cw = (int)std::min<int64_t>(FCB, C - c0);
        // tile rows at a uniform stride: F32 rows in place in the mapping, others decoded into buf
        const float* w;
        size_t ldw;
        if (P.W->type == GGML_TYPE_F32) {
          w = reinterpret_cast<const float*>(P.W->row(P.e, r0)) + c0;
          ldw = P.W->row_bytes / sizeof(float);
        } else {
          for (int r = 0; r < nr; r++) row_segment(*P.W, P.e, r0 + r, c0, cw, buf.data() + (size_t)r * cw);
          w = buf.data();
          ldw = (size_t)cw;
        }
        int64_t t = 0;
        for (; t + 16 <= Tp; t += 16)
          fwd_rows<2>(w, ldw, nr, cw, Xt + (size_t)t * C + (size_t)c0 * 16, 16, acc.data() + t, Tp);
        for (; t < Tp; t += 8)
          fwd_rows<1>(w, ldw, nr, cw, Xt + (size_t)t * C + (size_t)c0 * 8, 8, acc.data() + t, Tp);
      }
      transpose(acc.data(), Tp, nr, T, P.Y + r0, R);
    }
  });
}

void matmul_fwd(Pool& pool, const Weight& W, int64_t e, const float* X, int64_t T, float* Y, const Weight* bias) {
  const FwdProduct p{&W, e, Y, bias};
  matmul_fwd_n(pool, &p, 1, X, T);
}

// Column ranges of GX for matmul_bwd, one per thread. Every output element GX[t, c] is summed by exactly one thread,
// over the weight rows in ascending order (as one thread does), so the bits depend neither on scheduling nor on the
// thread count: a study resumed with another thread count gives the same relevances (every column, in a full
// 6-column group or not, takes the same FMA chain). Boundaries are multiples of 8 columns. A boundary inside a
// quantization block (e.g. Q4_K, 256 columns, at C = 768) has both neighbours decode that block of each row: at most
// one extra block per row and boundary, cheaper than the 2:1 imbalance of block-aligned ranges. Measured: many small
// ranges handed out dynamically (each thread then reads short strided row segments) were 2-29% slower than one
// contiguous range per thread.
static std::vector<std::pair<int64_t, int64_t>> bwd_column_ranges(int64_t C, int nth) {
  std::vector<std::pair<int64_t, int64_t>> out;
  const int64_t n8 = C / 8;
  for (int k = 0; k < nth; k++) {
    const int64_t a = n8 * k / nth * 8, b = k == nth - 1 ? C : n8 * (k + 1) / nth * 8;
    if (b > a) out.emplace_back(a, b);
  }
  return out;
}

// ---------------------------------------------------------------- backward: GX[t, c] += sum_r G[t, r] W[r, c]
// Tokens are the vector lanes here too: G is packed per 16-token block as Gt[r][16] and each thread keeps its
// columns of GX packed the same way (GXt[c][16]); lane_kernel with 6 columns x 16 tokens accumulates acc[i][t] +=
// W[r, c + i] * Gt[r, t] over a block of BRB weight rows (6 broadcasts of one tile row + 2 loads + 12 FMAs per row).
// Per element: FMAs in ascending r starting from the GX value, whichever thread owns the column, so the results do
// not depend on the thread count. Loop order per decoded tile: column groups outer, token blocks inner, so a group's
// BRB x 6 weights and the token chunk's Gt slice (BRB x BTC x 4 bytes = 16 KiB) stay in L1.
static const int BRB = 64;    // weight rows per backward tile
static const int BTC = 64;    // tokens per chunk (Gt slice of a row block: BRB * BTC floats)

void matmul_bwd(Pool& pool, const Weight& W, int64_t e, const float* G, int64_t T, float* GX) {
  const int64_t C = W.C, R = W.R;
  if (T <= 0) return;
  if (pool.int8 && matmul_bwd_int8(pool, W, e, G, T, GX)) return;
  const int64_t Tp = (T + 7) / 8 * 8, nblk = (Tp + 15) / 16;
  const int64_t nrb = (R + BRB - 1) / BRB;
  const int64_t bs = ggml_blck_size(W.type);
  const auto ranges = bwd_column_ranges(C, pool.size());
  // G packed per token block (pack_tokens); liveness per (row block, token block): a block whose gradient is
  // zero for all its rows and tokens adds nothing and is skipped (common: at the top layer only the last
  // position carries a gradient)
  const float* Gt = pack_tokens(pool, G, T, R);
  std::vector<char> live((size_t)nrb * nblk, 0);
  pool.run([&](int ith, int nth) {
    for (int64_t bi = ith; bi < nblk; bi += nth) {
      const int64_t t0 = bi * 16, t1 = std::min<int64_t>(T, t0 + 16);
      for (int64_t rb = 0; rb < nrb; rb++) {
        const int64_t r0 = rb * BRB, r1 = std::min<int64_t>(R, r0 + BRB);
        bool nz = false;
        for (int64_t t = t0; t < t1 && !nz; t++) {
          const float* gr = G + t * R;
          int64_t r = r0;
#if RW_SIMD_AVX2
          __m256 m = _mm256_setzero_ps();
          for (; r + 8 <= r1; r += 8) m = _mm256_or_ps(m, _mm256_cmp_ps(_mm256_loadu_ps(gr + r), _mm256_setzero_ps(), _CMP_NEQ_UQ));
          nz = _mm256_movemask_ps(m) != 0;
#endif
          for (; r < r1 && !nz; r++) nz = gr[r] != 0.f;
        }
        live[(size_t)rb * nblk + bi] = nz;
      }
    }
  });
  std::atomic<size_t> next{0};
  pool.run([&](int, int) {
    // tile row stride: a whole number of 64-byte lines, and an odd one, so the BRB rows a column group reads
    // fall on different L1 sets (an even stride such as 48 lines put 64 rows on 4 sets' worth of ways)
    int64_t stride = (std::min<int64_t>(C, CB + 2 * bs) + 15) / 16 * 16;
    if ((stride / 16) % 2 == 0) stride += 16;
    std::vector<float> buf((size_t)BRB * stride);
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k >= ranges.size()) break;
      const int64_t a = ranges[k].first, b = ranges[k].second, nc = b - a;
      // this thread's columns of GX, packed per token block: block t0 at GXt + t0 * nc as [c - a][wb]
      std::vector<float> GXt((size_t)nc * Tp, 0.f);
      for (int64_t t0 = 0; t0 < T; t0 += 16) {
        const int64_t wb = std::min<int64_t>(16, Tp - t0), t1 = std::min<int64_t>(T, t0 + wb);
        transpose(GX + t0 * C + a, C, t1 - t0, nc, GXt.data() + (size_t)t0 * nc, wb);
      }
      // column tiles on the absolute CB grid (only the range's own edges can be off the block grid)
      for (int64_t c0 = a; c0 < b;) {
        const int64_t c1 = std::min(b, (c0 / CB + 1) * CB);
        const int cw = (int)(c1 - c0);
        const int64_t d0 = c0 / bs * bs, d1 = std::min(C, (c1 + bs - 1) / bs * bs);
        for (int64_t rb = 0; rb < nrb; rb++) {
          const int64_t r0 = rb * BRB;
          const int nr = (int)std::min<int64_t>(BRB, R - r0);
          bool any = false;
          for (int64_t bi = 0; bi < nblk && !any; bi++) any = live[(size_t)rb * nblk + bi];
          if (!any) continue;
          // tile rows: buf + r * stride holds columns [d0, d1); w points at column c0
          const float* w0 = nullptr;
          for (int r = 0; r < nr; r++) {
            float* o = buf.data() + (size_t)r * stride;
            const float* p = row_segment(W, e, r0 + r, d0, d1 - d0, o);
            if (p != o) std::memcpy(o, p, sizeof(float) * (d1 - d0));  // F32 rows are used in place elsewhere
            if (r == 0) w0 = o + (c0 - d0);
          }
          for (int64_t tc = 0; tc < nblk; tc += BTC / 16) {
            const int64_t tce = std::min<int64_t>(nblk, tc + BTC / 16);
            for (int c = 0; c < cw; c += 6) {
              const int mc = std::min(6, cw - c);
              for (int64_t bi = tc; bi < tce; bi++) {
                if (!live[(size_t)rb * nblk + bi]) continue;
                const int64_t t0 = bi * 16, wb = std::min<int64_t>(16, Tp - t0);
                const float* gt = Gt + (size_t)t0 * R + (size_t)r0 * wb;
                float* acc = GXt.data() + (size_t)t0 * nc + (size_t)(c0 - a + c) * wb;
                if (wb == 16) lane_block<2>(mc, w0 + c, 1, stride, nr, gt, 16, acc, 16);
                else lane_block<1>(mc, w0 + c, 1, stride, nr, gt, 8, acc, 8);
              }
            }
          }
        }
        c0 = c1;
      }
      for (int64_t t0 = 0; t0 < T; t0 += 16) {
        const int64_t wb = std::min<int64_t>(16, Tp - t0), t1 = std::min<int64_t>(T, t0 + wb);
        transpose(GXt.data() + (size_t)t0 * nc, wb, nc, t1 - t0, GX + t0 * C + a, C);
      }
    }
  });
}

}  // namespace rw
