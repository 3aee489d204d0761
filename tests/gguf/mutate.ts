// Byte-level mutations of a real GGUF file for the malformed-model tests: each patch rewrites a field in
// place (same length), so the rest of the file stays exactly the original's.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { GgufValueType } from '../../main/gguf/types';

/** Offset just after the length-prefixed string `s` (u64 length + bytes), which must occur once. */
function afterString(buf: Buffer, s: string): number {
  const bytes = Buffer.from(s, 'utf8');
  const needle = Buffer.alloc(8 + bytes.length);
  needle.writeBigUInt64LE(BigInt(bytes.length));
  bytes.copy(needle, 8);
  const at = buf.indexOf(needle);
  if (at < 0) throw new Error(`"${s}" not found in the file`);
  if (buf.indexOf(needle, at + 1) >= 0) throw new Error(`"${s}" occurs more than once`);
  return at + needle.length;
}

export class GgufMutation {
  readonly buf: Buffer;
  constructor(source: string) {
    this.buf = readFileSync(source);
  }

  /** Sets a scalar u32 metadata value. */
  u32(key: string, value: number): this {
    const o = afterString(this.buf, key);
    const type = this.buf.readUInt32LE(o);
    if (type !== GgufValueType.UINT32) throw new Error(`${key} has value type ${type}, not u32`);
    this.buf.writeUInt32LE(value, o + 4);
    return this;
  }

  /** Re-labels a u32 metadata value as f32 (same 4 bytes, now read as a float). */
  u32AsF32(key: string, value: number): this {
    const o = afterString(this.buf, key);
    this.buf.writeUInt32LE(GgufValueType.FLOAT32, o);
    this.buf.writeFloatLE(value, o + 4);
    return this;
  }

  /** Renames a metadata key or tensor (same length), so the original name is missing. */
  rename(name: string, to: string): this {
    if (to.length !== name.length) throw new Error('rename keeps the length');
    const o = afterString(this.buf, name);
    this.buf.write(to, o - name.length, 'utf8');
    return this;
  }

  /** Changes a tensor's ggml type and/or its dimensions (same number of dimensions), leaving its data as is. */
  tensor(name: string, change: { type?: number; shape?: number[] }): this {
    const o = afterString(this.buf, name);
    const nDims = this.buf.readUInt32LE(o);
    if (change.shape) {
      if (change.shape.length !== nDims) throw new Error(`${name} has ${nDims} dimensions`);
      change.shape.forEach((d, i) => this.buf.writeBigUInt64LE(BigInt(d), o + 4 + 8 * i));
    }
    if (change.type !== undefined) this.buf.writeUInt32LE(change.type, o + 4 + 8 * nDims);
    return this;
  }

  write(path: string): string {
    writeFileSync(path, this.buf);
    return path;
  }
}

export const mutate = (source: string) => new GgufMutation(source);
export const copy = (source: string, path: string) => (copyFileSync(source, path), path);
