// Threaded dense kernels on (possibly quantized) weights: a tile of weight rows is dequantized with ggml's
// type traits (to_float) into a small float buffer and used against all tokens at once, so each weight byte
// is decoded once per product and no dequantized copy of a whole matrix ever exists.
#pragma once
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
};

// Y[t, r] = sum_c X[t, c] W_e[r, c] (+ bias[r]);  X: [T, C], Y: [T, R] (overwritten)
void matmul_fwd(Pool& pool, const Weight& W, int64_t e, const float* X, int64_t T, float* Y, const Weight* bias);
// GX[t, c] += sum_r G[t, r] W_e[r, c];  G: [T, R], GX: [T, C] (accumulated). Bit-identical for any thread count:
// each GX element is summed by one thread in ascending r (threads own column ranges, not row blocks).
void matmul_bwd(Pool& pool, const Weight& W, int64_t e, const float* G, int64_t T, float* GX);
// one dequantized row (or a 1-D tensor) as floats
void dequant_row(const Weight& W, int64_t e, int64_t r, float* out);

}  // namespace rw
