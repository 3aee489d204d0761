// Regression: the reader on the real trained model ../shared/models/stories260K.gguf (reported to crash it; the
// LRP tests had carried their own parser since). Header values are those stated in shared/models/SOURCES.md;
// the file must survive reader -> writer byte for byte (same sha256 as published), and every tensor's values
// must equal the float32s at the offsets computed here by hand from the header layout.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metaNumber, metaString, readGguf, readTensorBytes, readTensorF32 } from '../../main/gguf/reader';
import { GgmlType } from '../../main/gguf/quant/types';
import { GgufValueType as V, isGgufArray } from '../../main/gguf/types';
import { writeGguf } from '../../main/gguf/writer';
import { tempDir } from './helpers';

const stories = path.resolve(import.meta.dirname, '../../../shared/models/stories260K.gguf');
const SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';
const tmp = tempDir('reader-stories-');
afterAll(() => tmp.cleanup());

describe('reader on stories260K.gguf', () => {
  it('reads the header as SOURCES.md describes the model', () => {
    const f = readGguf(stories);
    expect(f.version).toBe(3);
    expect(f.alignment).toBe(32);
    expect(f.fileSize).toBe(1185376);
    expect(metaString(f, 'general.architecture')).toBe('llama');
    expect(metaNumber(f, 'llama.block_count')).toBe(5);
    expect(metaNumber(f, 'llama.embedding_length')).toBe(64);
    expect(metaNumber(f, 'llama.attention.head_count')).toBe(8);
    expect(metaNumber(f, 'llama.attention.head_count_kv')).toBe(4);
    expect(metaNumber(f, 'llama.feed_forward_length')).toBe(172);
    expect(f.metadata.has('tokenizer.chat_template')).toBe(false);
    // u32 "no token" sentinels read as the full unsigned value
    expect(metaNumber(f, 'tokenizer.ggml.padding_token_id')).toBe(4294967295);
    const tokens = f.metadata.get('tokenizer.ggml.tokens');
    const scores = f.metadata.get('tokenizer.ggml.scores');
    const types = f.metadata.get('tokenizer.ggml.token_type');
    if (!isGgufArray(tokens) || !isGgufArray(scores) || !isGgufArray(types)) throw new Error('tokenizer arrays missing');
    expect([tokens.itemType, scores.itemType, types.itemType]).toEqual([V.STRING, V.FLOAT32, V.INT32]);
    expect([tokens.items.length, scores.items.length, types.items.length]).toEqual([512, 512, 512]);
    expect((tokens.items as string[]).slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect(tokens.items[3]).toBe('<0x00>');
    // 3 global tensors + 9 per layer, all F32
    expect(f.tensors).toHaveLength(3 + 5 * 9);
    expect(f.tensors.every((t) => t.type === GgmlType.F32)).toBe(true);
    expect(f.tensors.find((t) => t.name === 'blk.4.ffn_down.weight')?.shape).toEqual([172, 64]);
    expect(f.tensors.find((t) => t.name === 'token_embd.weight')?.shape).toEqual([64, 512]);
  });

  it('lays tensors out back to back from an aligned data offset; values equal the raw float32s there', () => {
    const f = readGguf(stories);
    const raw = readFileSync(stories);
    expect(f.dataOffset % 32).toBe(0);
    let expectOffset = 0;
    for (const t of f.tensors) {
      expect(t.offset).toBe(expectOffset);
      expect(t.nBytes).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
      expectOffset += Math.ceil(t.nBytes / 32) * 32;
      const start = f.dataOffset + t.offset;
      const got = readTensorF32(f, t.name);
      expect(got.length).toBe(t.nBytes / 4);
      // compared as bytes: one equality per tensor instead of one expect per value
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(raw.subarray(start, start + t.nBytes))).toBe(true);
    }
    expect(f.dataOffset + expectOffset).toBe(f.fileSize);
  });

  it('reader -> writer reproduces the file byte for byte', () => {
    const f = readGguf(stories);
    const out = path.join(tmp.dir, 'copy.gguf');
    const w = writeGguf(out, {
      kv: f.kv,
      alignment: f.alignment,
      tensors: f.tensors.map((t) => ({ name: t.name, shape: t.shape, type: t.type, data: () => readTensorBytes(f, t.name) })),
    });
    expect(w.sha256).toBe(SHA256);
    expect(createHash('sha256').update(readFileSync(stories)).digest('hex')).toBe(SHA256);
  });
});
