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

namespace rw {

struct LrpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One weight matrix (or a stack of expert matrices) viewed inside the mmapped file.
struct Weight {
  const uint8_t* data = nullptr;
  ggml_type type = GGML_TYPE_F32;
  int64_t C = 0;        // ne0: columns (input features)
  int64_t R = 0;        // ne1: rows (output features)
  int64_t E = 1;        // ne2: number of experts (1 for dense)
  size_t row_bytes = 0;
  bool present() const { return data != nullptr; }
  const uint8_t* row(int64_t e, int64_t r) const { return data + (size_t)(e * R + r) * row_bytes; }
};

struct Layer {
  Weight attn_norm, wq, wk, wv, wo, bq, bk, bv, bo;
  Weight ffn_norm, gate, up, down;          // dense FFN
  Weight router, gate_exps, up_exps, down_exps;  // MoE FFN
  int n_head_kv = 0;
};

enum class Arch { Llama, Qwen2 };
enum class Rule { CP = 0, Attn = 1 };
enum class Gate { Half = 0, Detach = 1 };

struct HParams {
  Arch arch = Arch::Llama;
  std::string arch_name;
  int n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_rot = 0;
  int n_vocab = 0, n_ctx = 0, n_expert = 0, n_expert_used = 0;
  float eps = 1e-5f, rope_base = 10000.f, rope_freq_scale = 1.f;
  bool rope_neox = false;
};

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
                  const Progress& pr, int total);
  struct SavedLayer;
  void forward_layer(FwdCtx& cx, int l, std::vector<float>& x, SavedLayer* S) const;
  std::vector<float> rope_factors() const;

  HParams hp_;
  std::vector<Layer> layers_;
  Weight tok_embd_, out_norm_, output_, rope_freqs_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  int threads_ = 1;
};

}  // namespace rw
