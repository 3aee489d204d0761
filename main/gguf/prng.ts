// Small seeded PRNG (sfc32) so generated weights are identical on every machine and Node version.

export function hashString(seed: number, s: string): number {
  // FNV-1a over the UTF-16 code units, mixed with the seed.
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextU32();
  }
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1) with 24 random bits (exactly representable in float32). */
  next(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }
  /** Fills `out` with uniform values in [center - halfWidth, center + halfWidth). */
  fillUniform(out: Float32Array, halfWidth: number, center = 0): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = center + (this.next() * 2 - 1) * halfWidth;
    return out;
  }
}
