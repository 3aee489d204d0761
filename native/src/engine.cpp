#include "engine.h"

#include <sys/stat.h>  // stat(): POSIX, and in the Windows C runtimes

#include <algorithm>
#include <cstdarg>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>

#include "gguf.h"
#include "kernels.h"
#include "platform.h"

namespace rw {

static std::string fmt(const char* f, ...) RW_PRINTF_FORMAT(1, 2);
static std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

static bool supported_type(ggml_type t) {
  switch (t) {
    case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16:
    case GGML_TYPE_Q8_0: case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1:
    case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K:
      return true;
    default:
      return false;
  }
}

// ================================================================ loading
namespace {
struct GgufCtx {
  gguf_context* ctx;
  ~GgufCtx() { if (ctx) gguf_free(ctx); }
};

int64_t kv_int(gguf_context* c, int64_t id, size_t idx = 0) {
  gguf_type t = gguf_get_kv_type(c, id);
  const void* arr = nullptr;
  if (t == GGUF_TYPE_ARRAY) {
    t = gguf_get_arr_type(c, id);
    if (idx >= gguf_get_arr_n(c, id)) idx = 0;
    arr = gguf_get_arr_data(c, id);
  }
  switch (t) {
    case GGUF_TYPE_UINT8: return arr ? ((const uint8_t*)arr)[idx] : gguf_get_val_u8(c, id);
    case GGUF_TYPE_INT8: return arr ? ((const int8_t*)arr)[idx] : gguf_get_val_i8(c, id);
    case GGUF_TYPE_UINT16: return arr ? ((const uint16_t*)arr)[idx] : gguf_get_val_u16(c, id);
    case GGUF_TYPE_INT16: return arr ? ((const int16_t*)arr)[idx] : gguf_get_val_i16(c, id);
    case GGUF_TYPE_UINT32: return arr ? ((const uint32_t*)arr)[idx] : gguf_get_val_u32(c, id);
    case GGUF_TYPE_INT32: return arr ? ((const int32_t*)arr)[idx] : gguf_get_val_i32(c, id);
    case GGUF_TYPE_UINT64: return arr ? (int64_t)((const uint64_t*)arr)[idx] : (int64_t)gguf_get_val_u64(c, id);
    case GGUF_TYPE_INT64: return arr ? ((const int64_t*)arr)[idx] : gguf_get_val_i64(c, id);
    default: throw LrpError(fmt("GGUF key '%s' is not an integer", gguf_get_key(c, id)));
  }
}

double kv_float(gguf_context* c, int64_t id) {
  switch (gguf_get_kv_type(c, id)) {
    case GGUF_TYPE_FLOAT32: return gguf_get_val_f32(c, id);
    case GGUF_TYPE_FLOAT64: return gguf_get_val_f64(c, id);
    default: return (double)kv_int(c, id);
  }
}
}  // namespace

Model::Model(const std::string& path, int threads) : threads_(std::max(1, threads)) {
  gguf_init_params ip{true, nullptr};
  GgufCtx g{gguf_init_from_file(path.c_str(), ip)};
  if (!g.ctx) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw LrpError(fmt("model file '%s' does not exist", path.c_str()));
    throw LrpError(fmt("'%s' is not a readable GGUF file (bad magic, unsupported version, or truncated metadata)", path.c_str()));
  }
  gguf_context* c = g.ctx;
  auto key = [&](const std::string& k) { return gguf_find_key(c, k.c_str()); };
  int64_t ka = key("general.architecture");
  if (ka < 0) throw LrpError(fmt("'%s': GGUF has no general.architecture", path.c_str()));
  hp_.arch_name = gguf_get_val_str(c, ka);
  if (hp_.arch_name == "llama") hp_.arch = Arch::Llama;
  else if (hp_.arch_name == "qwen2") hp_.arch = Arch::Qwen2;
  else if (hp_.arch_name == "qwen3") hp_.arch = Arch::Qwen3;
  else if (hp_.arch_name == "qwen3moe") hp_.arch = Arch::Qwen3Moe;
  else if (hp_.arch_name == "gemma3") hp_.arch = Arch::Gemma3;
  else throw LrpError(fmt("'%s': unsupported architecture '%s' (supported: llama, llama with experts, qwen2, qwen3, qwen3moe, gemma3)", path.c_str(), hp_.arch_name.c_str()));
  // llama.cpp's rope type per architecture (llama_model_rope_type): llama NORM, the others NEOX
  hp_.rope_neox = hp_.arch != Arch::Llama;
  const bool qk_norm = hp_.arch == Arch::Qwen3 || hp_.arch == Arch::Qwen3Moe || hp_.arch == Arch::Gemma3;
  const bool gemma = hp_.arch == Arch::Gemma3;
  const std::string A = hp_.arch_name + ".";
  auto need_int = [&](const std::string& k) -> int64_t {
    int64_t id = key(A + k);
    if (id < 0) throw LrpError(fmt("'%s': GGUF key %s%s missing", path.c_str(), A.c_str(), k.c_str()));
    return kv_int(c, id);
  };
  auto opt_int = [&](const std::string& k, int64_t def, size_t idx = 0) -> int64_t {
    int64_t id = key(A + k);
    return id < 0 ? def : kv_int(c, id, idx);
  };
  auto opt_float = [&](const std::string& k, double def) -> double {
    int64_t id = key(A + k);
    return id < 0 ? def : kv_float(c, id);
  };
  hp_.n_layer = (int)need_int("block_count");
  hp_.n_embd = (int)need_int("embedding_length");
  hp_.n_ff = (int)opt_int("feed_forward_length", 0);
  hp_.n_head = (int)need_int("attention.head_count");
  hp_.n_head_kv = (int)opt_int("attention.head_count_kv", hp_.n_head);
  hp_.n_ctx = (int)opt_int("context_length", 4096);
  hp_.eps = (float)opt_float("attention.layer_norm_rms_epsilon", 1e-5);
  hp_.rope_base = (float)opt_float("rope.freq_base", 10000.0);
  hp_.n_expert = (int)opt_int("expert_count", 0);
  hp_.n_expert_used = (int)opt_int("expert_used_count", 0);
  if (hp_.arch == Arch::Qwen3Moe && hp_.n_expert <= 0)
    throw LrpError(fmt("'%s': qwen3moe without expert_count", path.c_str()));
  if (hp_.n_head <= 0 || hp_.n_embd % hp_.n_head) throw LrpError(fmt("'%s': head_count %d does not divide embedding_length %d", path.c_str(), hp_.n_head, hp_.n_embd));
  hp_.head_dim = (int)opt_int("attention.key_length", hp_.n_embd / hp_.n_head);
  hp_.n_rot = (int)opt_int("rope.dimension_count", hp_.head_dim);
  if (opt_int("attention.value_length", hp_.head_dim) != hp_.head_dim)
    throw LrpError(fmt("'%s': attention.value_length differs from key_length %d (not supported)", path.c_str(), hp_.head_dim));
  hp_.attn_scale = 1.0f / sqrtf((float)hp_.head_dim);
  if (gemma) {
    // llama_model_gemma3::load_arch_hparams: sqrt(d) on the embeddings, GELU FFN, sliding-window layers
    // (pattern p: layer l is local when l % p < p - 1; default 6) with their own rope base (default 10000)
    hp_.act = Act::GeluTanh;
    hp_.embd_scale = sqrtf((float)hp_.n_embd);
    hp_.n_swa = (int)opt_int("attention.sliding_window", 0);
    hp_.rope_base_swa = (float)opt_float("rope.freq_base_swa", 10000.0);
    if (hp_.n_layer == 62) hp_.attn_scale = 1.0f / sqrtf((float)(hp_.n_embd / hp_.n_head));  // 27B: gemma_pytorch's query_pre_attn_scalar
    if (opt_float("final_logit_softcapping", 0.0) != 0.0)
      throw LrpError(fmt("'%s': final logit softcapping is not supported", path.c_str()));
  }
  {
    int64_t id = key(A + "rope.scaling.type");
    std::string st = id >= 0 ? gguf_get_val_str(c, id) : "none";
    double factor = opt_float("rope.scaling.factor", 1.0);
    if (st == "linear" && factor > 0) hp_.rope_freq_scale = (float)(1.0 / factor);
    else if (st != "none" && st != "linear" && factor != 1.0)
      throw LrpError(fmt("'%s': rope scaling '%s' is not supported", path.c_str(), st.c_str()));
  }

  // map the file; every tensor must lie inside it
  const char* failed = nullptr;
  map_ = map_file(path.c_str(), &map_size_, &failed);
  if (!map_) throw LrpError(fmt("cannot %s '%s'", failed, path.c_str()));

  try {
    const size_t data_off = gguf_get_data_offset(c);
    std::map<std::string, Weight> ws;
    for (int64_t i = 0; i < gguf_get_n_tensors(c); i++) {
      const char* name = gguf_get_tensor_name(c, i);
      ggml_type t = gguf_get_tensor_type(c, i);
      if (!supported_type(t))
        throw LrpError(fmt("'%s': tensor '%s' has type %s, which the LRP engine does not support "
                           "(supported: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K)",
                           path.c_str(), name, ggml_type_name(t)));
      const size_t off = data_off + gguf_get_tensor_offset(c, i), sz = gguf_get_tensor_size(c, i);
      if (off + sz > map_size_)
        throw LrpError(fmt("'%s' is truncated: tensor '%s' ends at byte %zu but the file has %zu bytes", path.c_str(), name, off + sz, map_size_));
      const int64_t* ne = gguf_get_tensor_ne(c, i);
      Weight w;
      w.data = (const uint8_t*)map_ + off;
      w.type = t;
      w.C = ne[0];
      w.R = ne[1];
      w.E = ne[2] * ne[3];
      w.row_bytes = ggml_row_size(t, ne[0]);
      ws[name] = w;
    }
    auto get = [&](const std::string& n, bool required, int64_t C = -1, int64_t R = -1) -> Weight {
      auto it = ws.find(n);
      if (it == ws.end()) {
        if (required) throw LrpError(fmt("'%s': tensor '%s' missing", path.c_str(), n.c_str()));
        return Weight{};
      }
      const Weight& w = it->second;
      if ((C >= 0 && w.C != C) || (R >= 0 && w.R != R))
        throw LrpError(fmt("'%s': tensor '%s' has shape [%lld, %lld], expected [%lld, %lld]", path.c_str(), n.c_str(),
                           (long long)w.C, (long long)w.R, (long long)C, (long long)R));
      return w;
    };
    const int d = hp_.n_embd, hd = hp_.head_dim;
    tok_embd_ = get("token_embd.weight", true, d);
    hp_.n_vocab = (int)tok_embd_.R;
    out_norm_ = get("output_norm.weight", true, d);
    output_ = get("output.weight", false, d, hp_.n_vocab);
    if (!output_.present()) output_ = tok_embd_;  // tied
    rope_freqs_ = get("rope_freqs.weight", false);
    layers_.resize(hp_.n_layer);
    for (int l = 0; l < hp_.n_layer; l++) {
      Layer& L = layers_[l];
      const std::string p = "blk." + std::to_string(l) + ".";
      L.n_head_kv = (int)opt_int("attention.head_count_kv", hp_.n_head, l);
      if (L.n_head_kv <= 0 || hp_.n_head % L.n_head_kv) throw LrpError(fmt("'%s': head_count_kv %d does not divide head_count %d", path.c_str(), L.n_head_kv, hp_.n_head));
      if (ws.count(p + "attn_qkv.weight")) throw LrpError(fmt("'%s': fused attn_qkv tensors are not supported", path.c_str()));
      L.attn_norm = get(p + "attn_norm.weight", true, d);
      L.wq = get(p + "attn_q.weight", true, d, (int64_t)hp_.n_head * hd);
      L.wk = get(p + "attn_k.weight", true, d, (int64_t)L.n_head_kv * hd);
      L.wv = get(p + "attn_v.weight", true, d, (int64_t)L.n_head_kv * hd);
      L.wo = get(p + "attn_output.weight", true, (int64_t)hp_.n_head * hd, d);
      L.bq = get(p + "attn_q.bias", false, (int64_t)hp_.n_head * hd);
      L.bk = get(p + "attn_k.bias", false, (int64_t)L.n_head_kv * hd);
      L.bv = get(p + "attn_v.bias", false, (int64_t)L.n_head_kv * hd);
      L.bo = get(p + "attn_output.bias", false, d);
      if (qk_norm) {
        L.q_norm = get(p + "attn_q_norm.weight", true, hd);
        L.k_norm = get(p + "attn_k_norm.weight", true, hd);
      }
      if (gemma) {
        L.attn_post_norm = get(p + "post_attention_norm.weight", true, d);
        L.ffn_post_norm = get(p + "post_ffw_norm.weight", true, d);
        // llama.cpp reads a scalar pattern; an array (another model family's per-layer form) leaves its default 6
        const int64_t kp = key(A + "attention.sliding_window_pattern");
        const int pat = kp < 0 || gguf_get_kv_type(c, kp) == GGUF_TYPE_ARRAY ? 6 : (int)kv_int(c, kp);
        L.swa = hp_.n_swa > 0 && (pat == 0 || l % pat < pat - 1);
      }
      L.ffn_norm = get(p + "ffn_norm.weight", true, d);
      if (hp_.n_expert > 0) {
        if (hp_.n_expert_used <= 0 || hp_.n_expert_used > hp_.n_expert) throw LrpError(fmt("'%s': bad expert_used_count %d", path.c_str(), hp_.n_expert_used));
        L.router = get(p + "ffn_gate_inp.weight", true, d, hp_.n_expert);
        L.gate_exps = get(p + "ffn_gate_exps.weight", true, d);
        L.up_exps = get(p + "ffn_up_exps.weight", true, d, L.gate_exps.R);
        L.down_exps = get(p + "ffn_down_exps.weight", true, L.gate_exps.R, d);
        if (L.gate_exps.E != hp_.n_expert || L.up_exps.E != hp_.n_expert || L.down_exps.E != hp_.n_expert)
          throw LrpError(fmt("'%s': expert tensors of layer %d do not hold %d experts", path.c_str(), l, hp_.n_expert));
      } else {
        L.gate = get(p + "ffn_gate.weight", true, d);
        L.up = get(p + "ffn_up.weight", true, d, L.gate.R);
        L.down = get(p + "ffn_down.weight", true, L.gate.R, d);
      }
    }
    // the experts' FFN width (qwen3moe: expert_feed_forward_length; feed_forward_length is the unused dense one)
    if (hp_.n_expert > 0 && !layers_.empty()) hp_.n_ff = (int)layers_[0].gate_exps.R;
    for (auto* w : {&tok_embd_, &out_norm_})
      if (w->type != GGML_TYPE_F32 && w == &out_norm_) throw LrpError(fmt("'%s': output_norm must be F32", path.c_str()));
    for (const Layer& L : layers_)
      for (const Weight* w : {&L.attn_norm, &L.ffn_norm, &L.q_norm, &L.k_norm, &L.attn_post_norm, &L.ffn_post_norm})
        if (w->present() && w->type != GGML_TYPE_F32) throw LrpError(fmt("'%s': norm weights must be F32", path.c_str()));
  } catch (...) {
    unmap_file(map_, map_size_);
    map_ = nullptr;
    throw;
  }
}

Model::~Model() {
  unmap_file(map_, map_size_);
}

void Model::check_tokens(const std::vector<int32_t>& tokens) const {
  if (tokens.empty()) throw LrpError("empty token sequence");
  if ((int64_t)tokens.size() > hp_.n_ctx)
    throw LrpError(fmt("sequence of %zu tokens is longer than the model's context (%d)", tokens.size(), hp_.n_ctx));
  for (size_t i = 0; i < tokens.size(); i++)
    if (tokens[i] < 0 || tokens[i] >= hp_.n_vocab)
      throw LrpError(fmt("token %d at position %zu is out of range (vocabulary size %d)", tokens[i], i, hp_.n_vocab));
}

// ================================================================ saved activations
struct SavedExpert {
  std::vector<int> tok, slot;         // routed tokens and their top-k slot
  std::vector<float> gate, up, y;     // [Te, F], [Te, F], [Te, d]
};
struct Model::SavedLayer {
  std::vector<float> r1, r2;          // [T] frozen 1/rms of attention and FFN norms
  std::vector<float> rq, rk;          // [T, H], [T, Hkv] frozen 1/rms of the per-head q/k norms (qwen3, gemma3)
  std::vector<float> rpa, rpf;        // [T] frozen 1/rms of the post-attention and post-FFN norms (gemma3)
  std::vector<float> q, k, v;         // [T, H*hd], [T, Hkv*hd] x2 (q, k after RoPE)
  std::vector<float> gate, up;        // [T, F] dense FFN
  std::vector<int> sel;               // [T, K] selected experts
  std::vector<float> wsel;            // [T, K] their (renormalised) weights
  std::vector<SavedExpert> ex;
};
struct Model::Saved {
  using L = SavedLayer;
  std::vector<float> x0;   // [T, d] input embeddings
  std::vector<std::vector<float>> xin;  // checkpoint mode: [T, d] input of each layer (layers[l] filled on demand)
  std::vector<float> rf;   // [T] final norm
  std::vector<L> layers;
};

// ================================================================ small ops
// y[t] = x[t] * r[t] * w  with r[t] = 1/sqrt(mean(x[t]^2) + eps)   (x, y: [T, d])
static void rms_norm(const float* x, const float* w, int64_t T, int d, float eps, float* y, float* r_out) {
  for (int64_t t = 0; t < T; t++) {
    double s = 0;
    for (int i = 0; i < d; i++) s += (double)x[t * d + i] * x[t * d + i];
    const float r = 1.0f / sqrtf((float)(s / d) + eps);
    if (r_out) r_out[t] = r;
    for (int i = 0; i < d; i++) y[t * d + i] = x[t * d + i] * r * w[i];
  }
}

struct Rope {
  std::vector<float> cs, sn;  // [T, n_rot/2]
  int half = 0, n_rot = 0;
  bool neox = false;
  // the model's rope, or (swa) the tables of its sliding-window layers: base rope_base_swa, freq scale 1, no
  // frequency factors (llama_model::get_rope_freq_base / get_rope_freq_scale)
  Rope(const HParams& hp, int64_t T, const float* freq_factors, bool swa = false) {
    n_rot = hp.n_rot;
    half = n_rot / 2;
    neox = hp.rope_neox;
    cs.resize(T * half);
    sn.resize(T * half);
    const float base = swa ? hp.rope_base_swa : hp.rope_base, freq_scale = swa ? 1.0f : hp.rope_freq_scale;
    if (swa) freq_factors = nullptr;
    const float theta_scale = powf(base, -2.0f / n_rot);
    for (int64_t p = 0; p < T; p++) {
      float theta = (float)p;
      for (int i = 0; i < half; i++) {
        const float ff = freq_factors ? freq_factors[i] : 1.0f;
        const float th = freq_scale * (theta / ff);
        cs[p * half + i] = cosf(th);
        sn[p * half + i] = sinf(th);
        theta *= theta_scale;
      }
    }
  }
  // rotate one head vector at position p; inverse = rotate by -theta (the transpose, for gradients)
  void apply(float* v, int64_t p, bool inverse) const {
    for (int i = 0; i < half; i++) {
      const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
      const float c = cs[p * half + i], s = inverse ? -sn[p * half + i] : sn[p * half + i];
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
};


// a[s] = softmax over s <= t of (q . k_s) * scale, k_s = K + s * ldk: the one definition of the attention
// probabilities, used by the forward and again by the backward (which recomputes them from the saved q, k
// instead of keeping [H, T, T] maps: the same code on the same inputs gives the same bits)
// With a sliding window the keys s < s0 are masked: a[s] = 0 there (so every consumer of a, forward and backward,
// can keep summing over s <= t).
static void attention_row(const float* qv, const float* K, size_t ldk, int64_t t, int hd, float scale, float* a,
                          int64_t s0 = 0) {
  float mx = -INFINITY;
  for (int64_t s = s0; s <= t; s++) {
    a[s] = dot_f32(qv, K + s * ldk, hd) * scale;
    mx = std::max(mx, a[s]);
  }
  for (int64_t s = s0; s <= t; s++) a[s] -= mx;
  map_avx(a + s0, t + 1 - s0, a + s0, exp_avx);
  double sum = 0;
  for (int64_t s = s0; s <= t; s++) sum += a[s];
  const float inv = (float)(1.0 / sum);
  for (int64_t s = s0; s <= t; s++) a[s] *= inv;
  for (int64_t s = 0; s < s0; s++) a[s] = 0.f;
}
// first key position query t sees: 0, or with a window w (llama.cpp's LLAMA_SWA_TYPE_STANDARD: masked when t - s >= w)
static inline int64_t window_start(int64_t t, int w) { return w > 0 && t - w + 1 > 0 ? t - w + 1 : 0; }

// GELU, tanh form, as llama.cpp's CPU backend computes it (ggml_vec_geglu_f32 with GGML_GELU_FP16): the input
// rounded to fp16, looked up in a table of fp16(gelu_f32(x)) over all fp16 x; 0 below -10, x above 10. The engine
// mirrors it (rather than the exact function) so that its forward matches llama.cpp's.
static float gelu_f32(float x) {
  return 0.5f * x * (1.0f + tanhf(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x)));
}
static const uint16_t* gelu_table() {
  static const std::vector<uint16_t> tab = [] {
    std::vector<uint16_t> t(65536);
    for (int i = 0; i < 65536; i++) t[i] = f32_to_f16(gelu_f32(f16_to_f32((uint16_t)i)));
    return t;
  }();
  return tab.data();
}
static inline float gelu_ggml(float x, const uint16_t* tab) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return f16_to_f32(tab[f32_to_f16(x)]);
}
// p[i] = gelu(g[i]) * u[i], split over the threads in fixed ranges
static void gelu_mul(Pool& pool, const float* g, const float* u, int64_t n, float* p) {
  const uint16_t* tab = gelu_table();
  pool.run([&](int ith, int nth) {
    const int64_t a = n * ith / nth, b = n * (ith + 1) / nth;
    for (int64_t i = a; i < b; i++) p[i] = gelu_ggml(g[i], tab) * u[i];
  });
}

// p[i] = silu(g[i]) * u[i] = g[i] * sigmoid(g[i]) * u[i], split over the threads in fixed ranges (elementwise:
// same bits for any split); sigmoid from sigmoid_avx, as in the backward's SiLU rule
static void silu_mul(Pool& pool, const float* g, const float* u, int64_t n, float* p) {
  pool.run([&](int ith, int nth) {
    const int64_t a = n * ith / nth, b = n * (ith + 1) / nth;
    map_avx(g + a, b - a, p + a, sigmoid_avx);
    for (int64_t i = a; i < b; i++) p[i] = g[i] * p[i] * u[i];
  });
}

// ================================================================ forward
// What one forward pass shares between its layers: the threads, the rotary tables and scratch rows.
struct Model::FwdCtx {
  Pool& pool;
  int64_t T;
  Rope rope, rope_swa;  // rope_swa: the sliding-window layers' tables (empty without them)
  std::vector<float> h, nw, r, tmp;  // [T, d], [d], [T], [T, d]
  FwdCtx(Pool& p, const HParams& hp, int64_t T_, const float* freq_factors)
      : pool(p), T(T_), rope(hp, T_, freq_factors), rope_swa(hp, hp.n_swa > 0 ? T_ : 0, nullptr, true),
        h(T_ * hp.n_embd), nw(hp.n_embd), r(T_), tmp(T_ * hp.n_embd) {}
  const Rope& rope_of(const Layer& L) const { return L.swa ? rope_swa : rope; }
};

// per-head RMSNorm of q or k ([T * heads, hd] rows) with the norm weight w; r_out: [T * heads] 1/rms
static void head_norm(float* qk, const Weight& w, int64_t rows, int hd, float eps, std::vector<float>& r_out) {
  std::vector<float> nw(hd);
  dequant_row(w, 0, 0, nw.data());
  r_out.resize(rows);
  rms_norm(qk, nw.data(), rows, hd, eps, qk, r_out.data());
}

// layer l on the residual stream x [T, d] (updated in place); saves what the backward needs into S when non-null
void Model::forward_layer(FwdCtx& cx, int l, std::vector<float>& x, SavedLayer* S) const {
  Pool& pool = cx.pool;
  const int64_t T = cx.T;
  const int d = hp_.n_embd, H = hp_.n_head, hd = hp_.head_dim;
  const Layer& L = layers_[l];
  const Rope& rope = cx.rope_of(L);
  const float scale = hp_.attn_scale;
  const int window = L.swa ? hp_.n_swa : 0;
  std::vector<float>& h = cx.h;
  std::vector<float>& nw = cx.nw;
  std::vector<float>& r = cx.r;
  std::vector<float>& tmp = cx.tmp;
  const int Hkv = L.n_head_kv, grp = H / Hkv;
  // ---- attention
  dequant_row(L.attn_norm, 0, 0, nw.data());
  rms_norm(x.data(), nw.data(), T, d, hp_.eps, h.data(), r.data());
  std::vector<float> q(T * H * hd), k(T * Hkv * hd), v(T * Hkv * hd), o(T * H * hd, 0.f);
  {
    const FwdProduct qkv[3] = {{&L.wq, 0, q.data(), &L.bq}, {&L.wk, 0, k.data(), &L.bk}, {&L.wv, 0, v.data(), &L.bv}};
    matmul_fwd_n(pool, qkv, 3, h.data(), T);
  }
  std::vector<float> rq, rk;
  if (L.q_norm.present()) head_norm(q.data(), L.q_norm, T * H, hd, hp_.eps, rq);
  if (L.k_norm.present()) head_norm(k.data(), L.k_norm, T * Hkv, hd, hp_.eps, rk);
  for (int64_t t = 0; t < T; t++) {
    for (int hh = 0; hh < H; hh++) rope.apply(&q[(t * H + hh) * hd], t, false);
    for (int hh = 0; hh < Hkv; hh++) rope.apply(&k[(t * Hkv + hh) * hd], t, false);
  }
  pool.run([&](int ith, int nth) {
    std::vector<float> a(T);
    for (int hh = ith; hh < H; hh += nth) {
      const int kh = hh / grp;
      for (int64_t t = 0; t < T; t++) {
        const int64_t s0 = window_start(t, window);  // sliding window: the rows before s0 have a = 0, skipped
        attention_row(&q[(t * H + hh) * hd], &k[kh * hd], (size_t)Hkv * hd, t, hd, scale, a.data(), s0);
        weighted_rows(a.data() + s0, t + 1 - s0, &v[(s0 * Hkv + kh) * hd], (size_t)Hkv * hd, &o[(t * H + hh) * hd], hd);
      }
    }
  });
  matmul_fwd(pool, L.wo, 0, o.data(), T, tmp.data(), &L.bo);
  if (L.attn_post_norm.present()) {
    dequant_row(L.attn_post_norm, 0, 0, nw.data());
    std::vector<float> rp(T);
    rms_norm(tmp.data(), nw.data(), T, d, hp_.eps, tmp.data(), rp.data());
    if (S) S->rpa = std::move(rp);
  }
  for (int64_t i = 0; i < T * d; i++) x[i] += tmp[i];
  if (S) { S->r1 = r; S->q = std::move(q); S->k = std::move(k); S->v = std::move(v); S->rq = std::move(rq); S->rk = std::move(rk); }

  // ---- feed-forward
  dequant_row(L.ffn_norm, 0, 0, nw.data());
  rms_norm(x.data(), nw.data(), T, d, hp_.eps, h.data(), r.data());
  if (S) S->r2 = r;
  if (hp_.n_expert == 0) {
    const int64_t F = L.gate.R;
    std::vector<float> gt(T * F), up(T * F), p(T * F);
    const FwdProduct gu[2] = {{&L.gate, 0, gt.data(), nullptr}, {&L.up, 0, up.data(), nullptr}};
    matmul_fwd_n(pool, gu, 2, h.data(), T);
    if (hp_.act == Act::GeluTanh) gelu_mul(pool, gt.data(), up.data(), T * F, p.data());
    else silu_mul(pool, gt.data(), up.data(), T * F, p.data());
    matmul_fwd(pool, L.down, 0, p.data(), T, tmp.data(), nullptr);
    if (L.ffn_post_norm.present()) {
      dequant_row(L.ffn_post_norm, 0, 0, nw.data());
      std::vector<float> rp(T);
      rms_norm(tmp.data(), nw.data(), T, d, hp_.eps, tmp.data(), rp.data());
      if (S) S->rpf = std::move(rp);
    }
    for (int64_t i = 0; i < T * d; i++) x[i] += tmp[i];
    if (S) { S->gate = std::move(gt); S->up = std::move(up); }
  } else {
    const int E = hp_.n_expert, K = hp_.n_expert_used;
    const int64_t F = L.gate_exps.R;
    std::vector<float> lg(T * E);
    matmul_fwd(pool, L.router, 0, h.data(), T, lg.data(), nullptr);
    std::vector<int> sel(T * K);
    std::vector<float> wsel(T * K);
    std::vector<std::vector<int>> etok(E), eslot(E);
    for (int64_t t = 0; t < T; t++) {
      // softmax over all experts, top-k, renormalised over the selected (llama.cpp's norm_w = true)
      float mx = -INFINITY;
      for (int e = 0; e < E; e++) mx = std::max(mx, lg[t * E + e]);
      std::vector<float> pe(E);
      double sum = 0;
      for (int e = 0; e < E; e++) { pe[e] = expf(lg[t * E + e] - mx); sum += pe[e]; }
      for (int e = 0; e < E; e++) pe[e] = (float)(pe[e] / sum);
      std::vector<int> idx(E);
      std::iota(idx.begin(), idx.end(), 0);
      std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return pe[a] > pe[b]; });
      float ws = 0;
      for (int kk = 0; kk < K; kk++) ws += pe[idx[kk]];
      for (int kk = 0; kk < K; kk++) {
        sel[t * K + kk] = idx[kk];
        wsel[t * K + kk] = pe[idx[kk]] / ws;
        etok[idx[kk]].push_back((int)t);
        eslot[idx[kk]].push_back(kk);
      }
    }
    std::fill(tmp.begin(), tmp.end(), 0.f);
    if (S) S->ex.resize(E);
    for (int e = 0; e < E; e++) {
      const int64_t Te = (int64_t)etok[e].size();
      if (!Te) continue;
      std::vector<float> xe(Te * d), gt(Te * F), up(Te * F), p(Te * F), ye(Te * d);
      for (int64_t i = 0; i < Te; i++) std::copy(&h[etok[e][i] * d], &h[etok[e][i] * d] + d, &xe[i * d]);
      const FwdProduct gu[2] = {{&L.gate_exps, e, gt.data(), nullptr}, {&L.up_exps, e, up.data(), nullptr}};
      matmul_fwd_n(pool, gu, 2, xe.data(), Te);
      silu_mul(pool, gt.data(), up.data(), Te * F, p.data());
      matmul_fwd(pool, L.down_exps, e, p.data(), Te, ye.data(), nullptr);
      for (int64_t i = 0; i < Te; i++) {
        const int t = etok[e][i];
        const float w = wsel[t * K + eslot[e][i]];
        for (int j = 0; j < d; j++) tmp[t * d + j] += w * ye[i * d + j];
      }
      if (S) {
        auto& X = S->ex[e];
        X.tok = etok[e]; X.slot = eslot[e];
        X.gate = std::move(gt); X.up = std::move(up); X.y = std::move(ye);
      }
    }
    for (int64_t i = 0; i < T * d; i++) x[i] += tmp[i];
    if (S) { S->sel = std::move(sel); S->wsel = std::move(wsel); }
  }
}

// embeddings, then every layer; x ends as the final residual stream [T, d]. With sv: keeps what the backward needs,
// either every layer's activations or (checkpoint) only each layer's input, from which the backward recomputes
// one layer at a time.
void Model::run_blocks(const std::vector<int32_t>& tokens, std::vector<float>& x, Saved* sv, bool checkpoint,
                       const Progress& pr, int total, Precision precision) {
  Pool pool(threads_);
  pool.int8 = precision == Precision::Int8;
  const int64_t T = (int64_t)tokens.size();
  const int d = hp_.n_embd;
  x.assign(T * d, 0.f);
  for (int64_t t = 0; t < T; t++) dequant_row(tok_embd_, 0, tokens[t], &x[t * d]);
  if (hp_.embd_scale != 1.f)
    for (int64_t i = 0; i < T * d; i++) x[i] *= hp_.embd_scale;
  if (sv) {
    sv->x0 = x;
    sv->layers.resize(hp_.n_layer);
    if (checkpoint) sv->xin.resize(hp_.n_layer);
  }
  std::vector<float> ff = rope_factors();
  FwdCtx cx(pool, hp_, T, ff.empty() ? nullptr : ff.data());
  for (int l = 0; l < hp_.n_layer; l++) {
    if (pr.cancelled()) throw LrpError("cancelled");
    if (sv && checkpoint) sv->xin[l] = x;
    forward_layer(cx, l, x, sv && !checkpoint ? &sv->layers[l] : nullptr);
    if (pr.report) pr.report(l + 1, total, "forward");
  }
}

std::vector<float> Model::rope_factors() const {
  std::vector<float> ff;
  if (rope_freqs_.present()) { ff.resize(rope_freqs_.C); dequant_row(rope_freqs_, 0, 0, ff.data()); }
  return ff;
}

static void log_softmax_row(const float* z, int64_t V, float* out) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < V; i++) mx = std::max(mx, z[i]);
  double s = 0;
  for (int64_t i = 0; i < V; i++) s += std::exp((double)z[i] - mx);
  const double lse = mx + std::log(s);
  for (int64_t i = 0; i < V; i++) out[i] = (float)(z[i] - lse);
}

using clk = std::chrono::steady_clock;
static double ms_since(clk::time_point a) { return std::chrono::duration<double, std::milli>(clk::now() - a).count(); }

std::vector<float> Model::forward_logprobs(const std::vector<int32_t>& tokens, const Progress& pr, double* ms) {
  check_tokens(tokens);
  auto t0 = clk::now();
  const int64_t T = (int64_t)tokens.size(), d = hp_.n_embd, V = hp_.n_vocab;
  std::vector<float> x;
  run_blocks(tokens, x, nullptr, false, pr, hp_.n_layer);
  std::vector<float> nw(d), h(T * d), logits(T * V);
  dequant_row(out_norm_, 0, 0, nw.data());
  rms_norm(x.data(), nw.data(), T, (int)d, hp_.eps, h.data(), nullptr);
  {
    Pool pool(threads_);
    matmul_fwd(pool, output_, 0, h.data(), T, logits.data(), nullptr);
  }
  for (int64_t t = 0; t < T; t++) log_softmax_row(&logits[t * V], V, &logits[t * V]);
  if (ms) *ms = ms_since(t0);
  return logits;
}

// ================================================================ LRP backward: one function per rule
// What the backward of one explanation shares between its layers: the threads, the rule set, the modified
// gradient g of the residual stream [T, d] (the relevance's running "gradient"), and gh [T, d], the gradient at
// the output of the norm in front of the branch being walked back.
struct Model::BwdCtx {
  Pool& pool;
  int64_t T;
  int d;
  bool attn_rule, detach;
  std::vector<float> g, gh, nw;  // [T, d], [T, d], [d]
  std::vector<float> gb;         // [T, d] gradient at a branch's output before its post-norm (gemma3), else empty
  int64_t attn_tile;             // query rows per tile of the attention backward's buffers
  BwdCtx(Pool& p, int64_t T_, int d_, bool attn, bool det, int64_t tile)
      : pool(p), T(T_), d(d_), attn_rule(attn), detach(det), g(T_ * d_, 0.f), gh(T_ * d_), nw(d_), attn_tile(tile) {}
};

// RMSNorm y = w x r, r = 1/sqrt(mean x^2 + eps), identity rule (r frozen, sg(r)): both rule sets, every norm
// (input norms, gemma3's post-norms, the per-head q/k norms of qwen3 and gemma3), as lxt does: the norm's scale
// is a division by a statistic of the same vector, a multiplicative factor the rule keeps fixed, so the map
// x -> y is linear and passes relevance through unchanged in sum (conservation).
// gx[row] (+)= (gy[row] * w) * r[row] over rows of dim values; accumulate: the residual stream receives a
// branch's gradient through its input norm; otherwise gx is overwritten (gx may be gy).
static void norm_rule(float* gx, const float* gy, const Weight& normw, const float* r, std::vector<float>& nw,
                      int64_t rows, int dim, bool accumulate) {
  nw.resize(dim);
  dequant_row(normw, 0, 0, nw.data());
  for (int64_t t = 0; t < rows; t++)
    for (int i = 0; i < dim; i++) {
      const float v = gy[t * dim + i] * nw[i] * r[t];
      gx[t * dim + i] = accumulate ? gx[t * dim + i] + v : v;
    }
}

// p = act(gate) * up: from g_p (in gp) to g_gate (gg) and g_up (gp, overwritten). CP with `detach`: the gate is
// frozen, all relevance to up; otherwise the 1/2 - 1/2 product split, then the activation's identity rule
// act(gate) = sg(act(gate) / gate) * gate: for SiLU the ratio is sigmoid(gate); for GELU (gemma3; lxt's identity
// rule on GELU) it is the forward's own gelu value over gate, so gate x ratio gives back exactly the forward's
// activation and CP-LRP still conserves.
static void gate_up_rule(const float* gate, const float* up, float* gp, float* gg, int64_t n, bool detach, Act act_kind) {
  if (act_kind == Act::GeluTanh) {
    const uint16_t* tab = gelu_table();
    for (int64_t i = 0; i < n; i++) {
      const float x = gate[i], act = gelu_ggml(x, tab), ratio = x != 0.f ? act / x : 0.5f;
      if (detach) {
        gg[i] = 0.f;
        gp[i] = gp[i] * act;
      } else {
        gg[i] = 0.5f * gp[i] * up[i] * ratio;
        gp[i] = 0.5f * gp[i] * act;
      }
    }
    return;
  }
  map_avx(gate, n, gg, sigmoid_avx);  // gg holds sigmoid(gate) until overwritten below
  for (int64_t i = 0; i < n; i++) {
    const float sg = gg[i], act = gate[i] * sg;
    if (detach) {
      gg[i] = 0.f;           // frozen gate: all relevance to up
      gp[i] = gp[i] * act;   // becomes g_up
    } else {
      gg[i] = 0.5f * gp[i] * up[i] * sg;  // 1/2 split, then SiLU identity rule: act = sg(sigmoid(gate)) * gate
      gp[i] = 0.5f * gp[i] * act;
    }
  }
}

// dense gated FFN y = down(act(gate h) * up h): gy (gradient at y) -> gh (gradient at h)
void Model::ffn_dense_backward(BwdCtx& b, const Layer& L, SavedLayer& S, const float* gy) const {
  const int64_t T = b.T, F = L.gate.R;
  std::vector<float> gp(T * F, 0.f), gg(T * F);
  matmul_bwd(b.pool, L.down, 0, gy, T, gp.data());
  gate_up_rule(S.gate.data(), S.up.data(), gp.data(), gg.data(), T * F, b.detach, hp_.act);
  if (!b.detach) matmul_bwd(b.pool, L.gate, 0, gg.data(), T, b.gh.data());
  matmul_bwd(b.pool, L.up, 0, gp.data(), T, b.gh.data());
}

// MoE FFN y = sum_k w_k expert_k(h): weight x expert frozen weight (CP) or 1/2 split (AttnLRP); router: no
// relevance (CP), or the softmax rule on the renormalised top-k weights (AttnLRP). gy -> gh
void Model::ffn_moe_backward(BwdCtx& b, const Layer& L, SavedLayer& S, const float* gy) const {
  const int64_t T = b.T;
  const int d = b.d, E = hp_.n_expert, K = hp_.n_expert_used;
  const int64_t F = L.gate_exps.R;
  const float* g = gy;
  std::vector<float>& gh = b.gh;
  std::vector<float> gw(T * K, 0.f);  // gradient at the expert weights (AttnLRP only)
  for (int e = 0; e < E; e++) {
    if (S.ex.empty() || S.ex[e].tok.empty()) continue;
    auto& X = S.ex[e];
    const int64_t Te = (int64_t)X.tok.size();
    // weight x expert output: frozen weight (CP) or 1/2 split (AttnLRP)
    std::vector<float> ge(Te * d), gp(Te * F, 0.f), gg(Te * F), gx(Te * d, 0.f);
    for (int64_t i = 0; i < Te; i++) {
      const int t = X.tok[i], kk = X.slot[i];
      const float w = S.wsel[t * K + kk];
      const float f = b.attn_rule ? 0.5f * w : w;
      double dot = 0;
      for (int j = 0; j < d; j++) {
        ge[i * d + j] = f * g[t * d + j];
        dot += (double)g[t * d + j] * X.y[i * d + j];
      }
      if (b.attn_rule) gw[t * K + kk] = (float)(0.5 * dot);
    }
    matmul_bwd(b.pool, L.down_exps, e, ge.data(), Te, gp.data());
    gate_up_rule(X.gate.data(), X.up.data(), gp.data(), gg.data(), Te * F, b.detach, hp_.act);
    if (!b.detach) matmul_bwd(b.pool, L.gate_exps, e, gg.data(), Te, gx.data());
    matmul_bwd(b.pool, L.up_exps, e, gp.data(), Te, gx.data());
    for (int64_t i = 0; i < Te; i++)
      for (int j = 0; j < d; j++) gh[X.tok[i] * d + j] += gx[i * d + j];
  }
  if (b.attn_rule) {
    // renormalised top-k weights = softmax over the selected router logits: softmax rule (true VJP)
    std::vector<float> gl(T * E, 0.f);
    for (int64_t t = 0; t < T; t++) {
      double s = 0;
      for (int kk = 0; kk < K; kk++) s += (double)S.wsel[t * K + kk] * gw[t * K + kk];
      for (int kk = 0; kk < K; kk++)
        gl[t * E + S.sel[t * K + kk]] = S.wsel[t * K + kk] * (float)(gw[t * K + kk] - s);
    }
    matmul_bwd(b.pool, L.router, 0, gl.data(), T, gh.data());
  }
}

// Query rows per tile of the backward's attention buffers (see attention_backward): RW_LRP_ATTN_TILE when set to
// a positive integer (tests force small tiles with it), else 256, so inputs up to 256 tokens take one tile and
// longer ones keep [256, T] per thread instead of [T, T]. Read at every explanation.
static int64_t lrp_attn_tile() {
  const char* e = std::getenv("RW_LRP_ATTN_TILE");
  if (e && *e) {
    char* end = nullptr;
    const long v = std::strtol(e, &end, 10);
    if (*end == 0 && v > 0) return v;
  }
  return 256;
}

// acc[s] += sum_{t in [t0, t1), t >= s} f * M[t, s] src[t] for the rows [t0, t1) of a lower-triangular [T, T] matrix
// (M: those rows, M[(t - t0) * T + s]), src rows at stride lds, acc [T, hd]. A sum over t that lands on row s,
// taken per s over a column of M with register accumulators (weighted_rows) instead of adding into the row for
// every (t, s) pair; the accumulators carried from tile to tile in acc (starting at +0), so that the tiles in
// ascending order make the same FMAs for each s as one pass over all rows. col: scratch of t1 - t0 floats.
static void add_columns(const float* M, int64_t T, int64_t t0, int64_t t1, float f, const float* src, size_t lds,
                        float* acc, int hd, float* col) {
  for (int64_t s = 0; s < t1; s++) {
    const int64_t ts = std::max(s, t0);
    for (int64_t t = ts; t < t1; t++) col[t - ts] = f * M[(t - t0) * T + s];
    weighted_rows(col, t1 - ts, src + ts * lds, lds, acc + s * hd, hd, true);
  }
}
// rows[s] += acc[s] for s < T (each column sum once complete)
static void add_rows(const float* acc, int64_t T, float* rows, size_t ldr, int hd) {
  for (int64_t s = 0; s < T; s++)
    for (int i = 0; i < hd; i++) rows[s * ldr + i] += acc[s * hd + i];
}

// CP-LRP attention (o = sg(A) v): all relevance to v, gv[s] += sum_t A[t, s] go[t]; AttnLRP's o = A v 1/2 - 1/2
// split sends half of it (f = 1/2). A: the rows [t0, t1), accumulated into av as add_columns does.
static void attention_value_rule(const float* A, int64_t T, int64_t t0, int64_t t1, float f, const float* go,
                                 size_t ldo, float* av, int hd, float* col) {
  add_columns(A, T, t0, t1, f, go, ldo, av, hd, col);
}

// AttnLRP's softmax rule on the other half of o = A v: the true softmax VJP A (gA - sum A gA), through the
// 1/sqrt(hd) scale, then q k^T split 1/2 - 1/2 into gq (rows t) and gk (rows s), for the rows [t0, t1): A, Gs
// ([t1 - t0, T] scratch) hold those rows; gq's rows are written, gk's column sums accumulated into ak.
static void attention_softmax_rule(const float* A, int64_t T, int64_t t0, int64_t t1, int hd, float scale,
                                   const float* go, size_t ldo, const float* q, size_t ldq, const float* k,
                                   const float* v, size_t ldkv, float* gq, float* ak, float* Gs, float* gA, float* col) {
  for (int64_t t = t0; t < t1; t++) {
    const float* At = A + (t - t0) * T;
    const float* gov = go + t * ldo;
    double sAg = 0;
    for (int64_t s = 0; s <= t; s++) {
      gA[s] = 0.5f * dot_f32(gov, v + s * ldkv, hd);
      sAg += (double)At[s] * gA[s];
    }
    float* gs = &Gs[(t - t0) * T];  // 1/2 of the score gradient (the q k^T split)
    for (int64_t s = 0; s <= t; s++) gs[s] = 0.5f * (At[s] * (gA[s] - (float)sAg) * scale);
    weighted_rows(gs, t + 1, k, ldkv, gq + t * ldq, hd);
  }
  add_columns(Gs, T, t0, t1, 1.0f, q, ldq, ak, hd, col);
}

// attention block o = softmax(q k^T * scale) v, y = wo o: gy (gradient at y) -> gh (gradient at the attention
// norm's output). The attention maps are recomputed per head from the saved q, k by the forward's attention_row
// (sliding-window layers: the same window). q and k: after their per-head norms (identity rule) and RoPE.
// Bounded memory: a thread walks a head's query rows in tiles [t0, t1) of at most attn_tile rows, [tile, T]
// instead of [T, T] (AttnLRP: twice), each row computed once; the per-key column sums for gv and gk run on over
// the tiles in [T, hd] accumulators and are added to gv, gk once complete: the same FMAs in the same order as
// from whole maps, so relevances do not depend on the tile size (tests/lrp/tiling.test.ts).
void Model::attention_backward(BwdCtx& b, const Layer& L, SavedLayer& S, const Rope& rope, const float* gy) const {
  Pool& pool = b.pool;
  const int64_t T = b.T;
  const int H = hp_.n_head, hd = hp_.head_dim, Hkv = L.n_head_kv, grp = H / Hkv;
  const bool attn_rule = b.attn_rule;
  const int window = L.swa ? hp_.n_swa : 0;
  const int64_t tile = std::min<int64_t>(b.attn_tile, T);
  std::vector<float> go(T * H * hd, 0.f), gq(T * H * hd, 0.f), gk(T * Hkv * hd, 0.f), gv(T * Hkv * hd, 0.f);
  matmul_bwd(pool, L.wo, 0, gy, T, go.data());
  const float scale = hp_.attn_scale;
  const size_t ldq = (size_t)H * hd, ldkv = (size_t)Hkv * hd;
  // heads of one KV group write the same gk/gv rows: a thread owns whole groups
  pool.run([&](int ith, int nth) {
    std::vector<float> gA(T), col(tile), Atile((size_t)tile * T), av((size_t)T * hd), ak, Gs;
    if (attn_rule) Gs.assign((size_t)tile * T, 0.f), ak.assign((size_t)T * hd, 0.f);
    for (int kh = ith; kh < Hkv; kh += nth)
      for (int hh = kh * grp; hh < (kh + 1) * grp; hh++) {
        std::fill(av.begin(), av.end(), 0.f);
        std::fill(ak.begin(), ak.end(), 0.f);
        for (int64_t t0 = 0; t0 < T; t0 += tile) {
          const int64_t t1 = std::min(T, t0 + tile);
          // this head's probabilities, recomputed as the forward computed them (rows t, entries s <= t)
          for (int64_t t = t0; t < t1; t++)
            attention_row(&S.q[(t * H + hh) * hd], &S.k[kh * hd], ldkv, t, hd, scale, &Atile[(t - t0) * T],
                          window_start(t, window));
          attention_value_rule(Atile.data(), T, t0, t1, attn_rule ? 0.5f : 1.0f, &go[hh * hd], ldq, av.data(), hd,
                               col.data());
          if (attn_rule)
            attention_softmax_rule(Atile.data(), T, t0, t1, hd, scale, &go[hh * hd], ldq, &S.q[hh * hd], ldq,
                                   &S.k[kh * hd], &S.v[kh * hd], ldkv, &gq[hh * hd], ak.data(), Gs.data(), gA.data(),
                                   col.data());
        }
        add_rows(av.data(), T, &gv[kh * hd], ldkv, hd);
        if (attn_rule) add_rows(ak.data(), T, &gk[kh * hd], ldkv, hd);
      }
  });
  std::vector<float>& gh = b.gh;
  std::fill(gh.begin(), gh.end(), 0.f);
  matmul_bwd(pool, L.wv, 0, gv.data(), T, gh.data());
  if (attn_rule) {
    for (int64_t t = 0; t < T; t++) {
      for (int hh = 0; hh < H; hh++) rope.apply(&gq[(t * H + hh) * hd], t, true);
      for (int hh = 0; hh < Hkv; hh++) rope.apply(&gk[(t * Hkv + hh) * hd], t, true);
    }
    std::vector<float> nw;
    if (L.q_norm.present()) norm_rule(gq.data(), gq.data(), L.q_norm, S.rq.data(), nw, T * H, hd, false);
    if (L.k_norm.present()) norm_rule(gk.data(), gk.data(), L.k_norm, S.rk.data(), nw, T * Hkv, hd, false);
    matmul_bwd(pool, L.wq, 0, gq.data(), T, gh.data());
    matmul_bwd(pool, L.wk, 0, gk.data(), T, gh.data());
  }
}

// layer l walked back, mirroring forward_layer in reverse: the FFN branch and its norm, then the attention branch
// and its norm; b.g (the residual stream's gradient) is updated in place
void Model::backward_layer(FwdCtx& cx, BwdCtx& b, int l, SavedLayer& S) const {
  const Layer& L = layers_[l];
  const int64_t T = b.T;
  const int d = b.d;
  // a branch's output gradient: the residual gradient g, or through the branch's post-norm (gemma3) into gb
  auto branch_out = [&](const Weight& post, const std::vector<float>& r) -> const float* {
    if (!post.present()) return b.g.data();
    b.gb.resize(T * d);
    norm_rule(b.gb.data(), b.g.data(), post, r.data(), b.nw, T, d, false);
    return b.gb.data();
  };
  // ---- feed-forward
  std::fill(b.gh.begin(), b.gh.end(), 0.f);
  const float* gf = branch_out(L.ffn_post_norm, S.rpf);
  if (hp_.n_expert == 0) ffn_dense_backward(b, L, S, gf);
  else ffn_moe_backward(b, L, S, gf);
  norm_rule(b.g.data(), b.gh.data(), L.ffn_norm, S.r2.data(), b.nw, T, d, true);
  // ---- attention
  attention_backward(b, L, S, cx.rope_of(L), branch_out(L.attn_post_norm, S.rpa));
  norm_rule(b.g.data(), b.gh.data(), L.attn_norm, S.r1.data(), b.nw, T, d, true);
}

// ================================================================ LRP backward
// bytes of float activations the backward keeps for T tokens: every layer's (q, k, v, norms, FFN
// gate/up or routed experts), or with checkpointing each layer's input plus one layer's activations
double Model::saved_bytes(int64_t T, bool checkpoint) const {
  const double t = (double)T, d = hp_.n_embd, H = hp_.n_head, hd = hp_.head_dim, Hkv = hp_.n_head_kv;
  const double F = hp_.n_ff, K = hp_.n_expert_used;
  const double ffn = hp_.n_expert > 0 ? t * K * (2 * F + d) + 2 * t * K : 2 * t * F;
  const bool qk_norm = !layers_.empty() && layers_[0].q_norm.present(), post = !layers_.empty() && layers_[0].attn_post_norm.present();
  const double norms = 2 * t + (qk_norm ? t * (H + Hkv) : 0) + (post ? 2 * t : 0);  // frozen 1/rms scales
  const double layer = norms + t * (H + 2 * Hkv) * hd + ffn;  // attention maps are recomputed, not kept
  const double base = t * d + t;  // x0, final norm
  return 4.0 * (checkpoint ? base + hp_.n_layer * t * d + layer : base + hp_.n_layer * layer);
}

// gradients of the residual stream and one layer's products ([T, d] x 4, [T, F] x 2, q/k/v/o gradients), and per
// thread one tile of a head's attention map (AttnLRP: and of its score gradient), [min(T, tile), T], with the
// [T, hd] column sums and a row of T floats: linear in T (an 8B Llama over 8,192 tokens on 2 threads: 16 MiB of
// tiles, not the 512 MiB of whole maps)
double Model::working_bytes(int64_t T, bool attn_rule) const {
  const double t = (double)T, d = hp_.n_embd, F = hp_.n_ff, H = hp_.n_head, hd = hp_.head_dim, Hkv = hp_.n_head_kv;
  const double grads = 4 * t * d + 2 * t * F + t * (2 * H + 2 * Hkv) * hd;
  const double tile = (double)std::min<int64_t>(T, lrp_attn_tile());
  const double per_thread = (attn_rule ? 2 : 1) * (tile * t + t * hd) + 2 * t;  // tiles, column sums; gA, col
  return 4.0 * (grads + threads_ * per_thread);
}

double Model::physical_memory() {
  const double b = physical_memory_bytes();
  return b > 0 ? b : 16.0 * (1ull << 30);
}

ExplainResult Model::explain(const ExplainRequest& req, const Progress& pr) {
  check_tokens(req.tokens);
  const int64_t V = hp_.n_vocab;
  if (req.target < -1 || req.target >= V) throw LrpError(fmt("target token id %d is out of range (vocabulary size %lld)", req.target, (long long)V));
  if (req.contrast < -1 || req.contrast >= V) throw LrpError(fmt("contrast token id %d is out of range (vocabulary size %lld)", req.contrast, (long long)V));
  const bool attn_rule = req.rule == Rule::Attn;
  const bool detach = req.gate == Gate::Detach && !attn_rule;
  const int total = 2 * hp_.n_layer;
  ExplainResult res;
  auto t0 = clk::now();
  const int64_t T = (int64_t)req.tokens.size();
  const int d = hp_.n_embd;
  Saved sv;
  std::vector<float> x;
  // automatic checkpointing when a full save would take more than a quarter of the memory (e.g. an 8B Llama over
  // 1,500 tokens: ~7.1 GB of q/k/v and FFN activations, ~1.0 GB checkpointed); a refusal with the figures when even that will
  // not fit, rather than an allocation failure halfway or the system's out-of-memory killer
  const double mem = req.memory_limit > 0 ? req.memory_limit : physical_memory();
  const double full = saved_bytes(T, false);
  const bool checkpoint = req.checkpoint == 1 || (req.checkpoint < 0 && full > 0.25 * mem);
  const double need = saved_bytes(T, checkpoint) + working_bytes(T, attn_rule);
  if (need > 0.8 * mem) {
    const double gib = 1024.0 * 1024.0 * 1024.0;
    throw LrpError(fmt("explaining %lld tokens needs about %.2f GiB of working memory (%s activations, %d layers, "
                       "%d heads), more than 80%% of the %.2f GiB available; use a shorter text%s",
                       (long long)T, need / gib, checkpoint ? "recomputed" : "saved", hp_.n_layer, hp_.n_head, mem / gib,
                       checkpoint ? "" : " or activations 'recompute'"));
  }
  res.checkpointed = checkpoint;
  res.saved_bytes = saved_bytes(T, checkpoint);
  run_blocks(req.tokens, x, &sv, checkpoint, pr, total, req.precision);
  // final norm and the logits at the last position only
  std::vector<float> nwf(d), hl(d), logits(V);
  dequant_row(out_norm_, 0, 0, nwf.data());
  sv.rf.resize(T);
  {
    std::vector<float> hall(T * d);
    rms_norm(x.data(), nwf.data(), T, d, hp_.eps, hall.data(), sv.rf.data());
    std::copy(&hall[(T - 1) * d], &hall[T * d], hl.begin());
  }
  Pool pool(threads_);
  pool.int8 = req.precision == Precision::Int8;  // the logits and every product of the backward
  matmul_fwd(pool, output_, 0, hl.data(), 1, logits.data(), nullptr);
  res.logprobs.resize(V);
  log_softmax_row(logits.data(), V, res.logprobs.data());
  int32_t target = req.target;
  if (target < 0) target = (int32_t)(std::max_element(logits.begin(), logits.end()) - logits.begin());
  res.target = target;
  res.value = (double)logits[target] - (req.contrast >= 0 ? (double)logits[req.contrast] : 0.0);
  res.forward_ms = ms_since(t0);
  auto t1 = clk::now();

  // g: d(explained value)/d(residual stream) under the rule set, [T, d]
  BwdCtx bx(pool, T, d, attn_rule, detach, lrp_attn_tile());
  std::vector<float>& g = bx.g;
  {
    std::vector<float> gh(d), row(d);
    dequant_row(output_, 0, target, gh.data());
    if (req.contrast >= 0) {
      dequant_row(output_, 0, req.contrast, row.data());
      for (int i = 0; i < d; i++) gh[i] -= row[i];
    }
    const float rr = sv.rf[T - 1];  // frozen norm scale
    for (int i = 0; i < d; i++) g[(T - 1) * d + i] = gh[i] * nwf[i] * rr;
  }

  // the forward's context: layers recomputed in checkpoint mode, and the rotary tables AttnLRP's q/k gradients
  // are rotated back with
  std::vector<float> ff = rope_factors();
  FwdCtx cx(pool, hp_, T, ff.empty() ? nullptr : ff.data());
  for (int l = hp_.n_layer - 1; l >= 0; l--) {
    if (pr.cancelled()) throw LrpError("cancelled");
    Saved::L& S = sv.layers[l];
    if (checkpoint) {
      // recompute this layer from its saved input (same code and inputs: the same bits as a saved pass)
      std::vector<float> xl = std::move(sv.xin[l]);
      forward_layer(cx, l, xl, &S);
    }
    backward_layer(cx, bx, l, S);
    if (checkpoint) S = SavedLayer();  // at most one layer's activations live at a time
    if (pr.report) pr.report(hp_.n_layer + (hp_.n_layer - l), total, "backward");
  }
  res.relevance.resize(T);
  for (int64_t t = 0; t < T; t++) {
    double s = 0;
    for (int i = 0; i < d; i++) s += (double)sv.x0[t * d + i] * g[t * d + i];
    res.relevance[t] = (float)s;
  }
  res.backward_ms = ms_since(t1);
  return res;
}

}  // namespace rw
