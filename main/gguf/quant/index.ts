// One entry point for converting float32 weights to a ggml type's bytes and back.
import { bf16ToFp32, f32BitsToFp16, fp16ToFp32 } from './fp';
import * as K from './kquants';
import * as Q from './legacy';
import { GgmlType, TYPE_LAYOUT, ggmlTypeName } from './types';

export * from './types';
export { fp16ToFp32, fp32ToFp16, bf16ToFp32, fp32ToBf16 } from './fp';

type Codec = {
  q: (x: Float32Array, out: Uint8Array) => void;
  dq: (b: Uint8Array, y: Float32Array) => void;
};

const CODECS: Record<number, Codec> = {
  [GgmlType.F32]: {
    q: (x, out) => out.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)),
    dq: (b, y) => new Uint8Array(y.buffer, y.byteOffset, y.byteLength).set(b.subarray(0, y.byteLength)),
  },
  [GgmlType.F16]: {
    q: (x, out) => {
      const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
      for (let i = 0; i < x.length; i++) {
        const h = f32BitsToFp16(bits[i]);
        out[2 * i] = h & 0xff;
        out[2 * i + 1] = h >> 8;
      }
    },
    dq: (b, y) => {
      for (let i = 0; i < y.length; i++) y[i] = fp16ToFp32(b[2 * i] | (b[2 * i + 1] << 8));
    },
  },
  [GgmlType.BF16]: {
    q: (x, out) => {
      const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
      for (let i = 0; i < x.length; i++) {
        const u = bits[i];
        // ggml_compute_fp32_to_bf16 on the raw bits (see fp32ToBf16).
        const h = (u & 0x7fffffff) >>> 0 > 0x7f800000 ? ((u >>> 16) | 64) & 0xffff : ((u + (0x7fff + ((u >>> 16) & 1))) >>> 0) >>> 16;
        out[2 * i] = h & 0xff;
        out[2 * i + 1] = h >> 8;
      }
    },
    dq: (b, y) => {
      for (let i = 0; i < y.length; i++) y[i] = bf16ToFp32(b[2 * i] | (b[2 * i + 1] << 8));
    },
  },
  [GgmlType.Q4_0]: { q: Q.quantizeQ4_0, dq: Q.dequantizeQ4_0 },
  [GgmlType.Q4_1]: { q: Q.quantizeQ4_1, dq: Q.dequantizeQ4_1 },
  [GgmlType.Q5_0]: { q: Q.quantizeQ5_0, dq: Q.dequantizeQ5_0 },
  [GgmlType.Q5_1]: { q: Q.quantizeQ5_1, dq: Q.dequantizeQ5_1 },
  [GgmlType.Q8_0]: { q: Q.quantizeQ8_0, dq: Q.dequantizeQ8_0 },
  [GgmlType.Q2_K]: { q: K.quantizeQ2_K, dq: K.dequantizeQ2_K },
  [GgmlType.Q3_K]: { q: K.quantizeQ3_K, dq: K.dequantizeQ3_K },
  [GgmlType.Q4_K]: { q: K.quantizeQ4_K, dq: K.dequantizeQ4_K },
  [GgmlType.Q5_K]: { q: K.quantizeQ5_K, dq: K.dequantizeQ5_K },
  [GgmlType.Q6_K]: { q: K.quantizeQ6_K, dq: K.dequantizeQ6_K },
};

export function canQuantize(type: number): boolean {
  return type in CODECS;
}

export function byteSize(type: number, nElements: number): number {
  const layout = TYPE_LAYOUT[type];
  if (!layout) throw new Error(`unknown size for ggml type ${ggmlTypeName(type)}`);
  if (nElements % layout.blockSize !== 0) {
    throw new Error(`${nElements} elements is not a multiple of ${ggmlTypeName(type)}'s block size ${layout.blockSize}`);
  }
  return (nElements / layout.blockSize) * layout.typeSize;
}

/** Quantizes a flat array (rows concatenated; each row a multiple of the block size) to `type`'s bytes. */
export function quantize(type: number, x: Float32Array): Uint8Array {
  const codec = CODECS[type];
  if (!codec) throw new Error(`cannot write ggml type ${ggmlTypeName(type)}`);
  const out = new Uint8Array(byteSize(type, x.length));
  codec.q(x, out);
  return out;
}

/** Dequantizes `n` elements of `type` from `bytes`, with ggml's dequantize_row_* arithmetic. */
export function dequantize(type: number, bytes: Uint8Array, n: number): Float32Array {
  const codec = CODECS[type];
  if (!codec) throw new Error(`cannot read ggml type ${ggmlTypeName(type)}`);
  const need = byteSize(type, n);
  if (bytes.length < need) throw new Error(`${ggmlTypeName(type)}: ${n} elements need ${need} bytes, got ${bytes.length}`);
  const y = new Float32Array(n);
  // Copy so the codec sees a zero-offset buffer regardless of the source's alignment.
  codec.dq(bytes.byteOffset % 4 === 0 ? bytes : bytes.slice(0, need), y);
  return y;
}
