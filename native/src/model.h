// What a model is to the engine: its weights as views into the mmapped GGUF (Weight), one transformer block's
// tensors (Layer) and the hyperparameters that decide the forward (HParams). engine.cpp (loading, forward_layer,
// backward_layer) and kernels.cpp (the products on a Weight) include this; a new architecture adds its tensors
// to Layer, its keys to HParams, and its ops to forward_layer / backward_layer in engine.cpp.
// Layout convention (ggml): a weight W has ne0 = C (input dim, contiguous row) and ne1 = R (output dim);
// y[t, r] = sum_c x[t, c] W[r, c]. Activations are row-major [T, dim].
#pragma once
#include <cstdint>
#include <string>

#include "ggml.h"

namespace rw {

// One weight matrix (or a stack of expert matrices, or a 1-D norm/bias vector) viewed inside the mmapped file.
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

// One block's tensors (llama.cpp names in comments: blk.N.<name>.weight / .bias). Absent tensors stay !present().
struct Layer {
  Weight attn_norm;                         // attn_norm: RMSNorm before attention
  Weight wq, wk, wv, wo, bq, bk, bv, bo;    // attn_q/k/v/output (+ .bias: qwen2)
  Weight q_norm, k_norm;                    // attn_q_norm, attn_k_norm: per-head RMSNorm of q and k (qwen3, gemma3)
  Weight attn_post_norm;                    // post_attention_norm: RMSNorm of the attention output (gemma3)
  Weight ffn_norm;                          // ffn_norm: RMSNorm before the FFN
  Weight gate, up, down;                    // ffn_gate/up/down: dense gated FFN
  Weight router, gate_exps, up_exps, down_exps;  // ffn_gate_inp, ffn_*_exps: MoE FFN (Mixtral)
  Weight ffn_post_norm;                     // post_ffw_norm: RMSNorm of the FFN output (gemma3)
  int n_head_kv = 0;
  bool swa = false;                         // local sliding-window layer (gemma3): window n_swa, its own rope base
};

enum class Arch { Llama, Qwen2, Qwen3, Qwen3Moe, Gemma3 };
// the FFN's gate activation: SiLU (llama, qwen) or GELU, tanh form (gemma)
enum class Act { SiLU, GeluTanh };

struct HParams {
  Arch arch = Arch::Llama;
  std::string arch_name;
  int n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_rot = 0;
  int n_vocab = 0, n_ctx = 0, n_expert = 0, n_expert_used = 0;
  float eps = 1e-5f, rope_base = 10000.f, rope_freq_scale = 1.f;
  bool rope_neox = false;
  Act act = Act::SiLU;
  float attn_scale = 1.f;        // applied to q . k (1/sqrt(head_dim))
  float embd_scale = 1.f;        // input embeddings are multiplied by it (gemma3: sqrt(n_embd))
  int n_swa = 0;                 // sliding window of the swa layers (0: none): key s is seen from t when t - s < n_swa
  float rope_base_swa = 10000.f; // rope base of the swa layers (their freq scale is 1)
};

}  // namespace rw
