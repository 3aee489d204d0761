// Bit-exact ports of ggml's scalar float helpers (ggml-impl.h, ggml-quants.c). The quantizers must
// reproduce ggml's reference output byte for byte, so every float32 operation is rounded with
// Math.fround exactly where C would round, and the fp16 conversion is the same bit trick ggml uses.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fround = Math.fround;

export function f32ToBits(f: number): number {
  f32[0] = f;
  return u32[0];
}

export function bitsToF32(b: number): number {
  u32[0] = b >>> 0;
  return f32[0];
}

const SCALE_TO_INF = 2 ** 112;
const SCALE_TO_ZERO = 2 ** -110;

/** ggml_compute_fp32_to_fp16: round to nearest even, NaN -> 0x7E00. */
export function fp32ToFp16(f: number): number {
  f = fround(f);
  let base = fround(fround(Math.abs(f) * SCALE_TO_INF) * SCALE_TO_ZERO);
  const w = f32ToBits(f);
  const shl1w = (w + w) >>> 0;
  const sign = (w & 0x80000000) >>> 0;
  let bias = (shl1w & 0xff000000) >>> 0;
  if (bias < 0x71000000) bias = 0x71000000;
  base = fround(bitsToF32(((bias >>> 1) + 0x07800000) >>> 0) + base);
  const bits = f32ToBits(base);
  const expBits = (bits >>> 13) & 0x00007c00;
  const mantissaBits = bits & 0x00000fff;
  const nonsign = expBits + mantissaBits;
  return ((sign >>> 16) | (shl1w > 0xff000000 ? 0x7e00 : nonsign)) & 0xffff;
}

/**
 * Integer-only float32-bits -> fp16 with round-to-nearest-even: the same results as fp32ToFp16 (ggml's
 * bit trick) for every input, including NaN -> 0x7E00 (checked exhaustively-by-sampling in the tests),
 * but several times faster on whole arrays.
 */
export function f32BitsToFp16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const e = (x >>> 23) & 0xff;
  let m = x & 0x7fffff;
  if (e === 0xff) return sign | (m ? 0x7e00 : 0x7c00);
  const exp = e - 112;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    m |= 0x800000;
    const shift = 14 - exp;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

const FP16_TABLE = new Float32Array(65536);
{
  // ggml_compute_fp16_to_fp32 via table: exact IEEE half -> float.
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    let v: number;
    if (e === 0) v = s * m * 2 ** -24;
    else if (e === 31) v = m ? NaN : s * Infinity;
    else v = s * (1 + m / 1024) * 2 ** (e - 15);
    FP16_TABLE[h] = v;
  }
}

export function fp16ToFp32(h: number): number {
  return FP16_TABLE[h & 0xffff];
}

/** ggml_compute_fp32_to_bf16: round to nearest even, NaN forced quiet. */
export function fp32ToBf16(f: number): number {
  const i = f32ToBits(f);
  if ((i & 0x7fffffff) >>> 0 > 0x7f800000) return ((i >>> 16) | 64) & 0xffff;
  return (((i + (0x7fff + ((i >>> 16) & 1))) >>> 0) >>> 16) & 0xffff;
}

export function bf16ToFp32(h: number): number {
  return bitsToF32((h & 0xffff) << 16);
}

/** ggml's nearest_int: add 1.5*2^23 in float32 and read the mantissa (round half to even). */
export function nearestInt(fval: number): number {
  // For |fval| <= 2^22 the float32 sum is an integer exactly, so subtracting the bias gives the same
  // value as reading the mantissa bits (and avoids a typed-array round trip in hot loops).
  return fround(fval + 12582912) - 12582912;
}

/** C's roundf: half away from zero. */
export function roundf(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}
