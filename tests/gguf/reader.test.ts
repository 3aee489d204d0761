// Reader: every metadata value type round-trips through the writer; alignment and offsets; clear errors
// for non-GGUF, bad version and truncated files; copying a real vocabulary keeps its keys exactly.
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateModelSync } from '../../main/gguf/generate';
import { readGguf, readTensorBytes } from '../../main/gguf/reader';
import { GgmlType } from '../../main/gguf/quant/types';
import { GgufValueType as V } from '../../main/gguf/types';
import { copiedVocab, realVocabPath } from '../../main/gguf/vocab';
import { kv, writeGguf } from '../../main/gguf/writer';
import { tempDir } from './helpers';

const tmp = tempDir('reader-');
afterAll(() => tmp.cleanup());

describe('writer -> reader round trip', () => {
  it('keeps every value type, nested arrays, alignment and tensor bytes', () => {
    const path = join(tmp.dir, 'types.gguf');
    const t1 = Uint8Array.from({ length: 18 * 2 }, (_, i) => i); // 2 Q4_0 blocks
    const t2 = new Uint8Array(new Float32Array([1.5, -2, 3, 4]).buffer);
    const entries = [
      kv.of('u8', V.UINT8, 255), kv.of('i8', V.INT8, -128), kv.of('u16', V.UINT16, 65535), kv.of('i16', V.INT16, -32768),
      kv.of('u32', V.UINT32, 4294967295), kv.of('i32', V.INT32, -2147483648), kv.of('f32', V.FLOAT32, 0.5),
      kv.of('f64', V.FLOAT64, Math.PI), kv.of('bool', V.BOOL, true), kv.of('str', V.STRING, 'æøå l\'amore 🙂'),
      kv.of('u64', V.UINT64, 2n ** 63n + 5n), kv.of('i64', V.INT64, -7), kv.of('u64small', V.UINT64, 12345),
      kv.arr('arr.f32', { itemType: V.FLOAT32, items: new Float32Array([1, 2.5]) }),
      kv.arr('arr.str', { itemType: V.STRING, items: ['a', '', 'ü'] }),
      kv.arr('arr.bool', { itemType: V.BOOL, items: [true, false] }),
      kv.arr('arr.i64', { itemType: V.INT64, items: new BigInt64Array([-1n, 2n]) }),
      kv.arr('arr.nested', { itemType: V.ARRAY, items: [{ itemType: V.INT32, items: new Int32Array([7, 8]) }, { itemType: V.STRING, items: ['x'] }] }),
    ];
    writeGguf(path, {
      kv: entries,
      alignment: 64,
      tensors: [
        { name: 'q', shape: [32, 2], type: GgmlType.Q4_0, data: t1 },
        { name: 'f', shape: [4], type: GgmlType.F32, data: () => t2 },
      ],
    });
    const f = readGguf(path);
    const m = f.metadata;
    expect(f.version).toBe(3);
    expect(f.alignment).toBe(64);
    expect(m.get('general.alignment')).toBe(64);
    expect([m.get('u8'), m.get('i8'), m.get('u16'), m.get('i16'), m.get('u32'), m.get('i32'), m.get('f32')]).toEqual([255, -128, 65535, -32768, 4294967295, -2147483648, 0.5]);
    expect(m.get('f64')).toBe(Math.PI);
    expect(m.get('bool')).toBe(true);
    expect(m.get('str')).toBe('æøå l\'amore 🙂');
    expect(m.get('u64')).toBe(2n ** 63n + 5n); // not representable as a number: stays bigint
    expect(m.get('i64')).toBe(-7);
    expect(m.get('u64small')).toBe(12345);
    expect(m.get('arr.f32')).toEqual({ itemType: V.FLOAT32, items: new Float32Array([1, 2.5]) });
    expect(m.get('arr.str')).toEqual({ itemType: V.STRING, items: ['a', '', 'ü'] });
    expect(m.get('arr.bool')).toEqual({ itemType: V.BOOL, items: [true, false] });
    expect(m.get('arr.i64')).toEqual({ itemType: V.INT64, items: new BigInt64Array([-1n, 2n]) });
    expect(m.get('arr.nested')).toEqual({ itemType: V.ARRAY, items: [{ itemType: V.INT32, items: new Int32Array([7, 8]) }, { itemType: V.STRING, items: ['x'] }] });
    expect(f.dataOffset % 64).toBe(0);
    expect(f.tensors.map((t) => [t.name, t.shape, t.type, t.offset, t.nBytes])).toEqual([
      ['q', [32, 2], GgmlType.Q4_0, 0, 36],
      ['f', [4], GgmlType.F32, 64, 16],
    ]);
    expect(Array.from(readTensorBytes(f, 'q'))).toEqual(Array.from(t1));
    expect(Array.from(readTensorBytes(f, 'f'))).toEqual(Array.from(t2));
  });

  it('refuses inconsistent tensors at write time', () => {
    const p = join(tmp.dir, 'bad.gguf');
    expect(() => writeGguf(p, { kv: [], tensors: [{ name: 'x', shape: [33], type: GgmlType.Q8_0, data: new Uint8Array(0) }] })).toThrow(/tensor "x".*multiple of Q8_0's block size 32/);
    expect(() => writeGguf(p, { kv: [], tensors: [{ name: 'x', shape: [4], type: GgmlType.F32, data: new Uint8Array(3) }] })).toThrow(/3 bytes given.*needs 16/);
  });
});

describe('reader errors name the file and the problem', () => {
  const model = generateModelSync({ path: join(tmp.dir, 'ok.gguf') });
  it('non-GGUF', () => {
    const p = join(tmp.dir, 'text.gguf');
    writeFileSync(p, 'hello world, not a model');
    expect(() => readGguf(p)).toThrow(`${p}: not a GGUF file (magic "hell", expected "GGUF")`);
    const empty = join(tmp.dir, 'empty.gguf');
    writeFileSync(empty, '');
    expect(() => readGguf(empty)).toThrow(`${empty}: not a GGUF file (only 0 bytes)`);
  });
  it('bad version', () => {
    const p = join(tmp.dir, 'v9.gguf');
    const b = readFileSync(model.path);
    b.writeUInt32LE(9, 4);
    writeFileSync(p, b);
    expect(() => readGguf(p)).toThrow(`${p}: unsupported GGUF version 9 (supported: 2, 3)`);
  });
  it('truncated tensor data and truncated header', () => {
    const p = join(tmp.dir, 'cut.gguf');
    writeFileSync(p, readFileSync(model.path));
    truncateSync(p, model.bytes - 100);
    expect(() => readGguf(p)).toThrow(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated file: tensor "blk\\.1\\.ffn_up\\.weight" needs bytes \\d+\\.\\.\\d+ but the file has ${model.bytes - 100}$`));
    truncateSync(p, 200);
    expect(() => readGguf(p)).toThrow(/cut\.gguf: truncated header: need \d+ bytes at offset \d+, file has 200/);
  });
  it('missing file', () => {
    expect(() => readGguf(join(tmp.dir, 'nope.gguf'))).toThrow(/nope\.gguf: cannot open/);
  });
});

describe('copied vocabularies', () => {
  for (const name of ['llama-bpe', 'llama-spm', 'qwen2'] as const) {
    it(`${name}: every tokenizer.* key is copied with its type and value`, () => {
      const src = readGguf(realVocabPath(name), { checkTensorData: false });
      const v = copiedVocab(name);
      const want = src.kv.filter((e) => e.key.startsWith('tokenizer.'));
      expect(v.kv).toEqual(want);
      expect(v.size).toBe({ 'llama-bpe': 128256, 'llama-spm': 32000, qwen2: 151936 }[name]);
    });
  }
});
