// Independent float64 reference for the LRP tests: forward of llama / llama+experts / qwen2 / qwen3 / gemma3 from
// the dequantized weights (main/gguf reader, not the engine), and the LRP backward with each op's rule written
// out explicitly as a modified gradient (relevance = input x modified gradient). Slow and simple on purpose.
// The forward follows llama.cpp's graphs (src/models/qwen3.cpp, gemma3.cpp): per-head q/k RMS norms before RoPE,
// gemma3's post-norms, GELU (tanh form, through ggml's fp16 table, as the CPU backend computes it), embeddings
// scaled by sqrt(d), sliding-window layers with their own rope base.
import { metaNumber, metaString, readGguf, readTensorF32, type GgufFile } from '../../main/gguf/reader';
import { fp16ToFp32, fp32ToFp16 } from '../../main/gguf/quant/fp';

type Vec = Float64Array;
const zeros = (n: number) => new Float64Array(n);

interface Mat { R: number; C: number; E: number; w: Float64Array }

export class RefModel {
  f: GgufFile;
  arch: string;
  nLayer: number; d: number; nHead: number; nHeadKv: number; hd: number; nRot: number; eps: number; base: number;
  nExpert: number; nUsed: number; V: number;
  /** gemma3: GELU FFN, embedding scale sqrt(d), window of the local layers and their rope base */
  gelu: boolean; embdScale: number; nSwa: number; swaPattern: number; baseSwa: number; neox: boolean;
  /** linear rope scaling: angles x freqScale (1 / rope.scaling.factor), not on gemma3's local layers */
  freqScale: number;
  private cache = new Map<string, Mat>();
  constructor(file: string) {
    this.f = readGguf(file);
    const A = (this.arch = metaString(this.f, 'general.architecture')!);
    const n = (k: string, def?: number) => metaNumber(this.f, `${A}.${k}`) ?? def!;
    this.nLayer = n('block_count'); this.d = n('embedding_length'); this.nHead = n('attention.head_count');
    this.nHeadKv = n('attention.head_count_kv', this.nHead); this.hd = n('attention.key_length', this.d / this.nHead);
    this.nRot = n('rope.dimension_count', this.hd);
    this.eps = n('attention.layer_norm_rms_epsilon'); this.base = n('rope.freq_base', 10000);
    this.nExpert = n('expert_count', 0); this.nUsed = n('expert_used_count', 0);
    this.V = this.m('token_embd.weight').R;
    const gemma = A === 'gemma3';
    this.gelu = gemma; this.embdScale = gemma ? Math.sqrt(this.d) : 1; this.neox = A !== 'llama';
    this.nSwa = gemma ? n('attention.sliding_window', 0) : 0; this.swaPattern = n('attention.sliding_window_pattern', 6);
    this.baseSwa = n('rope.freq_base_swa', 10000);
    this.freqScale = metaString(this.f, `${A}.rope.scaling.type`) === 'linear' ? 1 / n('rope.scaling.factor', 1) : 1;
  }
  /** local (sliding-window) layer: l % pattern < pattern - 1 (llama_hparams::set_swa_pattern) */
  swa(l: number) { return this.nSwa > 0 && (this.swaPattern === 0 || l % this.swaPattern < this.swaPattern - 1); }
  has(name: string) { return this.f.tensors.some((t) => t.name === name); }
  m(name: string): Mat {
    let r = this.cache.get(name);
    if (!r) {
      const t = this.f.tensors.find((x) => x.name === name)!;
      r = { C: t.shape[0], R: t.shape[1] ?? 1, E: t.shape[2] ?? 1, w: Float64Array.from(readTensorF32(this.f, name)) };
      this.cache.set(name, r);
    }
    return r;
  }
  out() { return this.has('output.weight') ? this.m('output.weight') : this.m('token_embd.weight'); }
}

// y[t][r] = sum_c x[t][c] W[e][r][c] + b[r]
function lin(W: Mat, x: Vec[], e = 0, b?: Mat): Vec[] {
  return x.map((xt) => {
    const y = zeros(W.R);
    for (let r = 0; r < W.R; r++) {
      let s = b ? b.w[r] : 0;
      const o = (e * W.R + r) * W.C;
      for (let c = 0; c < W.C; c++) s += xt[c] * W.w[o + c];
      y[r] = s;
    }
    return y;
  });
}
// transpose product for gradients: gx[t][c] = sum_r g[t][r] W[e][r][c]
function linT(W: Mat, g: Vec[], e = 0): Vec[] {
  return g.map((gt) => {
    const gx = zeros(W.C);
    for (let r = 0; r < W.R; r++) {
      if (gt[r] === 0) continue;
      const o = (e * W.R + r) * W.C;
      for (let c = 0; c < W.C; c++) gx[c] += gt[r] * W.w[o + c];
    }
    return gx;
  });
}
const add = (a: Vec[], b: Vec[]) => a.forEach((v, t) => v.forEach((_, i) => (v[i] += b[t][i])));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
// GELU (tanh form) as ggml's CPU backend evaluates it: fp16 input, fp16 table entry; 0 below -10, x above 10
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * x * (1 + 0.044715 * x * x)));
const gelu = (x: number) => (x <= -10 ? 0 : x >= 10 ? x : fp16ToFp32(fp32ToFp16(geluTanh(fp16ToFp32(fp32ToFp16(x))))));

function rmsScale(x: Vec, eps: number) {
  let s = 0;
  for (const v of x) s += v * v;
  return 1 / Math.sqrt(s / x.length + eps);
}

// rotation of pair (a, b) at position p; NORM rope pairs adjacent dims, NEOX pairs i and i + n/2
function rope(M: RefModel, v: Vec, off: number, p: number, sign: 1 | -1, base = M.base, local = false) {
  const half = M.nRot / 2, neox = M.neox;
  // Llama 3.1's rope scaling: per-frequency divisors from the rope_freqs tensor (not on gemma3's local layers)
  const ff = !local && M.has('rope_freqs.weight') ? M.m('rope_freqs.weight').w : undefined;
  for (let i = 0; i < half; i++) {
    const th = ((local ? 1 : M.freqScale) * p * Math.pow(base, (-2 * i) / M.nRot)) / (ff ? ff[i] : 1);
    const c = Math.cos(th), s = sign * Math.sin(th);
    const a = off + (neox ? i : 2 * i), b = off + (neox ? i + half : 2 * i + 1);
    const x0 = v[a], x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x0 * s + x1 * c;
  }
}

export interface RefResult { logits: Vec; logProbsAll: Vec[]; relevance: Vec; value: number }

export function reference(M: RefModel, tokens: number[], opts: { target: number; contrast?: number; rule: 'cp' | 'attn'; gate: 'half' | 'detach' }): RefResult {
  const T = tokens.length, d = M.d, H = M.nHead, Hk = M.nHeadKv, hd = M.hd, grp = H / Hk;
  const emb = M.m('token_embd.weight');
  const x0 = tokens.map((t) => Float64Array.from(emb.w.subarray(t * d, (t + 1) * d), (u) => u * M.embdScale));
  let x = x0.map((v) => Float64Array.from(v));
  const saved: any[] = [];
  const norm = (xs: Vec[], wn: Mat) => {
    const r = xs.map((v) => rmsScale(v, M.eps));
    return { r, h: xs.map((v, t) => v.map((u, i) => u * r[t] * wn.w[i])) };
  };
  // per-head RMSNorm of q or k rows [heads * hd] in place; returns r[t][head]
  const headNorm = (xs: Vec[], heads: number, wn: Mat) =>
    xs.map((v) => Array.from({ length: heads }, (_, h) => {
      const r = rmsScale(v.subarray(h * hd, (h + 1) * hd), M.eps);
      for (let i = 0; i < hd; i++) v[h * hd + i] *= r * wn.w[i];
      return r;
    }));
  const act = (a: number) => (M.gelu ? gelu(a) : a * sigmoid(a));
  for (let l = 0; l < M.nLayer; l++) {
    const p = `blk.${l}.`, S: any = {};
    const n1 = norm(x, M.m(p + 'attn_norm.weight'));
    S.r1 = n1.r;
    const bias = (n: string) => (M.has(p + n) ? M.m(p + n) : undefined);
    const q = lin(M.m(p + 'attn_q.weight'), n1.h, 0, bias('attn_q.bias'));
    const k = lin(M.m(p + 'attn_k.weight'), n1.h, 0, bias('attn_k.bias'));
    const v = lin(M.m(p + 'attn_v.weight'), n1.h, 0, bias('attn_v.bias'));
    if (M.has(p + 'attn_q_norm.weight')) {
      S.rq = headNorm(q, H, M.m(p + 'attn_q_norm.weight'));
      S.rk = headNorm(k, Hk, M.m(p + 'attn_k_norm.weight'));
    }
    const swa = M.swa(l), base = swa ? M.baseSwa : M.base;
    S.base = base;
    S.swa = swa;
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) rope(M, q[t], h * hd, t, 1, base, swa);
      for (let h = 0; h < Hk; h++) rope(M, k[t], h * hd, t, 1, base, swa);
    }
    const s0 = (t: number) => (swa ? Math.max(0, t - M.nSwa + 1) : 0); // first key visible from t
    // A[h][t][s]
    const A = Array.from({ length: H }, (_, h) => Array.from({ length: T }, (_, t) => {
      const a = zeros(T);
      let mx = -Infinity;
      for (let s = s0(t); s <= t; s++) {
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += q[t][h * hd + i] * k[s][Math.floor(h / grp) * hd + i];
        a[s] = dot / Math.sqrt(hd);
        mx = Math.max(mx, a[s]);
      }
      let z = 0;
      for (let s = s0(t); s <= t; s++) z += (a[s] = Math.exp(a[s] - mx));
      for (let s = s0(t); s <= t; s++) a[s] /= z;
      return a;
    }));
    const o = Array.from({ length: T }, (_, t) => {
      const ov = zeros(H * hd);
      for (let h = 0; h < H; h++)
        for (let s = 0; s <= t; s++)
          for (let i = 0; i < hd; i++) ov[h * hd + i] += A[h][t][s] * v[s][Math.floor(h / grp) * hd + i];
      return ov;
    });
    let ao = lin(M.m(p + 'attn_output.weight'), o);
    if (M.has(p + 'post_attention_norm.weight')) {
      const pn = norm(ao, M.m(p + 'post_attention_norm.weight'));
      S.rpa = pn.r;
      ao = pn.h;
    }
    add(x, ao);
    Object.assign(S, { q, k, v, A });
    const n2 = norm(x, M.m(p + 'ffn_norm.weight'));
    S.r2 = n2.r;
    S.h2 = n2.h;
    if (!M.nExpert) {
      S.g = lin(M.m(p + 'ffn_gate.weight'), n2.h);
      S.u = lin(M.m(p + 'ffn_up.weight'), n2.h);
      const pr = S.g.map((gv: Vec, t: number) => gv.map((gg, i) => act(gg) * S.u[t][i]));
      let fo = lin(M.m(p + 'ffn_down.weight'), pr);
      if (M.has(p + 'post_ffw_norm.weight')) {
        const pn = norm(fo, M.m(p + 'post_ffw_norm.weight'));
        S.rpf = pn.r;
        fo = pn.h;
      }
      add(x, fo);
    } else {
      const lg = lin(M.m(p + 'ffn_gate_inp.weight'), n2.h);
      S.route = lg.map((z) => {
        const mx = Math.max(...z);
        const e = Array.from(z, (u) => Math.exp(u - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        const pe = e.map((u) => u / sum);
        const sel = pe.map((_, i) => i).sort((a, b) => pe[b] - pe[a]).slice(0, M.nUsed);
        const ws = sel.reduce((a, i) => a + pe[i], 0);
        return sel.map((ei) => ({ e: ei, w: pe[ei] / ws }));
      });
      S.ex = n2.h.map((ht, t) => S.route[t].map(({ e }: { e: number }) => {
        const g = lin(M.m(p + 'ffn_gate_exps.weight'), [ht], e)[0];
        const u = lin(M.m(p + 'ffn_up_exps.weight'), [ht], e)[0];
        const y = lin(M.m(p + 'ffn_down_exps.weight'), [g.map((gg, i) => gg * sigmoid(gg) * u[i])], e)[0];
        return { g, u, y };
      }));
      for (let t = 0; t < T; t++) S.route[t].forEach(({ w }: { w: number }, j: number) => S.ex[t][j].y.forEach((yy: number, i: number) => (x[t][i] += w * yy)));
    }
    saved.push(S);
  }
  const nf = norm(x, M.m('output_norm.weight'));
  const OUT = M.out();
  const logitsAll = lin(OUT, nf.h);
  const logProbsAll = logitsAll.map((z) => {
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((a, u) => a + Math.exp(u - mx), 0));
    return z.map((u) => u - lse);
  });
  const logits = logitsAll[T - 1];
  const value = logits[opts.target] - (opts.contrast !== undefined ? logits[opts.contrast] : 0);

  // ---- backward with explicit rules; g[t] = modified gradient of the explained value at the residual stream
  const attnRule = opts.rule === 'attn';
  const detach = !attnRule && opts.gate === 'detach';
  const g: Vec[] = Array.from({ length: T }, () => zeros(d));
  const wf = M.m('output_norm.weight');
  for (let i = 0; i < d; i++) {
    const wo = OUT.w[opts.target * d + i] - (opts.contrast !== undefined ? OUT.w[opts.contrast * d + i] : 0);
    g[T - 1][i] = wo * wf.w[i] * nf.r[T - 1]; // norm: 1/rms frozen
  }
  // product rule for p = act(a) * b given dp: returns [da, db]
  const gateUp = (a: number, b: number, dp: number): [number, number] => {
    const y = act(a);
    if (detach) return [0, dp * y];
    // half split; identity rule on the activation: y = sg(y / a) * a (SiLU: y / a = sigmoid(a))
    const ratio = M.gelu ? (a !== 0 ? y / a : 0.5) : sigmoid(a);
    return [0.5 * dp * b * ratio, 0.5 * dp * y];
  };
  // identity rule on a post-norm y = w x r: gradient at its input = g * w * r (r frozen)
  const postNorm = (gy: Vec[], wn: Mat, r: number[]) => gy.map((v, t) => v.map((u, i) => u * wn.w[i] * r[t]));
  for (let l = M.nLayer - 1; l >= 0; l--) {
    const p = `blk.${l}.`, S = saved[l];
    // FFN
    let gh2: Vec[];
    const gf = M.has(p + 'post_ffw_norm.weight') ? postNorm(g, M.m(p + 'post_ffw_norm.weight'), S.rpf) : g;
    if (!M.nExpert) {
      const dp = linT(M.m(p + 'ffn_down.weight'), gf);
      const da = dp.map((row, t) => row.map((v, i) => gateUp(S.g[t][i], S.u[t][i], v)[0]));
      const db = dp.map((row, t) => row.map((v, i) => gateUp(S.g[t][i], S.u[t][i], v)[1]));
      gh2 = linT(M.m(p + 'ffn_gate.weight'), da);
      add(gh2, linT(M.m(p + 'ffn_up.weight'), db));
    } else {
      gh2 = Array.from({ length: T }, () => zeros(d));
      const glog = Array.from({ length: T }, () => zeros(M.nExpert));
      for (let t = 0; t < T; t++) {
        const gw: number[] = [];
        S.route[t].forEach(({ e, w }: { e: number; w: number }, j: number) => {
          const ex = S.ex[t][j];
          // weight x expert: CP freezes the weight; AttnLRP splits 1/2-1/2
          const fy = attnRule ? 0.5 * w : w;
          gw.push(attnRule ? 0.5 * g[t].reduce((a, gi, i) => a + gi * ex.y[i], 0) : 0);
          const dp = linT(M.m(p + 'ffn_down_exps.weight'), [g[t].map((gi) => gi * fy)], e)[0];
          const da = dp.map((v, i) => gateUp(ex.g[i], ex.u[i], v)[0]);
          const db = dp.map((v, i) => gateUp(ex.g[i], ex.u[i], v)[1]);
          add([gh2[t]], linT(M.m(p + 'ffn_gate_exps.weight'), [da], e));
          add([gh2[t]], linT(M.m(p + 'ffn_up_exps.weight'), [db], e));
        });
        if (attnRule) {
          // selected weights = softmax over the selected router logits: softmax rule
          const ws = S.route[t].map((r: { w: number }) => r.w);
          const m = ws.reduce((a: number, w: number, j: number) => a + w * gw[j], 0);
          S.route[t].forEach(({ e }: { e: number }, j: number) => (glog[t][e] = ws[j] * (gw[j] - m)));
        }
      }
      if (attnRule) add(gh2, linT(M.m(p + 'ffn_gate_inp.weight'), glog));
    }
    const w2 = M.m(p + 'ffn_norm.weight');
    for (let t = 0; t < T; t++) for (let i = 0; i < d; i++) g[t][i] += gh2[t][i] * w2.w[i] * S.r2[t];
    // attention
    const ga = M.has(p + 'post_attention_norm.weight') ? postNorm(g, M.m(p + 'post_attention_norm.weight'), S.rpa) : g;
    const go = linT(M.m(p + 'attn_output.weight'), ga);
    const gq = Array.from({ length: T }, () => zeros(H * hd));
    const gk = Array.from({ length: T }, () => zeros(Hk * hd));
    const gv = Array.from({ length: T }, () => zeros(Hk * hd));
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / grp);
      for (let t = 0; t < T; t++) {
        const A = S.A[h][t];
        const fv = attnRule ? 0.5 : 1; // AttnLRP: A v split 1/2-1/2; CP: A frozen, all to v
        const gA = zeros(T);
        for (let s = 0; s <= t; s++)
          for (let i = 0; i < hd; i++) {
            gv[s][kh * hd + i] += fv * A[s] * go[t][h * hd + i];
            gA[s] += 0.5 * go[t][h * hd + i] * S.v[s][kh * hd + i];
          }
        if (!attnRule) continue;
        let m = 0;
        for (let s = 0; s <= t; s++) m += A[s] * gA[s];
        for (let s = 0; s <= t; s++) {
          const gs = (A[s] * (gA[s] - m)) / Math.sqrt(hd); // softmax rule, then the 1/sqrt(hd) scale
          for (let i = 0; i < hd; i++) {
            gq[t][h * hd + i] += 0.5 * gs * S.k[s][kh * hd + i]; // q k^T split 1/2-1/2
            gk[s][kh * hd + i] += 0.5 * gs * S.q[t][h * hd + i];
          }
        }
      }
    }
    const gh1 = linT(M.m(p + 'attn_v.weight'), gv);
    if (attnRule) {
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < H; h++) rope(M, gq[t], h * hd, t, -1, S.base, S.swa);
        for (let h = 0; h < Hk; h++) rope(M, gk[t], h * hd, t, -1, S.base, S.swa);
      }
      if (S.rq) {
        // per-head q/k norms: identity rule (1/rms frozen), as every RMSNorm
        const wq = M.m(p + 'attn_q_norm.weight'), wk = M.m(p + 'attn_k_norm.weight');
        for (let t = 0; t < T; t++) {
          for (let h = 0; h < H; h++) for (let i = 0; i < hd; i++) gq[t][h * hd + i] *= wq.w[i] * S.rq[t][h];
          for (let h = 0; h < Hk; h++) for (let i = 0; i < hd; i++) gk[t][h * hd + i] *= wk.w[i] * S.rk[t][h];
        }
      }
      add(gh1, linT(M.m(p + 'attn_q.weight'), gq));
      add(gh1, linT(M.m(p + 'attn_k.weight'), gk));
    }
    const w1 = M.m(p + 'attn_norm.weight');
    for (let t = 0; t < T; t++) for (let i = 0; i < d; i++) g[t][i] += gh1[t][i] * w1.w[i] * S.r1[t];
  }
  const relevance = Float64Array.from(x0, (xt, t) => xt.reduce((a, u, i) => a + u * g[t][i], 0));
  return { logits, logProbsAll, relevance, value };
}
