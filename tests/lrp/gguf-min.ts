// Minimal whole-file GGUF parser for the LRP tests (tiny files only): metadata in the writer's GgufKv form,
// tensor infos, and tensor values dequantized with the project's quant codecs (not the engine's code).
import { readFileSync } from 'node:fs';
import { dequantize } from '../../main/gguf/quant/index';
import { GgmlType } from '../../main/gguf/quant/types';
import { GgufValueType, type GgufKv, type GgufValue } from '../../main/gguf/types';

export interface MinTensor { name: string; shape: number[]; type: number; offset: number }
export interface MinGguf { kv: GgufKv[]; meta: Map<string, GgufValue>; tensors: MinTensor[]; dataOffset: number; buf: Buffer }

const TYPED: Record<number, [number, (b: Buffer, o: number) => number | bigint]> = {
  0: [1, (b, o) => b.readUInt8(o)], 1: [1, (b, o) => b.readInt8(o)], 2: [2, (b, o) => b.readUInt16LE(o)],
  3: [2, (b, o) => b.readInt16LE(o)], 4: [4, (b, o) => b.readUInt32LE(o)], 5: [4, (b, o) => b.readInt32LE(o)],
  6: [4, (b, o) => b.readFloatLE(o)], 10: [8, (b, o) => b.readBigUInt64LE(o)], 11: [8, (b, o) => b.readBigInt64LE(o)],
  12: [8, (b, o) => b.readDoubleLE(o)],
};
const ARR: Record<number, new (n: number) => any> = {
  0: Uint8Array, 1: Int8Array, 2: Uint16Array, 3: Int16Array, 4: Uint32Array, 5: Int32Array, 6: Float32Array,
  10: BigUint64Array, 11: BigInt64Array, 12: Float64Array,
};

export function readMinGguf(path: string): MinGguf {
  const b = readFileSync(path);
  let o = 0;
  const u32 = () => { const v = b.readUInt32LE(o); o += 4; return v; };
  const u64 = () => { const v = Number(b.readBigUInt64LE(o)); o += 8; return v; };
  const str = () => { const n = u64(); const s = b.toString('utf8', o, o + n); o += n; return s; };
  const scalar = (t: number): any => {
    if (t === GgufValueType.STRING) return str();
    if (t === GgufValueType.BOOL) return b.readUInt8(o++) !== 0;
    const [sz, rd] = TYPED[t];
    const v = rd(b, o);
    o += sz;
    return typeof v === 'bigint' ? Number(v) : v;
  };
  if (u32() !== 0x46554747) throw new Error(`${path}: not GGUF`);
  u32();
  const nT = u64(), nKv = u64();
  const kv: GgufKv[] = [];
  const meta = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = u32() as GgufKv['type'];
    let value: GgufValue;
    if (type === GgufValueType.ARRAY) {
      const it = u32() as GgufKv['type'];
      const n = u64();
      if (ARR[it]) {
        const a = new ARR[it](n);
        for (let j = 0; j < n; j++) a[j] = it === 10 ? b.readBigUInt64LE(o + 8 * j) : it === 11 ? b.readBigInt64LE(o + 8 * j) : scalar(it);
        if (it === 10 || it === 11) o += 8 * n;
        value = { itemType: it, items: a };
      } else value = { itemType: it, items: Array.from({ length: n }, () => scalar(it)) };
    } else value = scalar(type);
    kv.push({ key, type, value });
    meta.set(key, value);
  }
  const tensors: MinTensor[] = [];
  for (let i = 0; i < nT; i++) {
    const name = str();
    const nd = u32();
    const shape = Array.from({ length: nd }, () => u64());
    tensors.push({ name, shape, type: u32(), offset: u64() });
  }
  const align = (meta.get('general.alignment') as number | undefined) ?? 32;
  return { kv, meta, tensors, dataOffset: Math.ceil(o / align) * align, buf: b };
}

export function tensorF32(g: MinGguf, name: string): Float32Array {
  const t = g.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  const n = t.shape.reduce((a, c) => a * c, 1);
  const start = g.dataOffset + t.offset;
  if (t.type === GgmlType.F32) return new Float32Array(g.buf.buffer.slice(g.buf.byteOffset + start, g.buf.byteOffset + start + 4 * n));
  return dequantize(t.type, new Uint8Array(g.buf.buffer, g.buf.byteOffset + start, g.buf.length - start), n);
}
