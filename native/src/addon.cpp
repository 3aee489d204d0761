// Node-API (C, ABI-stable) binding of the LRP engine. Heavy work runs as napi async work on libuv's pool;
// progress goes back through a thread-safe function, cancellation through an Int32Array flag the worker polls.
#include <node_api.h>

#include <cstring>
#include <memory>
#include <string>

#include "engine.h"
#include "platform.h"
#include "simd.h"
#include "version_check.h"

#ifndef RW_GGML_VERSION
#error "RW_GGML_VERSION must be defined by the build (ggml version of the headers)"
#endif
#ifndef RW_GGML_COMMIT
#error "RW_GGML_COMMIT must be defined by the build"
#endif

using namespace rw;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "rw_lrp: N-API call failed: " #call); \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

namespace {

struct Handle {
  std::unique_ptr<Model> model;
  int running = 0;
  bool closed = false;
  void maybe_free() {
    if (closed && running == 0) model.reset();
  }
};

struct Job {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref handle_ref = nullptr, cancel_ref = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  Handle* h = nullptr;
  bool is_explain = false;
  ExplainRequest req;
  const volatile int32_t* cancel = nullptr;
  // results
  bool ok = false;
  std::string error;
  ExplainResult res;
  std::vector<float> logprobs;
  double ms = 0;
};

struct ProgressMsg {
  int done, total;
  const char* phase;
};

napi_value make_error(napi_env env, const std::string& msg, const char* code = nullptr) {
  napi_value m, err;
  napi_create_string_utf8(env, msg.c_str(), msg.size(), &m);
  napi_create_error(env, nullptr, m, &err);
  if (code) {
    napi_value c;
    napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
    napi_set_named_property(env, err, "code", c);
  }
  return err;
}

Handle* get_handle(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, nullptr, "rw_lrp: expected a model handle");
    return nullptr;
  }
  Handle* h = (Handle*)p;
  if (h->closed) {
    napi_throw_error(env, "ERR_LRP_CLOSED", "rw_lrp: the model is closed");
    return nullptr;
  }
  return h;
}

bool get_tokens(napi_env env, napi_value v, std::vector<int32_t>& out) {
  napi_typedarray_type tt;
  size_t len;
  void* data;
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta || napi_get_typedarray_info(env, v, &tt, &len, &data, nullptr, nullptr) != napi_ok || tt != napi_int32_array) {
    napi_throw_type_error(env, nullptr, "rw_lrp: tokens must be an Int32Array");
    return false;
  }
  out.assign((int32_t*)data, (int32_t*)data + len);
  return true;
}

napi_value f32array(napi_env env, const float* src, size_t n) {
  napi_value ab, ta;
  void* data;
  napi_create_arraybuffer(env, n * sizeof(float), &data, &ab);
  if (n) memcpy(data, src, n * sizeof(float));
  napi_create_typedarray(env, napi_float32_array, n, ab, 0, &ta);
  return ta;
}

void set_num(napi_env env, napi_value obj, const char* k, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  napi_set_named_property(env, obj, k, v);
}

// ---------------------------------------------------------------- open / info / close
void finalize_handle(napi_env, void* data, void*) {
  Handle* h = (Handle*)data;
  // a running job holds a reference to the handle object, so it cannot be collected while in use
  delete h;
}

napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], nullptr, 0, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "rw_lrp.open: path must be a string");
    return nullptr;
  }
  std::string path(len, '\0');
  napi_get_value_string_utf8(env, argv[0], &path[0], len + 1, &len);
  int32_t threads = 1;
  if (argc > 1) napi_get_value_int32(env, argv[1], &threads);
  auto h = std::make_unique<Handle>();
  try {
    h->model = std::make_unique<Model>(path, threads);
  } catch (const std::exception& e) {
    napi_throw(env, make_error(env, e.what(), "ERR_LRP_MODEL"));
    return nullptr;
  }
  napi_value ext;
  CHECK(napi_create_external(env, h.get(), finalize_handle, nullptr, &ext));
  h.release();
  return ext;
}

napi_value js_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Handle* h = get_handle(env, argv[0]);
  if (!h) return nullptr;
  const HParams& hp = h->model->hp();
  napi_value o, s;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, hp.arch_name.c_str(), NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, o, "arch", s);
  set_num(env, o, "nLayer", hp.n_layer);
  set_num(env, o, "nEmbd", hp.n_embd);
  set_num(env, o, "nHead", hp.n_head);
  set_num(env, o, "nHeadKv", hp.n_head_kv);
  set_num(env, o, "nVocab", hp.n_vocab);
  set_num(env, o, "nCtx", hp.n_ctx);
  set_num(env, o, "nExpert", hp.n_expert);
  set_num(env, o, "nExpertUsed", hp.n_expert_used);
  set_num(env, o, "fileSize", (double)h->model->file_size());
  set_num(env, o, "threads", h->model->threads());
  return o;
}

napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* p = nullptr;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok || !p) return nullptr;
  Handle* h = (Handle*)p;
  h->closed = true;
  h->maybe_free();
  return nullptr;
}

// ---------------------------------------------------------------- async jobs
void call_progress(napi_env env, napi_value js_cb, void*, void* data) {
  ProgressMsg* m = (ProgressMsg*)data;
  if (env && js_cb) {
    napi_value args[3], undef;
    napi_create_int32(env, m->done, &args[0]);
    napi_create_int32(env, m->total, &args[1]);
    napi_create_string_utf8(env, m->phase, NAPI_AUTO_LENGTH, &args[2]);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, js_cb, 3, args, nullptr);
  }
  delete m;
}

void execute(napi_env, void* data) {
  Job* j = (Job*)data;
  Progress pr;
  pr.cancel_raw = j->cancel;
  if (j->tsfn) {
    napi_threadsafe_function tsfn = j->tsfn;
    pr.report = [tsfn](int done, int total, const char* phase) {
      auto* m = new ProgressMsg{done, total, phase};
      if (napi_call_threadsafe_function(tsfn, m, napi_tsfn_nonblocking) != napi_ok) delete m;
    };
  }
  try {
    if (j->is_explain) j->res = j->h->model->explain(j->req, pr);
    else j->logprobs = j->h->model->forward_logprobs(j->req.tokens, pr, &j->ms);
    j->ok = true;
  } catch (const std::bad_alloc&) {
    j->error = "out of memory";
  } catch (const std::exception& e) {
    j->error = e.what();
  }
}

void complete(napi_env env, napi_status, void* data) {
  Job* j = (Job*)data;
  if (j->ok) {
    napi_value o;
    napi_create_object(env, &o);
    if (j->is_explain) {
      napi_set_named_property(env, o, "relevance", f32array(env, j->res.relevance.data(), j->res.relevance.size()));
      napi_set_named_property(env, o, "logProbs", f32array(env, j->res.logprobs.data(), j->res.logprobs.size()));
      set_num(env, o, "target", j->res.target);
      set_num(env, o, "value", j->res.value);
      set_num(env, o, "forwardMs", j->res.forward_ms);
      set_num(env, o, "backwardMs", j->res.backward_ms);
      set_num(env, o, "savedBytes", j->res.saved_bytes);
      napi_value b;
      napi_get_boolean(env, j->res.checkpointed, &b);
      napi_set_named_property(env, o, "checkpointed", b);
    } else {
      napi_set_named_property(env, o, "logProbs", f32array(env, j->logprobs.data(), j->logprobs.size()));
      set_num(env, o, "ms", j->ms);
    }
    napi_resolve_deferred(env, j->deferred, o);
  } else {
    const bool cancelled = j->error == "cancelled";
    napi_reject_deferred(env, j->deferred, make_error(env, cancelled ? "LRP computation cancelled" : j->error,
                                                      cancelled ? "ABORT_ERR" : "ERR_LRP"));
  }
  if (j->tsfn) napi_release_threadsafe_function(j->tsfn, napi_tsfn_release);
  if (j->cancel_ref) napi_delete_reference(env, j->cancel_ref);
  j->h->running--;
  j->h->maybe_free();
  napi_delete_reference(env, j->handle_ref);
  napi_delete_async_work(env, j->work);
  delete j;
}

// start(handle, tokens, progressFn|undefined, cancel Int32Array|undefined, explainOpts|undefined)
napi_value start_job(napi_env env, napi_value* argv, size_t argc, bool is_explain) {
  Handle* h = get_handle(env, argv[0]);
  if (!h) return nullptr;
  auto j = std::make_unique<Job>();
  j->h = h;
  j->is_explain = is_explain;
  if (!get_tokens(env, argv[1], j->req.tokens)) return nullptr;
  napi_valuetype t;
  if (argc > 2) {
    napi_typeof(env, argv[2], &t);
    if (t == napi_function) {
      napi_value name;
      napi_create_string_utf8(env, "rw_lrp_progress", NAPI_AUTO_LENGTH, &name);
      CHECK(napi_create_threadsafe_function(env, argv[2], nullptr, name, 0, 1, nullptr, nullptr, nullptr, call_progress, &j->tsfn));
    }
  }
  if (argc > 3) {
    bool is_ta = false;
    napi_is_typedarray(env, argv[3], &is_ta);
    if (is_ta) {
      napi_typedarray_type tt;
      size_t len;
      void* data;
      napi_get_typedarray_info(env, argv[3], &tt, &len, &data, nullptr, nullptr);
      if (tt == napi_int32_array && len >= 1) {
        j->cancel = (const volatile int32_t*)data;
        napi_create_reference(env, argv[3], 1, &j->cancel_ref);
      }
    }
  }
  if (is_explain && argc > 4) {
    // a numeric option, or def when absent or not a number
    auto get_num = [&](const char* k, double def) {
      bool has = false;
      napi_has_named_property(env, argv[4], k, &has);
      if (!has) return def;
      napi_value v;
      napi_get_named_property(env, argv[4], k, &v);
      napi_valuetype vt;
      napi_typeof(env, v, &vt);
      if (vt != napi_number) return def;
      double x;
      napi_get_value_double(env, v, &x);
      return x;
    };
    auto get_i = [&](const char* k, int32_t def) {
      const double x = get_num(k, def);
      if (x != (double)(int64_t)x || x < -1 || x > 2147483647.0) return (int32_t)-2;  // rejected below
      return (int32_t)x;
    };
    j->req.target = get_i("target", -1);
    j->req.contrast = get_i("contrast", -1);
    j->req.rule = get_i("rule", 0) == 1 ? Rule::Attn : Rule::CP;
    j->req.gate = get_i("gate", 0) == 1 ? Gate::Detach : Gate::Half;
    const int32_t ck = get_i("checkpoint", -1);  // -1 auto, 0 never, 1 always (validated in main/lrp)
    j->req.checkpoint = ck == 0 || ck == 1 ? ck : -1;
    const double mem = get_num("memoryLimit", 0);  // bytes; 0: physical memory (validated in main/lrp)
    if (mem > 0) j->req.memory_limit = mem;
    // 0 float32, 1 int8 (validated in main/lrp)
    j->req.precision = get_i("precision", 0) == 1 ? Precision::Int8 : Precision::F32;
  }
  napi_value promise, name;
  CHECK(napi_create_promise(env, &j->deferred, &promise));
  napi_create_reference(env, argv[0], 1, &j->handle_ref);
  napi_create_string_utf8(env, "rw_lrp_job", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_async_work(env, nullptr, name, execute, complete, j.get(), &j->work));
  h->running++;
  CHECK(napi_queue_async_work(env, j->work));
  j.release();
  return promise;
}

napi_value js_forward(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 2) { napi_throw_type_error(env, nullptr, "rw_lrp.forward(handle, tokens, progress?, cancel?)"); return nullptr; }
  return start_job(env, argv, argc, false);
}

napi_value js_explain(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 5) { napi_throw_type_error(env, nullptr, "rw_lrp.explain(handle, tokens, progress, cancel, opts)"); return nullptr; }
  return start_job(env, argv, argc, true);
}

napi_value js_version(napi_env env, napi_callback_info) {
  napi_value o, s;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, ggml_version(), NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, o, "ggml", s);
  napi_create_string_utf8(env, ggml_commit(), NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, o, "commit", s);
  napi_create_string_utf8(env, RW_GGML_VERSION, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, o, "headersVersion", s);
  napi_create_string_utf8(env, RW_GGML_COMMIT, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, o, "builtAgainstCommit", s);
  return o;
}

// checkGgml(builtVersion, builtCommit, libVersion, libCommit): the load-time decision on given values
// (null when they agree, else the refusal message), for tests
napi_value js_check_ggml(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  std::string s[4];
  for (size_t i = 0; i < 4; i++) {
    size_t len = 0;
    if (i >= argc || napi_get_value_string_utf8(env, argv[i], nullptr, 0, &len) != napi_ok) {
      napi_throw_type_error(env, nullptr, "rw_lrp.checkGgml(builtVersion, builtCommit, libVersion, libCommit): four strings");
      return nullptr;
    }
    s[i].resize(len + 1);
    CHECK(napi_get_value_string_utf8(env, argv[i], s[i].data(), len + 1, &len));
    s[i].resize(len);
  }
  std::string msg = ggml_mismatch(s[0].c_str(), s[1].c_str(), s[2].c_str(), s[3].c_str());
  napi_value out;
  if (msg.empty()) CHECK(napi_get_null(env, &out));
  else CHECK(napi_create_string_utf8(env, msg.c_str(), msg.size(), &out));
  return out;
}

// cpuHasAvx2(): whether this CPU can run the avx2 build (AVX2 + FMA + F16C), asked of the portable build
napi_value js_cpu_has_avx2(napi_env env, napi_callback_info) {
  napi_value out;
  CHECK(napi_get_boolean(env, cpu_has_avx2_fma_f16c(), &out));
  return out;
}

}  // namespace

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  // refuse a libggml-base other than the one the headers came from (see version_check.h)
  std::string mismatch = ggml_mismatch(RW_GGML_VERSION, RW_GGML_COMMIT, ggml_version(), ggml_commit());
  if (!mismatch.empty()) {
    napi_throw_error(env, "ERR_LRP_GGML_MISMATCH", mismatch.c_str());
    return nullptr;
  }
  napi_value kernels;
  if (napi_create_string_utf8(env, kSimdName, NAPI_AUTO_LENGTH, &kernels) != napi_ok) return nullptr;
  napi_property_descriptor props[] = {
      {"open", nullptr, js_open, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, js_info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, js_close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"forward", nullptr, js_forward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"explain", nullptr, js_explain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"version", nullptr, js_version, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"checkGgml", nullptr, js_check_ggml, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cpuHasAvx2", nullptr, js_cpu_has_avx2, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kernels", nullptr, nullptr, nullptr, nullptr, kernels, napi_enumerable, nullptr},  // "avx2" | "neon" | "scalar"
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
