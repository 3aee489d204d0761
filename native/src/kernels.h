// Threaded dense kernels on (possibly quantized) weights: a tile of weight rows is dequantized with ggml's
// type traits (to_float) into a small float buffer and used against all tokens at once, so each weight byte
// is decoded once per product and no dequantized copy of a whole matrix ever exists.
#pragma once
#include <immintrin.h>

#include <cmath>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "model.h"

namespace rw {

// Fixed set of worker threads for the lifetime of one job; run(fn) calls fn(ith, nth) on every thread
// (the caller is thread 0) and returns when all are done. An exception thrown by fn on any thread (e.g.
// std::bad_alloc for a huge input) is rethrown by run() once all threads are done, instead of terminating
// the process from a worker thread.
class Pool {
 public:
  explicit Pool(int n);
  ~Pool();
  int size() const { return n_; }
  void run(const std::function<void(int, int)>& fn);
  // a float buffer that lives as long as the pool (one job), for the packed input of matmul_fwd
  std::vector<float>& scratch() { return scratch_; }
  // this job's products on quantized weights in 8-bit integers (kernels_int8.h: the `int8` precision)
  bool int8 = false;

 private:
  void worker(int ith);
  int n_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  const std::function<void(int, int)>* fn_ = nullptr;
  std::exception_ptr error_;  // the first exception thrown by fn on any thread, rethrown by run()
  long gen_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::vector<float> scratch_;
};

// Y[t, r] = sum_c X[t, c] W_e[r, c] (+ bias[r]);  X: [T, C], Y: [T, R] (overwritten)
void matmul_fwd(Pool& pool, const Weight& W, int64_t e, const float* X, int64_t T, float* Y, const Weight* bias);
// several products of the same input X (q/k/v, gate/up): X is packed once, row blocks of all products share
// the threads; all W must have the same C
struct FwdProduct {
  const Weight* W;
  int64_t e;
  float* Y;
  const Weight* bias;  // may be null
};
void matmul_fwd_n(Pool& pool, const FwdProduct* ps, int n, const float* X, int64_t T);
// GX[t, c] += sum_r G[t, r] W_e[r, c];  G: [T, R], GX: [T, C] (accumulated). Bit-identical for any thread count:
// each GX element is summed by one thread in ascending r (threads own column ranges, not row blocks).
void matmul_bwd(Pool& pool, const Weight& W, int64_t e, const float* G, int64_t T, float* GX);
// sum_i a[i] b[i] over 8-lane partial sums (a fixed order, so results do not depend on threads); the scalar
// loop it replaces was a serial chain of adds, 4 cycles each, and made attention ~14% of the forward
static inline float dot_f32(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float s = _mm_cvtss_f32(h);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}
// o[i] = sum_{s < ns} a[s] V[s * ldv + i] for i < n, in ascending s with one FMA per term (o overwritten);
// the accumulators stay in registers over s (the loop it replaces loaded and stored o for every s)
static inline void weighted_rows(const float* a, int64_t ns, const float* V, size_t ldv, float* o, int n) {
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    for (int64_t s = 0; s < ns; s++) {
      const __m256 b = _mm256_broadcast_ss(a + s);
      const float* v = V + s * ldv + i;
      c0 = _mm256_fmadd_ps(b, _mm256_loadu_ps(v), c0);
      c1 = _mm256_fmadd_ps(b, _mm256_loadu_ps(v + 8), c1);
      c2 = _mm256_fmadd_ps(b, _mm256_loadu_ps(v + 16), c2);
      c3 = _mm256_fmadd_ps(b, _mm256_loadu_ps(v + 24), c3);
    }
    _mm256_storeu_ps(o + i, c0);
    _mm256_storeu_ps(o + i + 8, c1);
    _mm256_storeu_ps(o + i + 16, c2);
    _mm256_storeu_ps(o + i + 24, c3);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 c0 = _mm256_setzero_ps();
    for (int64_t s = 0; s < ns; s++) c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + s), _mm256_loadu_ps(V + s * ldv + i), c0);
    _mm256_storeu_ps(o + i, c0);
  }
  for (; i < n; i++) {
    float c = 0.f;
    for (int64_t s = 0; s < ns; s++) c = fmaf(a[s], V[s * ldv + i], c);
    o[i] = c;
  }
}
// e^x on 8 lanes: Cephes' expf (range reduction by ln 2 in two parts, degree-5 polynomial), within 2 ulp of
// expf for |x| < 88 (1 ulp measured); inputs are clamped to [-88.38, 88.38], a NaN stays NaN (min/max return
// their second operand when one is NaN)
static inline __m256 exp_avx(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n: n in [-128, 128]; split in two factors so 2^128 (x near 88.38) and 2^-127 stay representable
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i h = _mm256_srai_epi32(ni, 1);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), _mm256_set1_epi32(127)), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
static inline __m256 sigmoid_avx(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp_avx(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
// out[i] = f(x[i]) for a lane function f, the tail through a zero-padded vector so every element gets the
// same arithmetic wherever it sits (the forward's SiLU and the backward's SiLU rule must agree bit for bit)
template <typename F>
static inline void map_avx(const float* x, int64_t n, float* out, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t k = i; k < n; k++) buf[k - i] = x[k];
    _mm256_store_ps(buf, f(_mm256_load_ps(buf)));
    for (int64_t k = i; k < n; k++) out[k] = buf[k - i];
  }
}
// one dequantized row (or a 1-D tensor) as floats
void dequant_row(const Weight& W, int64_t e, int64_t r, float* out);

}  // namespace rw
