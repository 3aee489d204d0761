// Threaded dense kernels on (possibly quantized) weights: a tile of weight rows is dequantized with ggml's
// type traits (to_float) into a small float buffer and used against all tokens at once, so each weight byte
// is decoded once per product and no dequantized copy of a whole matrix ever exists.
#pragma once

#include <cmath>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "model.h"
#include "simd.h"

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
// The lane helpers below are written once on simd.h's vf8 (8 float lanes: AVX2, NEON or plain floats, chosen at
// compile time); the AVX2 build runs the same instructions as before that layer existed. Their names keep the
// _avx suffix the engine's call sites use.
// sum_i a[i] b[i] over 8-lane partial sums (a fixed order, so results do not depend on threads); the scalar
// loop it replaces was a serial chain of adds, 4 cycles each, and made attention ~14% of the forward
static inline float dot_f32(const float* a, const float* b, int n) {
  vf8 s0 = v_zero(), s1 = v_zero();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = v_fmadd(v_load(a + i), v_load(b + i), s0);
    s1 = v_fmadd(v_load(a + i + 8), v_load(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = v_fmadd(v_load(a + i), v_load(b + i), s0);
  float s = v_hsum(v_add(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}
// o[i] = sum_{s < ns} a[s] V[s * ldv + i] for i < n, in ascending s with one FMA per term (o overwritten);
// the accumulators stay in registers over s (the loop it replaces loaded and stored o for every s).
// accumulate: the accumulators start from o instead of +0 (a sum continued over several calls is the same
// sequence of FMAs as one call over all terms, given o = +0 before the first)
static inline void weighted_rows(const float* a, int64_t ns, const float* V, size_t ldv, float* o, int n,
                                 bool accumulate = false) {
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    vf8 c0 = v_zero(), c1 = c0, c2 = c0, c3 = c0;
    if (accumulate) c0 = v_load(o + i), c1 = v_load(o + i + 8), c2 = v_load(o + i + 16), c3 = v_load(o + i + 24);
    for (int64_t s = 0; s < ns; s++) {
      const vf8 b = v_bcast(a + s);
      const float* v = V + s * ldv + i;
      c0 = v_fmadd(b, v_load(v), c0);
      c1 = v_fmadd(b, v_load(v + 8), c1);
      c2 = v_fmadd(b, v_load(v + 16), c2);
      c3 = v_fmadd(b, v_load(v + 24), c3);
    }
    v_store(o + i, c0);
    v_store(o + i + 8, c1);
    v_store(o + i + 16, c2);
    v_store(o + i + 24, c3);
  }
  for (; i + 8 <= n; i += 8) {
    vf8 c0 = accumulate ? v_load(o + i) : v_zero();
    for (int64_t s = 0; s < ns; s++) c0 = v_fmadd(v_bcast(a + s), v_load(V + s * ldv + i), c0);
    v_store(o + i, c0);
  }
  for (; i < n; i++) {
    float c = accumulate ? o[i] : 0.f;
#if RW_SIMD_SCALAR
    for (int64_t s = 0; s < ns; s++) c = a[s] * V[s * ldv + i] + c;  // as the scalar lanes (a library fmaf is slow)
#else
    for (int64_t s = 0; s < ns; s++) c = fmaf(a[s], V[s * ldv + i], c);
#endif
    o[i] = c;
  }
}
// e^x on 8 lanes: Cephes' expf (range reduction by ln 2 in two parts, degree-5 polynomial), within 2 ulp of
// expf for |x| < 88 (1 ulp measured); inputs are clamped to [-88.38, 88.38], a NaN stays NaN (the clamp's
// min/max return NaN, or their second operand, when one is NaN)
static inline vf8 exp_avx(vf8 x) {
  x = v_min(v_set1(88.3762626647949f), v_max(v_set1(-88.3762626647949f), x));
  const vf8 n = v_round(v_mul(x, v_set1(1.44269504088896341f)));
  vf8 r = v_fnmadd(n, v_set1(0.693359375f), x);
  r = v_fnmadd(n, v_set1(-2.12194440e-4f), r);
  vf8 p = v_set1(1.9875691500e-4f);
  p = v_fmadd(p, r, v_set1(1.3981999507e-3f));
  p = v_fmadd(p, r, v_set1(8.3334519073e-3f));
  p = v_fmadd(p, r, v_set1(4.1665795894e-2f));
  p = v_fmadd(p, r, v_set1(1.6666665459e-1f));
  p = v_fmadd(p, r, v_set1(5.0000001201e-1f));
  p = v_fmadd(p, v_mul(r, r), v_add(r, v_set1(1.0f)));
  return v_scale2(p, n);  // p 2^n: n in [-128, 128]
}
static inline vf8 sigmoid_avx(vf8 x) {
  const vf8 one = v_set1(1.0f);
  return v_div(one, v_add(one, exp_avx(v_sub(v_zero(), x))));
}
// out[i] = f(x[i]) for a lane function f, the tail through a zero-padded vector so every element gets the
// same arithmetic wherever it sits (the forward's SiLU and the backward's SiLU rule must agree bit for bit)
template <typename F>
static inline void map_avx(const float* x, int64_t n, float* out, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) v_store(out + i, f(v_load(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t k = i; k < n; k++) buf[k - i] = x[k];
    v_store(buf, f(v_load(buf)));
    for (int64_t k = i; k < n; k++) out[k] = buf[k - i];
  }
}
// one dequantized row (or a 1-D tensor) as floats
void dequant_row(const Weight& W, int64_t e, int64_t r, float* out);
// columns [c0, c0 + n) of that row (c0 and n multiples of the type's block size); the same decoders, so the
// same bits as dequant_row's (F16, Q8_0 and Q4_K by own code, bit-identical to ggml's to_float; others by it)
void dequant_segment(const Weight& W, int64_t e, int64_t r, int64_t c0, int64_t n, float* out);

}  // namespace rw
