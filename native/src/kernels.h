// Threaded dense kernels on (possibly quantized) weights: a tile of weight rows is dequantized with ggml's
// type traits (to_float) into a small float buffer and used against all tokens at once, so each weight byte
// is decoded once per product and no dequantized copy of a whole matrix ever exists.
#pragma once
#include <immintrin.h>

#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "engine.h"

namespace rw {

// Fixed set of worker threads for the lifetime of one job; run(fn) calls fn(ith, nth) on every thread
// (the caller is thread 0) and returns when all are done.
class Pool {
 public:
  explicit Pool(int n);
  ~Pool();
  int size() const { return n_; }
  void run(const std::function<void(int, int)>& fn);
  // a float buffer that lives as long as the pool (one job), for the packed input of matmul_fwd
  std::vector<float>& scratch() { return scratch_; }

 private:
  void worker(int ith);
  int n_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  const std::function<void(int, int)>* fn_ = nullptr;
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
// one dequantized row (or a 1-D tensor) as floats
void dequant_row(const Weight& W, int64_t e, int64_t r, float* out);

}  // namespace rw
