// Ports of ggml's quantize_row_q{2,3,4,5,6}_K_ref and dequantize_row_q{2..6}_K (ggml-quants.c), bit-exact:
// each float32 operation is rounded with fround in C's evaluation order (no FMA contraction; ggml-base is
// built for baseline x86-64).
import { nearestInt } from './fp';
import { getF16, putF16 } from './legacy';

const fround = Math.fround;
const QK_K = 256;
const GROUP_MAX_EPS = fround(1e-15);
const F01 = fround(0.1);

let lastMin = 0;

function makeQkx2(
  n: number, nmax: number, x: Float32Array, xo: number, w: Float32Array, L: Uint8Array, lo: number,
  laux: Uint8Array, rmin: number, rdelta: number, nstep: number, useMad: boolean,
): number {
  let min = x[xo];
  let max = x[xo];
  let sumW = w[0];
  let sumX = fround(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const xi = x[xo + i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    sumW = fround(sumW + w[i]);
    sumX = fround(sumX + fround(w[i] * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    lastMin = -min;
    return 0;
  }
  let iscale = fround(nmax / fround(max - min));
  let scale = fround(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const l = Math.max(0, Math.min(nmax, nearestInt(fround(iscale * fround(xi - min)))));
    L[lo + i] = l;
    let diff = fround(fround(fround(scale * l) + min) - xi);
    diff = useMad ? Math.abs(diff) : fround(diff * diff);
    bestError = fround(bestError + fround(w[i] * diff));
  }
  if (nstep < 1) {
    lastMin = -min;
    return scale;
  }
  for (let is = 0; is <= nstep; is++) {
    // ggml reads `min` here after a better step may have replaced it: keep that order.
    iscale = fround(fround(fround(rmin + fround(rdelta * is)) + nmax) / fround(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const l = Math.max(0, Math.min(nmax, nearestInt(fround(iscale * fround(xi - min)))));
      laux[i] = l;
      const wl = fround(w[i] * l);
      sumL = fround(sumL + wl);
      sumL2 = fround(sumL2 + fround(wl * l));
      sumXL = fround(sumXL + fround(wl * xi));
    }
    const D = fround(fround(sumW * sumL2) - fround(sumL * sumL));
    if (D > 0) {
      let thisScale = fround(fround(fround(sumW * sumXL) - fround(sumX * sumL)) / D);
      let thisMin = fround(fround(fround(sumL2 * sumX) - fround(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fround(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        let diff = fround(fround(fround(thisScale * laux[i]) + thisMin) - x[xo + i]);
        diff = useMad ? Math.abs(diff) : fround(diff * diff);
        curError = fround(curError + fround(w[i] * diff));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = laux[i];
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  lastMin = -min;
  return scale;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

const toI8 = (v: number): number => ((v + 128) & 255) - 128;

export function quantizeQ2_K(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK_K;
  const L = new Uint8Array(QK_K);
  const laux = new Uint8Array(16);
  const weights = new Float32Array(16);
  const mins = new Float32Array(16);
  const scales = new Float32Array(16);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK_K;
    const o = i * 84;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) weights[l] = Math.abs(x[xb + 16 * j + l]);
      scales[j] = makeQkx2(16, 3, x, xb + 16 * j, weights, L, 16 * j, laux, -0.5, F01, 15, true);
      mins[j] = lastMin;
      if (scales[j] > maxScale) maxScale = scales[j];
      if (mins[j] > maxMin) maxMin = mins[j];
    }
    if (maxScale > 0) {
      const iscale = fround(15 / maxScale);
      for (let j = 0; j < 16; j++) out[o + j] = nearestInt(fround(iscale * scales[j])) & 0xff;
      putF16(out, o + 80, fround(maxScale / 15));
    } else {
      for (let j = 0; j < 16; j++) out[o + j] = 0;
      putF16(out, o + 80, 0);
    }
    if (maxMin > 0) {
      const iscale = fround(15 / maxMin);
      for (let j = 0; j < 16; j++) out[o + j] |= (nearestInt(fround(iscale * mins[j])) << 4) & 0xff;
      putF16(out, o + 82, fround(maxMin / 15));
    } else {
      putF16(out, o + 82, 0);
    }
    const dAll = getF16(out, o + 80);
    const mAll = getF16(out, o + 82);
    for (let j = 0; j < 16; j++) {
      const d = fround(dAll * (out[o + j] & 0xf));
      if (!d) continue;
      const dm = fround(mAll * (out[o + j] >> 4));
      for (let ii = 0; ii < 16; ii++) {
        L[16 * j + ii] = clamp(nearestInt(fround(fround(x[xb + 16 * j + ii] + dm) / d)), 0, 3);
      }
    }
    for (let j = 0; j < QK_K; j += 128) {
      for (let l = 0; l < 32; l++) {
        out[o + 16 + j / 4 + l] = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6);
      }
    }
  }
}

export function dequantizeQ2_K(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK_K;
  let yi = 0;
  for (let i = 0; i < nb; i++) {
    const o = i * 84;
    const d = getF16(b, o + 80);
    const min = getF16(b, o + 82);
    let q = o + 16;
    let is = 0;
    for (let n = 0; n < QK_K; n += 128) {
      let shift = 0;
      for (let j = 0; j < 4; j++) {
        let sc = b[o + is++];
        let dl = fround(d * (sc & 0xf));
        let ml = fround(min * (sc >> 4));
        for (let l = 0; l < 16; l++) y[yi++] = fround(fround(dl * ((b[q + l] >> shift) & 3)) - ml);
        sc = b[o + is++];
        dl = fround(d * (sc & 0xf));
        ml = fround(min * (sc >> 4));
        for (let l = 0; l < 16; l++) y[yi++] = fround(fround(dl * ((b[q + l + 16] >> shift) & 3)) - ml);
        shift += 2;
      }
      q += 32;
    }
  }
}

function makeQ3(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  const iscale = fround(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const l = clamp(nearestInt(fround(iscale * xi)), -nmax, nmax - 1);
    L[lo + i] = l;
    const w = fround(xi * xi);
    sumlx = fround(sumlx + fround(fround(w * xi) * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const w = fround(xi * xi);
      const Li = L[lo + i];
      let slx = fround(sumlx - fround(fround(w * xi) * Li));
      if (slx > 0) {
        let sl2 = fround(suml2 - fround(fround(w * Li) * Li));
        const newL = clamp(nearestInt(fround(fround(xi * sl2) / slx)), -nmax, nmax - 1);
        if (newL !== Li) {
          slx = fround(slx + fround(fround(w * xi) * newL));
          sl2 = fround(sl2 + fround(fround(w * newL) * newL));
          if (sl2 > 0 && fround(fround(slx * slx) * suml2) > fround(fround(sumlx * sumlx) * sl2)) {
            L[lo + i] = newL;
            sumlx = slx;
            suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (!nChanged) break;
  }
  for (let i = 0; i < n; i++) L[lo + i] += nmax;
  return suml2 > 0 ? fround(sumlx / suml2) : 0;
}

export function quantizeQ3_K(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK_K;
  const L = new Int8Array(QK_K);
  const scales = new Float32Array(16);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK_K;
    const o = i * 110;
    const S = o + 96; // scales[12]
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      scales[j] = makeQ3(16, 4, x, xb + 16 * j, L, 16 * j);
      const s = Math.abs(scales[j]);
      if (s > amax) {
        amax = s;
        maxScale = scales[j];
      }
    }
    out.fill(0, S, S + 12);
    if (maxScale) {
      const iscale = fround(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        let l = toI8(nearestInt(fround(iscale * scales[j])));
        l = clamp(l, -32, 31) + 32;
        if (j < 8) out[S + j] = l & 0xf;
        else out[S + j - 8] |= (l & 0xf) << 4;
        l >>= 4;
        out[S + (j % 4) + 8] |= l << (2 * Math.floor(j / 4));
      }
      putF16(out, o + 108, fround(1 / iscale));
    } else {
      putF16(out, o + 108, 0);
    }
    const dAll = getF16(out, o + 108);
    for (let j = 0; j < 16; j++) {
      let sc = j < 8 ? out[S + j] & 0xf : out[S + j - 8] >> 4;
      sc = toI8((sc | (((out[S + 8 + (j % 4)] >> (2 * Math.floor(j / 4))) & 3) << 4)) - 32);
      const d = fround(dAll * sc);
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) {
        L[16 * j + ii] = clamp(nearestInt(fround(x[xb + 16 * j + ii] / d)), -4, 3) + 4;
      }
    }
    out.fill(0, o, o + 32);
    let m = 0;
    let hm = 1;
    for (let j = 0; j < QK_K; j++) {
      if (L[j] > 3) {
        out[o + m] |= hm;
        L[j] -= 4;
      }
      if (++m === 32) {
        m = 0;
        hm <<= 1;
      }
    }
    for (let j = 0; j < QK_K; j += 128) {
      for (let l = 0; l < 32; l++) {
        out[o + 32 + j / 4 + l] = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6);
      }
    }
  }
}

function q3Scale(b: Uint8Array, S: number, j: number): number {
  const lo = j < 8 ? b[S + j] & 0xf : b[S + j - 8] >> 4;
  return (lo | (((b[S + 8 + (j % 4)] >> (2 * Math.floor(j / 4))) & 3) << 4)) - 32;
}

export function dequantizeQ3_K(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK_K;
  let yi = 0;
  for (let i = 0; i < nb; i++) {
    const o = i * 110;
    const dAll = getF16(b, o + 108);
    let q = o + 32;
    const hmo = o;
    let m = 1;
    let is = 0;
    for (let n = 0; n < QK_K; n += 128) {
      let shift = 0;
      for (let j = 0; j < 4; j++) {
        let dl = fround(dAll * q3Scale(b, o + 96, is++));
        for (let l = 0; l < 16; l++) {
          y[yi++] = fround(dl * (((b[q + l] >> shift) & 3) - (b[hmo + l] & m ? 0 : 4)));
        }
        dl = fround(dAll * q3Scale(b, o + 96, is++));
        for (let l = 0; l < 16; l++) {
          y[yi++] = fround(dl * (((b[q + l + 16] >> shift) & 3) - (b[hmo + l + 16] & m ? 0 : 4)));
        }
        shift += 2;
        m <<= 1;
      }
      q += 32;
    }
  }
}

function scaleMinK4(j: number, b: Uint8Array, S: number): [number, number] {
  if (j < 4) return [b[S + j] & 63, b[S + j + 4] & 63];
  return [(b[S + j + 4] & 0xf) | ((b[S + j - 4] >> 6) << 4), (b[S + j + 4] >> 4) | ((b[S + j] >> 6) << 4)];
}

/** Shared by Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins. Fills L with 0..nmax. */
function quantizeK4Scales(
  x: Float32Array, xb: number, out: Uint8Array, o: number, L: Uint8Array, nmax: number,
  rmin: number, nstep: number, w: Float32Array, laux: Uint8Array, scales: Float32Array, mins: Float32Array,
): void {
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = fround(sumX2 + fround(x[xb + 32 * j + l] * x[xb + 32 * j + l]));
    const avX = fround(Math.sqrt(fround(sumX2 / 32)));
    for (let l = 0; l < 32; l++) w[l] = fround(avX + Math.abs(x[xb + 32 * j + l]));
    scales[j] = makeQkx2(32, nmax, x, xb + 32 * j, w, L, 32 * j, laux, rmin, F01, nstep, false);
    mins[j] = lastMin;
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const invScale = maxScale > 0 ? fround(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fround(63 / maxMin) : 0;
  const S = o + 4;
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fround(invScale * scales[j])) & 0xff);
    const lm = Math.min(63, nearestInt(fround(invMin * mins[j])) & 0xff);
    if (j < 4) {
      out[S + j] = ls;
      out[S + j + 4] = lm;
    } else {
      out[S + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      out[S + j - 4] |= (ls >> 4) << 6;
      out[S + j] |= (lm >> 4) << 6;
    }
  }
  putF16(out, o, fround(maxScale / 63));
  putF16(out, o + 2, fround(maxMin / 63));
  const dAll = getF16(out, o);
  const mAll = getF16(out, o + 2);
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMinK4(j, out, S);
    const d = fround(dAll * sc);
    if (!d) continue;
    const dm = fround(mAll * m);
    for (let ii = 0; ii < 32; ii++) {
      L[32 * j + ii] = clamp(nearestInt(fround(fround(x[xb + 32 * j + ii] + dm) / d)), 0, nmax);
    }
  }
}

export function quantizeQ4_K(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK_K;
  const L = new Uint8Array(QK_K);
  const laux = new Uint8Array(32);
  const w = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  for (let i = 0; i < nb; i++) {
    const o = i * 144;
    quantizeK4Scales(x, i * QK_K, out, o, L, 15, -1, 20, w, laux, scales, mins);
    let q = o + 16;
    for (let j = 0; j < QK_K; j += 64) {
      for (let l = 0; l < 32; l++) out[q + l] = L[j + l] | (L[j + l + 32] << 4);
      q += 32;
    }
  }
}

export function dequantizeQ4_K(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK_K;
  let yi = 0;
  for (let i = 0; i < nb; i++) {
    const o = i * 144;
    const d = getF16(b, o);
    const min = getF16(b, o + 2);
    let q = o + 16;
    let is = 0;
    for (let j = 0; j < QK_K; j += 64) {
      let [sc, m] = scaleMinK4(is, b, o + 4);
      const d1 = fround(d * sc);
      const m1 = fround(min * m);
      [sc, m] = scaleMinK4(is + 1, b, o + 4);
      const d2 = fround(d * sc);
      const m2 = fround(min * m);
      for (let l = 0; l < 32; l++) y[yi++] = fround(fround(d1 * (b[q + l] & 0xf)) - m1);
      for (let l = 0; l < 32; l++) y[yi++] = fround(fround(d2 * (b[q + l] >> 4)) - m2);
      q += 32;
      is += 2;
    }
  }
}

export function quantizeQ5_K(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK_K;
  const L = new Uint8Array(QK_K);
  const laux = new Uint8Array(32);
  const w = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  for (let i = 0; i < nb; i++) {
    const o = i * 176;
    quantizeK4Scales(x, i * QK_K, out, o, L, 31, -0.5, 15, w, laux, scales, mins);
    const qh = o + 16;
    let ql = o + 48;
    out.fill(0, qh, qh + 32);
    let m1 = 1;
    let m2 = 2;
    for (let n = 0; n < QK_K; n += 64) {
      for (let j = 0; j < 32; j++) {
        let l1 = L[n + j];
        if (l1 > 15) {
          l1 -= 16;
          out[qh + j] |= m1;
        }
        let l2 = L[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          out[qh + j] |= m2;
        }
        out[ql + j] = l1 | (l2 << 4);
      }
      m1 <<= 2;
      m2 <<= 2;
      ql += 32;
    }
  }
}

export function dequantizeQ5_K(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK_K;
  let yi = 0;
  for (let i = 0; i < nb; i++) {
    const o = i * 176;
    const d = getF16(b, o);
    const min = getF16(b, o + 2);
    const qh = o + 16;
    let ql = o + 48;
    let is = 0;
    let u1 = 1;
    let u2 = 2;
    for (let j = 0; j < QK_K; j += 64) {
      let [sc, m] = scaleMinK4(is, b, o + 4);
      const d1 = fround(d * sc);
      const m1 = fround(min * m);
      [sc, m] = scaleMinK4(is + 1, b, o + 4);
      const d2 = fround(d * sc);
      const m2 = fround(min * m);
      for (let l = 0; l < 32; l++) y[yi++] = fround(fround(d1 * ((b[ql + l] & 0xf) + (b[qh + l] & u1 ? 16 : 0))) - m1);
      for (let l = 0; l < 32; l++) y[yi++] = fround(fround(d2 * ((b[ql + l] >> 4) + (b[qh + l] & u2 ? 16 : 0))) - m2);
      ql += 32;
      is += 2;
      u1 <<= 2;
      u2 <<= 2;
    }
  }
}

function makeQx(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  // rmse_type 1 (weights x^2), no importance matrix: the only variant quantize_row_q6_K_ref uses.
  let iscale = fround(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const l = clamp(nearestInt(fround(iscale * xi)), -nmax, nmax - 1);
    L[lo + i] = l + nmax;
    const w = fround(xi * xi);
    sumlx = fround(sumlx + fround(fround(w * xi) * l));
    suml2 = fround(suml2 + fround(fround(w * l) * l));
  }
  let scale = suml2 ? fround(sumlx / suml2) : 0;
  let best = fround(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fround(-fround(nmax + fround(F01 * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const l = clamp(nearestInt(fround(iscale * xi)), -nmax, nmax - 1);
      const w = fround(xi * xi);
      sumlx = fround(sumlx + fround(fround(w * xi) * l));
      suml2 = fround(suml2 + fround(fround(w * l) * l));
    }
    if (suml2 > 0 && fround(sumlx * sumlx) > fround(best * suml2)) {
      for (let i = 0; i < n; i++) {
        L[lo + i] = nmax + clamp(nearestInt(fround(iscale * x[xo + i])), -nmax, nmax - 1);
      }
      scale = fround(sumlx / suml2);
      best = fround(scale * sumlx);
    }
  }
  return scale;
}

export function quantizeQ6_K(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK_K;
  const L = new Int8Array(QK_K);
  const scales = new Float32Array(16);
  for (let i = 0; i < nb; i++) {
    const xb = i * QK_K;
    const o = i * 210;
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQx(16, 32, x, xb + 16 * ib, L, 16 * ib);
      scales[ib] = scale;
      if (Math.abs(scale) > maxAbsScale) {
        maxAbsScale = Math.abs(scale);
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      out.fill(0, o, o + 210);
      continue;
    }
    const iscale = fround(-128 / maxScale);
    putF16(out, o + 208, fround(1 / iscale));
    for (let ib = 0; ib < 16; ib++) out[o + 192 + ib] = Math.min(127, nearestInt(fround(iscale * scales[ib]))) & 0xff;
    const dAll = getF16(out, o + 208);
    for (let j = 0; j < 16; j++) {
      const d = fround(dAll * toI8(out[o + 192 + j]));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) {
        L[16 * j + ii] = clamp(nearestInt(fround(x[xb + 16 * j + ii] / d)), -32, 31) + 32;
      }
    }
    let ql = o;
    let qh = o + 128;
    for (let j = 0; j < QK_K; j += 128) {
      for (let l = 0; l < 32; l++) {
        const q1 = L[j + l] & 0xf;
        const q2 = L[j + l + 32] & 0xf;
        const q3 = L[j + l + 64] & 0xf;
        const q4 = L[j + l + 96] & 0xf;
        out[ql + l] = q1 | (q3 << 4);
        out[ql + l + 32] = q2 | (q4 << 4);
        out[qh + l] = (L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6);
      }
      ql += 64;
      qh += 32;
    }
  }
}

export function dequantizeQ6_K(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK_K;
  for (let i = 0; i < nb; i++) {
    const o = i * 210;
    const d = getF16(b, o + 208);
    let ql = o;
    let qh = o + 128;
    let sc = o + 192;
    let yb = i * QK_K;
    for (let n = 0; n < QK_K; n += 128) {
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const q1 = ((b[ql + l] & 0xf) | (((b[qh + l] >> 0) & 3) << 4)) - 32;
        const q2 = ((b[ql + l + 32] & 0xf) | (((b[qh + l] >> 2) & 3) << 4)) - 32;
        const q3 = ((b[ql + l] >> 4) | (((b[qh + l] >> 4) & 3) << 4)) - 32;
        const q4 = ((b[ql + l + 32] >> 4) | (((b[qh + l] >> 6) & 3) << 4)) - 32;
        y[yb + l] = fround(fround(d * toI8(b[sc + is])) * q1);
        y[yb + l + 32] = fround(fround(d * toI8(b[sc + is + 2])) * q2);
        y[yb + l + 64] = fround(fround(d * toI8(b[sc + is + 4])) * q3);
        y[yb + l + 96] = fround(fround(d * toI8(b[sc + is + 6])) * q4);
      }
      yb += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}
