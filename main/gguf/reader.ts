// GGUF reader: header, metadata (every value type, nested arrays), tensor infos, alignment, data offset.
// Reads the header incrementally from the file descriptor so multi-GB models are never loaded whole.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { dequantize } from './quant/index';
import { TYPE_LAYOUT, ggmlTypeName } from './quant/types';
import {
  GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType,
  type GgufArray, type GgufFile, type GgufKv, type GgufTensorInfo, type GgufValue, type GgufValueTypeId,
} from './types';

export type { GgufFile, GgufTensorInfo, GgufKv, GgufValue, GgufArray } from './types';

export class GgufError extends Error {
  constructor(public readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'GgufError';
  }
}

const CHUNK = 1 << 20;
const MAX_STRING = 1 << 30;
const MAX_ARRAY = 2 ** 32;

/** Sequential little-endian reader over a file descriptor with a sliding buffer. */
class FdCursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0; // file offset of buf[0]
  pos = 0; // absolute file offset

  constructor(private fd: number, readonly size: number, private file: string) {}

  private ensure(n: number): void {
    const have = this.bufStart + this.buf.length - this.pos;
    if (have >= n) return;
    if (this.pos + n > this.size) {
      throw new GgufError(this.file, `truncated header: need ${n} bytes at offset ${this.pos}, file has ${this.size}`);
    }
    const keepFrom = this.pos - this.bufStart;
    const want = Math.max(n, CHUNK);
    const next = Buffer.alloc(Math.min(want, this.size - this.pos));
    const kept = this.buf.subarray(keepFrom);
    kept.copy(next, 0);
    let filled = kept.length;
    while (filled < next.length) {
      const r = readSync(this.fd, next, filled, next.length - filled, this.pos + filled);
      if (r <= 0) throw new GgufError(this.file, `unexpected end of file at offset ${this.pos + filled}`);
      filled += r;
    }
    this.buf = next;
    this.bufStart = this.pos;
  }

  // Callers must take the offset before touching this.buf: at() may replace the buffer.
  private at(n: number): number {
    this.ensure(n);
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }

  u8(): number { const o = this.at(1); return this.buf.readUInt8(o); }
  i8(): number { const o = this.at(1); return this.buf.readInt8(o); }
  u16(): number { const o = this.at(2); return this.buf.readUInt16LE(o); }
  i16(): number { const o = this.at(2); return this.buf.readInt16LE(o); }
  u32(): number { const o = this.at(4); return this.buf.readUInt32LE(o); }
  i32(): number { const o = this.at(4); return this.buf.readInt32LE(o); }
  f32(): number { const o = this.at(4); return this.buf.readFloatLE(o); }
  f64(): number { const o = this.at(8); return this.buf.readDoubleLE(o); }
  u64(): bigint { const o = this.at(8); return this.buf.readBigUInt64LE(o); }
  i64(): bigint { const o = this.at(8); return this.buf.readBigInt64LE(o); }

  bytes(n: number): Buffer {
    const o = this.at(n);
    return this.buf.subarray(o, o + n);
  }

  str(what: string): string {
    const len = this.u64();
    if (len > BigInt(MAX_STRING)) throw new GgufError(this.file, `${what}: string length ${len} is implausible`);
    return this.bytes(Number(len)).toString('utf8');
  }
}

function small(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

const TYPED: Partial<Record<number, { size: number; make: (b: ArrayBuffer) => GgufArray['items'] }>> = {
  [GgufValueType.UINT8]: { size: 1, make: (b) => new Uint8Array(b) },
  [GgufValueType.INT8]: { size: 1, make: (b) => new Int8Array(b) },
  [GgufValueType.UINT16]: { size: 2, make: (b) => new Uint16Array(b) },
  [GgufValueType.INT16]: { size: 2, make: (b) => new Int16Array(b) },
  [GgufValueType.UINT32]: { size: 4, make: (b) => new Uint32Array(b) },
  [GgufValueType.INT32]: { size: 4, make: (b) => new Int32Array(b) },
  [GgufValueType.FLOAT32]: { size: 4, make: (b) => new Float32Array(b) },
  [GgufValueType.FLOAT64]: { size: 8, make: (b) => new Float64Array(b) },
  [GgufValueType.UINT64]: { size: 8, make: (b) => new BigUint64Array(b) },
  [GgufValueType.INT64]: { size: 8, make: (b) => new BigInt64Array(b) },
};

function readValue(c: FdCursor, type: number, key: string, file: string): GgufValue {
  switch (type) {
    case GgufValueType.UINT8: return c.u8();
    case GgufValueType.INT8: return c.i8();
    case GgufValueType.UINT16: return c.u16();
    case GgufValueType.INT16: return c.i16();
    case GgufValueType.UINT32: return c.u32();
    case GgufValueType.INT32: return c.i32();
    case GgufValueType.FLOAT32: return c.f32();
    case GgufValueType.FLOAT64: return c.f64();
    case GgufValueType.UINT64: return small(c.u64());
    case GgufValueType.INT64: return small(c.i64());
    case GgufValueType.BOOL: return c.u8() !== 0;
    case GgufValueType.STRING: return c.str(key);
    case GgufValueType.ARRAY: {
      const itemType = c.u32() as GgufValueTypeId;
      const n = c.u64();
      if (n >= BigInt(MAX_ARRAY)) throw new GgufError(file, `metadata "${key}": array length ${n} is implausible`);
      const count = Number(n);
      const typed = TYPED[itemType];
      if (typed) {
        const raw = c.bytes(count * typed.size);
        const ab = new ArrayBuffer(raw.length);
        new Uint8Array(ab).set(raw);
        return { itemType, items: typed.make(ab) };
      }
      if (itemType === GgufValueType.STRING) {
        const items: string[] = new Array(count);
        for (let i = 0; i < count; i++) items[i] = c.str(key);
        return { itemType, items };
      }
      if (itemType === GgufValueType.BOOL) {
        const items: boolean[] = new Array(count);
        for (let i = 0; i < count; i++) items[i] = c.u8() !== 0;
        return { itemType, items };
      }
      if (itemType === GgufValueType.ARRAY) {
        const items: GgufArray[] = [];
        for (let i = 0; i < count; i++) {
          // Nested arrays carry their own item type and length: re-enter with type ARRAY.
          items.push(readValue(c, GgufValueType.ARRAY, key, file) as GgufArray);
        }
        return { itemType, items };
      }
      throw new GgufError(file, `metadata "${key}": unknown array item type ${itemType}`);
    }
    default:
      throw new GgufError(file, `metadata "${key}": unknown value type ${type}`);
  }
}

export interface ReadGgufOptions {
  /** Check that every tensor's data lies inside the file (default true). */
  checkTensorData?: boolean;
}

/** Parses a GGUF file's header. Throws GgufError (message starts with the path) on anything malformed. */
export function readGguf(path: string, opts: ReadGgufOptions = {}): GgufFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new GgufError(path, `cannot open: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 4) throw new GgufError(path, `not a GGUF file (only ${size} bytes)`);
    const c = new FdCursor(fd, size, path);
    const magic = c.u32();
    if (magic !== GGUF_MAGIC) {
      const head = Buffer.alloc(4);
      head.writeUInt32LE(magic);
      throw new GgufError(path, `not a GGUF file (magic ${JSON.stringify(head.toString('latin1'))}, expected "GGUF")`);
    }
    const version = c.u32();
    if (version !== 2 && version !== 3) {
      throw new GgufError(path, `unsupported GGUF version ${version} (supported: 2, 3)`);
    }
    const nTensors = c.u64();
    const nKv = c.u64();
    if (nTensors > 1_000_000n || nKv > 1_000_000n) {
      throw new GgufError(path, `implausible header: ${nTensors} tensors, ${nKv} metadata entries`);
    }
    const kv: GgufKv[] = [];
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < Number(nKv); i++) {
      const key = c.str('metadata key');
      const type = c.u32() as GgufValueTypeId;
      const value = readValue(c, type, key, path);
      kv.push({ key, type, value });
      metadata.set(key, value);
    }
    let alignment = GGUF_DEFAULT_ALIGNMENT;
    const al = metadata.get('general.alignment');
    if (al !== undefined) {
      if (typeof al !== 'number' || al <= 0 || (al & (al - 1)) !== 0) {
        throw new GgufError(path, `general.alignment ${String(al)} is not a power of two`);
      }
      alignment = al;
    }
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < Number(nTensors); i++) {
      const name = c.str('tensor name');
      const nDims = c.u32();
      if (nDims < 1 || nDims > 4) throw new GgufError(path, `tensor "${name}": ${nDims} dimensions (1..4 allowed)`);
      const shape: number[] = [];
      for (let d = 0; d < nDims; d++) {
        const v = c.u64();
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(path, `tensor "${name}": dimension ${v} too large`);
        shape.push(Number(v));
      }
      const type = c.u32();
      const offset = Number(c.u64());
      const layout = TYPE_LAYOUT[type];
      if (!layout) throw new GgufError(path, `tensor "${name}": unknown ggml type ${ggmlTypeName(type)}`);
      const nElements = shape.reduce((a, b) => a * b, 1);
      if (shape[0] % layout.blockSize !== 0) {
        throw new GgufError(path, `tensor "${name}": row length ${shape[0]} not a multiple of ${ggmlTypeName(type)} block size ${layout.blockSize}`);
      }
      const nBytes = (nElements / layout.blockSize) * layout.typeSize;
      if (offset % alignment !== 0) throw new GgufError(path, `tensor "${name}": offset ${offset} not aligned to ${alignment}`);
      tensors.push({ name, shape, type, offset, fileOffset: 0, nElements, nBytes });
    }
    const dataOffset = Math.ceil(c.pos / alignment) * alignment;
    for (const t of tensors) {
      t.fileOffset = dataOffset + t.offset;
      if (opts.checkTensorData !== false && t.fileOffset + t.nBytes > size) {
        throw new GgufError(
          path,
          `truncated file: tensor "${t.name}" needs bytes ${t.fileOffset}..${t.fileOffset + t.nBytes} but the file has ${size}`,
        );
      }
    }
    return { path, version, fileSize: size, alignment, dataOffset, kv, metadata, tensors };
  } finally {
    closeSync(fd);
  }
}

/** Raw bytes of one tensor. */
export function readTensorBytes(file: GgufFile, name: string): Uint8Array {
  const t = file.tensors.find((x) => x.name === name);
  if (!t) throw new GgufError(file.path, `no tensor named "${name}"`);
  const out = Buffer.alloc(t.nBytes);
  const fd = openSync(file.path, 'r');
  try {
    let done = 0;
    while (done < t.nBytes) {
      const r = readSync(fd, out, done, t.nBytes - done, t.fileOffset + done);
      if (r <= 0) throw new GgufError(file.path, `tensor "${name}": unexpected end of file`);
      done += r;
    }
  } finally {
    closeSync(fd);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** A tensor's values as float32 (dequantized with ggml's rules), in ggml order (rows of shape[0]). */
export function readTensorF32(file: GgufFile, name: string): Float32Array {
  const t = file.tensors.find((x) => x.name === name);
  if (!t) throw new GgufError(file.path, `no tensor named "${name}"`);
  return dequantize(t.type, readTensorBytes(file, name), t.nElements);
}

/** Typed lookup helpers for metadata. */
export function metaNumber(file: GgufFile, key: string): number | undefined {
  const v = file.metadata.get(key);
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

export function metaString(file: GgufFile, key: string): string | undefined {
  const v = file.metadata.get(key);
  return typeof v === 'string' ? v : undefined;
}
