// Quantizers: byte-identical to ggml's reference quantizers, dequantizers identical to ggml's, error
// within the bound of each format's step size, and fp16/bf16/rounding helpers on known values.
import { afterAll, describe, expect, it } from 'vitest';
import { f32BitsToFp16, fp32ToFp16, nearestInt, bitsToF32 } from '../../main/gguf/quant/fp';
import { dequantize, quantize, GgmlType, WRITABLE_TYPES } from '../../main/gguf/quant/index';
import { Sfc32 } from '../../main/gguf/prng';
import { buildGgmlRef } from './ggml-ref';
import { tempDir } from './helpers';

const tmp = tempDir('quant-');
afterAll(() => tmp.cleanup());
const ref = buildGgmlRef(tmp.dir);

/** Rows of 512 with awkward blocks: outliers, all-zero, constant, positive-only, tiny and mixed scales. */
function testData(): Float32Array {
  const rng = new Sfc32(42);
  const x = new Float32Array(512 * 24);
  for (let i = 0; i < x.length; i++) x[i] = (rng.next() - 0.5) * (i % 512 < 256 ? 0.1 : 3) + (i % 1000 === 0 ? 5 : 0);
  x.fill(0, 1024, 1280);
  x.fill(0.25, 2048, 2304);
  for (let i = 4096; i < 4352; i++) x[i] = rng.next() * 2;
  for (let i = 5120; i < 5376; i++) x[i] = (rng.next() - 0.5) * 1e-6;
  for (let i = 6144; i < 6400; i++) x[i] = -rng.next() * 4;
  return x;
}

describe('bit-exact against ggml (libggml-base of the installed node-llama-cpp)', () => {
  const x = testData();
  for (const t of WRITABLE_TYPES) {
    it.skipIf(typeof ref === 'string')(`${t}: quantize bytes and dequantized floats equal ggml's${typeof ref === 'string' ? ` (skipped: ${ref})` : ''}`, () => {
      if (typeof ref === 'string') return;
      const id = GgmlType[t];
      const mine = quantize(id, x);
      const theirs = ref.quantize(id, 512, x);
      expect(mine.length).toBe(theirs.length);
      expect(Buffer.from(mine).equals(Buffer.from(theirs))).toBe(true);
      const dq = dequantize(id, mine, x.length);
      const dqRef = ref.dequantize(id, 512, theirs);
      expect(Buffer.from(dq.buffer).equals(Buffer.from(dqRef.buffer))).toBe(true);
    });
  }
});

describe('round-trip error', () => {
  // Uniform data in [-1, 1): an ideal uniform quantizer with step D has rms error D/sqrt(12); relative to
  // rms(x) = 1/sqrt(3) that is D/2. D per format: 8-bit symmetric 1/127, Q6_K 1/32, 5-bit symmetric 1/16,
  // 5-bit min/max 2/31, 4-bit symmetric 1/8, 4-bit min/max 2/15, Q3_K 1/4, Q2_K 2/3.
  const step: Record<string, number> = {
    Q8_0: 1 / 127, Q6_K: 1 / 32, Q5_0: 1 / 16, Q5_1: 2 / 31, Q5_K: 2 / 31, Q4_0: 1 / 8, Q4_1: 2 / 15, Q4_K: 2 / 15,
    Q3_K: 1 / 4, Q2_K: 2 / 3, F16: 2 ** -11, BF16: 2 ** -8,
  };
  const rng = new Sfc32(3);
  const x = new Float32Array(256 * 64);
  for (let i = 0; i < x.length; i++) x[i] = rng.next() * 2 - 1;
  const rms = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0) / a.length);
  for (const [t, d] of Object.entries(step)) {
    it(`${t}: relative rms error below 1.1 x the ideal step/2 (${(d / 2).toFixed(4)})`, () => {
      const id = GgmlType[t as keyof typeof GgmlType];
      const y = dequantize(id, quantize(id, x), x.length);
      const rel = rms(x.map((v, i) => v - y[i])) / rms(x);
      expect(rel).toBeLessThan(1.1 * (d / 2));
      // Floats keep relative precision, so their error is far below the step bound; quantizers sit near it.
      if (!t.startsWith('F') && !t.startsWith('B')) expect(rel).toBeGreaterThan(0.3 * (d / 2));
    });
  }
  it('F32 is exact', () => {
    expect(Array.from(dequantize(GgmlType.F32, quantize(GgmlType.F32, x), x.length))).toEqual(Array.from(x));
  });
});

describe('float helpers', () => {
  it('fp16 known values (round to nearest even, overflow, subnormals, NaN)', () => {
    const f = (v: number) => fp32ToFp16(v);
    expect(f(1)).toBe(0x3c00);
    expect(f(-2)).toBe(0xc000);
    expect(f(65504)).toBe(0x7bff);
    expect(f(65520)).toBe(0x7c00); // halfway to 2^16 rounds up to infinity
    expect(f(2 ** -24)).toBe(0x0001);
    expect(f(2 ** -25)).toBe(0x0000); // tie with 0 and 1 ulp: even
    expect(f(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2: even
    expect(f(1 + 2 ** -11)).toBe(0x3c00); // tie: even
    expect(f(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f(-0)).toBe(0x8000);
    expect(f(NaN)).toBe(0x7e00);
    expect(f(Infinity)).toBe(0x7c00);
  });
  it('the fast integer fp16 path equals the port of ggml\'s bit trick on 300k random bit patterns', () => {
    const rng = new Sfc32(9);
    for (let i = 0; i < 300_000; i++) {
      const bits = rng.nextU32();
      expect(f32BitsToFp16(bits)).toBe(fp32ToFp16(bitsToF32(bits)));
    }
  });
  it('nearest_int rounds half to even like ggml', () => {
    expect([2.5, 3.5, -2.5, -3.5, 0.49999997, 1e6 + 0.5].map(nearestInt)).toEqual([2, 4, -2, -4, 0, 1e6]);
  });
});
