// Ports of ggml's quantize_row_{q4_0,q4_1,q5_0,q5_1,q8_0}_ref and their dequantize_row_* (ggml-quants.c).
// Every float32 operation is rounded with fround where C rounds, so output bytes equal ggml's.
import { fp16ToFp32, fp32ToFp16, roundf } from './fp';

const fround = Math.fround;
const QK = 32;

function putF16(out: Uint8Array, off: number, v: number): void {
  const h = fp32ToFp16(v);
  out[off] = h & 0xff;
  out[off + 1] = h >> 8;
}

function getF16(buf: Uint8Array, off: number): number {
  return fp16ToFp32(buf[off] | (buf[off + 1] << 8));
}

/** Returns the signed value of largest magnitude (first one on ties), as ggml's absmax loop. */
function signedAbsMax(x: Float32Array, base: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < QK; j++) {
    const v = x[base + j];
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  return max;
}

function minMax(x: Float32Array, base: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < QK; j++) {
    const v = x[base + j];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

export function quantizeQ4_0(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK;
  for (let i = 0; i < nb; i++) {
    const base = i * QK;
    const o = i * 18;
    const max = signedAbsMax(x, base);
    const d = fround(max / -8);
    const id = d ? fround(1 / d) : 0;
    putF16(out, o, d);
    for (let j = 0; j < QK / 2; j++) {
      const x0 = fround(x[base + j] * id);
      const x1 = fround(x[base + QK / 2 + j] * id);
      const xi0 = Math.min(15, Math.trunc(fround(x0 + 8.5)));
      const xi1 = Math.min(15, Math.trunc(fround(x1 + 8.5)));
      out[o + 2 + j] = (xi0 & 0xff) | ((xi1 << 4) & 0xff);
    }
  }
}

export function dequantizeQ4_0(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK;
  for (let i = 0; i < nb; i++) {
    const o = i * 18;
    const d = getF16(b, o);
    for (let j = 0; j < QK / 2; j++) {
      const q = b[o + 2 + j];
      y[i * QK + j] = fround(((q & 0x0f) - 8) * d);
      y[i * QK + j + QK / 2] = fround(((q >> 4) - 8) * d);
    }
  }
}

export function quantizeQ4_1(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK;
  for (let i = 0; i < nb; i++) {
    const base = i * QK;
    const o = i * 20;
    const [min, max] = minMax(x, base);
    const d = fround(fround(max - min) / 15);
    const id = d ? fround(1 / d) : 0;
    putF16(out, o, d);
    putF16(out, o + 2, min);
    for (let j = 0; j < QK / 2; j++) {
      const x0 = fround(fround(x[base + j] - min) * id);
      const x1 = fround(fround(x[base + QK / 2 + j] - min) * id);
      const xi0 = Math.min(15, Math.trunc(fround(x0 + 0.5)));
      const xi1 = Math.min(15, Math.trunc(fround(x1 + 0.5)));
      out[o + 4 + j] = (xi0 & 0xff) | ((xi1 << 4) & 0xff);
    }
  }
}

export function dequantizeQ4_1(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK;
  for (let i = 0; i < nb; i++) {
    const o = i * 20;
    const d = getF16(b, o);
    const m = getF16(b, o + 2);
    for (let j = 0; j < QK / 2; j++) {
      const q = b[o + 4 + j];
      y[i * QK + j] = fround(fround((q & 0x0f) * d) + m);
      y[i * QK + j + QK / 2] = fround(fround((q >> 4) * d) + m);
    }
  }
}

function putU32(out: Uint8Array, off: number, v: number): void {
  out[off] = v & 0xff;
  out[off + 1] = (v >>> 8) & 0xff;
  out[off + 2] = (v >>> 16) & 0xff;
  out[off + 3] = (v >>> 24) & 0xff;
}

function getU32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

export function quantizeQ5_0(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK;
  for (let i = 0; i < nb; i++) {
    const base = i * QK;
    const o = i * 22;
    const max = signedAbsMax(x, base);
    const d = fround(max / -16);
    const id = d ? fround(1 / d) : 0;
    putF16(out, o, d);
    let qh = 0;
    for (let j = 0; j < QK / 2; j++) {
      const x0 = fround(x[base + j] * id);
      const x1 = fround(x[base + QK / 2 + j] * id);
      const xi0 = Math.min(31, Math.trunc(fround(x0 + 16.5))) & 0xff;
      const xi1 = Math.min(31, Math.trunc(fround(x1 + 16.5))) & 0xff;
      out[o + 6 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >> 4) << j;
      qh |= ((xi1 & 0x10) >> 4) << (j + QK / 2);
    }
    putU32(out, o + 2, qh >>> 0);
  }
}

export function dequantizeQ5_0(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK;
  for (let i = 0; i < nb; i++) {
    const o = i * 22;
    const d = getF16(b, o);
    const qh = getU32(b, o + 2);
    for (let j = 0; j < QK / 2; j++) {
      const xh0 = ((qh >>> j) << 4) & 0x10;
      const xh1 = (qh >>> (j + 12)) & 0x10;
      const q = b[o + 6 + j];
      y[i * QK + j] = fround((((q & 0x0f) | xh0) - 16) * d);
      y[i * QK + j + QK / 2] = fround((((q >> 4) | xh1) - 16) * d);
    }
  }
}

export function quantizeQ5_1(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK;
  for (let i = 0; i < nb; i++) {
    const base = i * QK;
    const o = i * 24;
    const [min, max] = minMax(x, base);
    const d = fround(fround(max - min) / 31);
    const id = d ? fround(1 / d) : 0;
    putF16(out, o, d);
    putF16(out, o + 2, min);
    let qh = 0;
    for (let j = 0; j < QK / 2; j++) {
      const x0 = fround(fround(x[base + j] - min) * id);
      const x1 = fround(fround(x[base + QK / 2 + j] - min) * id);
      const xi0 = Math.trunc(fround(x0 + 0.5)) & 0xff;
      const xi1 = Math.trunc(fround(x1 + 0.5)) & 0xff;
      out[o + 8 + j] = (xi0 & 0x0f) | ((xi1 & 0x0f) << 4);
      qh |= ((xi0 & 0x10) >> 4) << j;
      qh |= ((xi1 & 0x10) >> 4) << (j + QK / 2);
    }
    putU32(out, o + 4, qh >>> 0);
  }
}

export function dequantizeQ5_1(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK;
  for (let i = 0; i < nb; i++) {
    const o = i * 24;
    const d = getF16(b, o);
    const m = getF16(b, o + 2);
    const qh = getU32(b, o + 4);
    for (let j = 0; j < QK / 2; j++) {
      const xh0 = ((qh >>> j) << 4) & 0x10;
      const xh1 = (qh >>> (j + 12)) & 0x10;
      const q = b[o + 8 + j];
      y[i * QK + j] = fround(fround(((q & 0x0f) | xh0) * d) + m);
      y[i * QK + j + QK / 2] = fround(fround(((q >> 4) | xh1) * d) + m);
    }
  }
}

export function quantizeQ8_0(x: Float32Array, out: Uint8Array): void {
  const nb = x.length / QK;
  for (let i = 0; i < nb; i++) {
    const base = i * QK;
    const o = i * 34;
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[base + j]));
    const d = fround(amax / 127);
    const id = d ? fround(1 / d) : 0;
    putF16(out, o, d);
    for (let j = 0; j < QK; j++) out[o + 2 + j] = roundf(fround(x[base + j] * id)) & 0xff;
  }
}

export function dequantizeQ8_0(b: Uint8Array, y: Float32Array): void {
  const nb = y.length / QK;
  for (let i = 0; i < nb; i++) {
    const o = i * 34;
    const d = getF16(b, o);
    for (let j = 0; j < QK; j++) {
      const q = b[o + 2 + j];
      y[i * QK + j] = fround((q > 127 ? q - 256 : q) * d);
    }
  }
}

export { putF16, getF16 };
