// LRP engine: GGUF model (weights mmapped), plain forward over a token sequence, and a hand-written
// LRP backward (CP-LRP and AttnLRP rule sets) to the input embeddings.
// Layout convention (ggml): a weight W has ne0 = C (input dim, contiguous row) and ne1 = R (output dim);
// y[t, r] = sum_c x[t, c] W[r, c]. Activations are row-major [T, dim].
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ggml.h"
#include "model.h"

namespace rw {

struct LrpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Rule { CP = 0, Attn = 1 };
enum class Gate { Half = 0, Detach = 1 };
// arithmetic of the products W x and W^T g: float32, or 8-bit integers where the weights are quantized
// (kernels_int8.h); everything else (norms, attention, rules) stays float32 either way
enum class Precision { F32 = 0, Int8 = 1 };

struct Rope;

struct Progress {
  std::function<void(int done, int total, const char* phase)> report;
  const std::atomic<int32_t>* cancel = nullptr;  // nonzero: stop at the next layer boundary
  const volatile int32_t* cancel_raw = nullptr;
  bool cancelled() const {
    return (cancel && cancel->load(std::memory_order_relaxed)) || (cancel_raw && *cancel_raw);
  }
};

struct ExplainRequest {
  std::vector<int32_t> tokens;
  int32_t target = -1;    // -1: most probable next token
  int32_t contrast = -1;  // -1: none
  Rule rule = Rule::CP;
  Gate gate = Gate::Half;
  // keep only each layer's input and recompute the layer in the backward (one layer's activations at a time):
  // 1 always, 0 never, -1 when a full save would exceed a quarter of memory_limit
  int checkpoint = -1;
  // working memory the explanation may use, in bytes (0: this machine's physical memory). -1 checkpointing
  // starts above a quarter of it; an input whose activations would not fit in 80 % of it even with
  // checkpointing is refused with the figures, before anything is allocated.
  double memory_limit = 0;
  Precision precision = Precision::F32;
};

struct ExplainResult {
  std::vector<float> relevance;   // [T]
  std::vector<float> logprobs;    // [V] at the last position
  int32_t target = -1;
  double value = 0;               // explained logit (or logit difference) from the engine's forward
  double forward_ms = 0, backward_ms = 0;
  bool checkpointed = false;
  double saved_bytes = 0;         // estimate of the activations kept (Model::saved_bytes)
};

class Model {
 public:
  Model(const std::string& path, int threads);
  ~Model();
  const HParams& hp() const { return hp_; }
  size_t file_size() const { return map_size_; }
  // log-probabilities at every position: [T * V]
  std::vector<float> forward_logprobs(const std::vector<int32_t>& tokens, const Progress& pr, double* ms);
  ExplainResult explain(const ExplainRequest& req, const Progress& pr);
  int threads() const { return threads_; }
  double saved_bytes(int64_t T, bool checkpoint) const;
  // per-job buffers the backward allocates besides the saved activations (gradients, attention scratch)
  double working_bytes(int64_t T, bool attn_rule) const;
  static double physical_memory();

 private:
  struct Saved;
  struct FwdCtx;
  void check_tokens(const std::vector<int32_t>& tokens) const;
  // runs all blocks; fills `x` [T, d] with the final residual stream; saves what backward needs when `sv` non-null
  // (with `checkpoint`, only each layer's input: the backward recomputes the layer)
  void run_blocks(const std::vector<int32_t>& tokens, std::vector<float>& x, Saved* sv, bool checkpoint,
                  const Progress& pr, int total, Precision precision = Precision::F32);
  struct SavedLayer;
  void forward_layer(FwdCtx& cx, int l, std::vector<float>& x, SavedLayer* S) const;
  // the LRP backward of layer l, forward_layer in reverse; one function per rule (engine.cpp)
  struct BwdCtx;
  void backward_layer(FwdCtx& cx, BwdCtx& b, int l, SavedLayer& S) const;
  void ffn_dense_backward(BwdCtx& b, const Layer& L, SavedLayer& S, const float* gy) const;
  void ffn_moe_backward(BwdCtx& b, const Layer& L, SavedLayer& S, const float* gy) const;
  void attention_backward(BwdCtx& b, const Layer& L, SavedLayer& S, const Rope& rope, const float* gy) const;
  std::vector<float> rope_factors() const;

  HParams hp_;
  std::vector<Layer> layers_;
  Weight tok_embd_, out_norm_, output_, rope_freqs_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  int threads_ = 1;
};

}  // namespace rw
