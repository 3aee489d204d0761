// Deterministic GGUF v3 writer. Tensor data is produced lazily, one tensor at a time, and streamed to the
// file so large benchmark models never sit in memory whole. Same inputs -> same bytes.
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { byteSize } from './quant/index';
import { ggmlTypeName } from './quant/types';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType, type GgufArray, type GgufKv, type GgufValue } from './types';

export interface TensorToWrite {
  name: string;
  /** ggml order: shape[0] is the row length. */
  shape: number[];
  type: number;
  /** The tensor's bytes in `type`'s encoding, or a function producing them when the tensor is written. */
  data: Uint8Array | (() => Uint8Array);
}

export interface WriteGgufResult {
  path: string;
  bytes: number;
  sha256: string;
}

/** Growable little-endian byte builder for the header. */
class ByteBuilder {
  private buf = Buffer.alloc(1 << 16);
  len = 0;
  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u8(v: number): void { this.grow(1); this.buf.writeUInt8(v, this.len); this.len += 1; }
  i8(v: number): void { this.grow(1); this.buf.writeInt8(v, this.len); this.len += 1; }
  u16(v: number): void { this.grow(2); this.buf.writeUInt16LE(v, this.len); this.len += 2; }
  i16(v: number): void { this.grow(2); this.buf.writeInt16LE(v, this.len); this.len += 2; }
  u32(v: number): void { this.grow(4); this.buf.writeUInt32LE(v, this.len); this.len += 4; }
  i32(v: number): void { this.grow(4); this.buf.writeInt32LE(v, this.len); this.len += 4; }
  f32(v: number): void { this.grow(4); this.buf.writeFloatLE(v, this.len); this.len += 4; }
  f64(v: number): void { this.grow(8); this.buf.writeDoubleLE(v, this.len); this.len += 8; }
  u64(v: number | bigint): void { this.grow(8); this.buf.writeBigUInt64LE(BigInt(v), this.len); this.len += 8; }
  i64(v: number | bigint): void { this.grow(8); this.buf.writeBigInt64LE(BigInt(v), this.len); this.len += 8; }
  raw(b: Uint8Array): void { this.grow(b.length); this.buf.set(b, this.len); this.len += b.length; }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.raw(b);
  }
  pad(alignment: number): void {
    const n = (alignment - (this.len % alignment)) % alignment;
    this.grow(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
  }
  bytes(): Buffer { return this.buf.subarray(0, this.len); }
}

function writeScalar(b: ByteBuilder, type: number, v: unknown, key: string): void {
  const num = (): number => {
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    throw new Error(`metadata "${key}": expected a number, got ${typeof v}`);
  };
  switch (type) {
    case GgufValueType.UINT8: return b.u8(num());
    case GgufValueType.INT8: return b.i8(num());
    case GgufValueType.UINT16: return b.u16(num());
    case GgufValueType.INT16: return b.i16(num());
    case GgufValueType.UINT32: return b.u32(num());
    case GgufValueType.INT32: return b.i32(num());
    case GgufValueType.FLOAT32: return b.f32(num());
    case GgufValueType.FLOAT64: return b.f64(num());
    case GgufValueType.UINT64: return b.u64(typeof v === 'bigint' ? v : num());
    case GgufValueType.INT64: return b.i64(typeof v === 'bigint' ? v : num());
    case GgufValueType.BOOL: return b.u8(v ? 1 : 0);
    case GgufValueType.STRING:
      if (typeof v !== 'string') throw new Error(`metadata "${key}": expected a string`);
      return b.str(v);
    case GgufValueType.ARRAY: {
      const a = v as GgufArray;
      if (!a || typeof a !== 'object' || !('itemType' in a)) throw new Error(`metadata "${key}": expected an array`);
      b.u32(a.itemType);
      b.u64(a.items.length);
      const items = a.items as ArrayLike<unknown>;
      // Typed numeric arrays are copied as raw little-endian bytes (fast for vocab scores/types).
      if (ArrayBuffer.isView(items) && !(items instanceof DataView)) {
        const view = items as unknown as ArrayBufferView;
        b.raw(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
        return;
      }
      for (let i = 0; i < items.length; i++) writeScalar(b, a.itemType, items[i], key);
      return;
    }
    default:
      throw new Error(`metadata "${key}": unknown value type ${type}`);
  }
}

/** Metadata helpers so callers state types explicitly (GGUF readers care: u32 vs i32 vs f32). */
export const kv = {
  str: (key: string, value: string): GgufKv => ({ key, type: GgufValueType.STRING, value }),
  u32: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT32, value }),
  i32: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.INT32, value }),
  f32: (key: string, value: number): GgufKv => ({ key, type: GgufValueType.FLOAT32, value }),
  bool: (key: string, value: boolean): GgufKv => ({ key, type: GgufValueType.BOOL, value }),
  arr: (key: string, value: GgufArray): GgufKv => ({ key, type: GgufValueType.ARRAY, value }),
  of: (key: string, type: GgufKv['type'], value: GgufValue): GgufKv => ({ key, type, value }),
};

/** Writes a GGUF v3 file. Tensors are laid out in the given order, each aligned to `alignment`. */
export function writeGguf(
  path: string,
  content: { kv: GgufKv[]; tensors: TensorToWrite[]; alignment?: number },
): WriteGgufResult {
  const alignment = content.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const keys = new Set<string>();
  for (const e of content.kv) {
    if (keys.has(e.key)) throw new Error(`duplicate metadata key "${e.key}"`);
    keys.add(e.key);
  }
  const names = new Set<string>();
  const h = new ByteBuilder();
  h.u32(GGUF_MAGIC);
  h.u32(3);
  h.u64(content.tensors.length);
  const kvs = [...content.kv];
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !keys.has('general.alignment')) kvs.push(kv.u32('general.alignment', alignment));
  h.u64(kvs.length);
  for (const e of kvs) {
    h.str(e.key);
    h.u32(e.type);
    writeScalar(h, e.type, e.value, e.key);
  }
  let offset = 0;
  const sizes: number[] = [];
  for (const t of content.tensors) {
    if (names.has(t.name)) throw new Error(`duplicate tensor "${t.name}"`);
    names.add(t.name);
    const n = t.shape.reduce((a, b) => a * b, 1);
    let size: number;
    try {
      size = byteSize(t.type, n);
      byteSize(t.type, t.shape[0]); // the row itself must hold whole blocks
    } catch (e) {
      throw new Error(`tensor "${t.name}" ${ggmlTypeName(t.type)} [${t.shape.join(', ')}]: ${(e as Error).message}`);
    }
    sizes.push(size);
    h.str(t.name);
    h.u32(t.shape.length);
    for (const d of t.shape) h.u64(d);
    h.u32(t.type);
    h.u64(offset);
    offset += Math.ceil(size / alignment) * alignment;
  }
  h.pad(alignment);

  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  let written = 0;
  const put = (b: Uint8Array): void => {
    let done = 0;
    while (done < b.length) done += writeSync(fd, b, done, b.length - done);
    hash.update(b);
    written += b.length;
  };
  try {
    put(h.bytes());
    const zeros = new Uint8Array(alignment);
    content.tensors.forEach((t, i) => {
      const data = typeof t.data === 'function' ? t.data() : t.data;
      if (data.length !== sizes[i]) {
        throw new Error(`tensor "${t.name}": ${data.length} bytes given, ${ggmlTypeName(t.type)} [${t.shape.join(', ')}] needs ${sizes[i]}`);
      }
      put(data);
      const pad = (alignment - (data.length % alignment)) % alignment;
      if (pad) put(zeros.subarray(0, pad));
    });
  } finally {
    closeSync(fd);
  }
  return { path, bytes: written, sha256: hash.digest('hex') };
}
