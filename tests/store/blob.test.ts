import { describe, expect, it } from 'vitest';
import { decodeFloat32, encodeFloat32 } from '../../main/store';

describe('float32 blobs', () => {
  it('encodes little-endian IEEE-754 single precision', () => {
    // 1.0f = 0x3f800000, -2.0f = 0xc0000000, 0.5f = 0x3f000000 (little-endian byte order below)
    expect([...encodeFloat32([1, -2, 0.5])]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f]);
  });

  it('round-trips exactly, including values that need rounding to float32', () => {
    const values = Float32Array.from([0, -0.1, 1e-30, 3.4e38, -7.25, Math.PI]);
    const back = decodeFloat32(encodeFloat32(values));
    expect([...back]).toEqual([...values]);
    expect(back[5]).toBe(Math.fround(Math.PI));
  });

  it('copies the input (no aliasing of the caller\'s array)', () => {
    const v = Float32Array.from([1, 2]);
    const blob = encodeFloat32(v);
    v[0] = 99;
    expect([...decodeFloat32(blob)]).toEqual([1, 2]);
  });

  it('decodes from an unaligned view', () => {
    const raw = Buffer.alloc(9);
    encodeFloat32([1.5, -3]).copy(raw, 1);
    expect([...decodeFloat32(raw.subarray(1))]).toEqual([1.5, -3]);
  });

  it('refuses a blob whose length is not a multiple of 4', () => {
    expect(() => decodeFloat32(Buffer.alloc(6))).toThrow(/6 bytes, not a multiple of 4/);
  });
});
