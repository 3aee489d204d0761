import { appendFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { csvRecords, parseCsv } from '../../main/datasets/csv';
import { DatasetError, importFile, streamDataset, type ParsedExample } from '../../main/datasets/index';
import { writeStream } from '../../main/datasets/stream';
import { openTextSource, TEXT_CHUNK_BYTES, textChunks } from '../../main/datasets/source';
import { tempDir } from './helpers';

/** Rows whose texts hold quotes, commas, CRLFs and non-ASCII, so chunk boundaries fall everywhere. */
function bigCsv(rows: number): string {
  const out = ['id,text,label,rationale\r\n'];
  for (let i = 0; i < rows; i++) {
    const text = `Row ${i} says "très ""bon"", 好" and, then\r\nmore 😀 words ${'x'.repeat(i % 97)}`;
    out.push(`r${i},"${text.replace(/"/g, '""')}",${i % 3 === 0 ? 'neg' : 'pos'},${i % 2 ? '' : '"[""Row""]"'}\r\n`);
  }
  return out.join('');
}

describe('CSV records from pieces', () => {
  it('gives the same records whatever the pieces, including splits inside "" and CRLF', () => {
    const text = 'a,b\r\n"x, ""y""",\r\n\r\n"",z\r\n"multi\nline ""q""",w\n';
    const whole = parseCsv(text);
    for (let size = 1; size <= 7; size++) {
      const pieces: string[] = [];
      for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
      expect([...csvRecords(pieces)], `pieces of ${size}`).toEqual(whole);
    }
    for (let cut = 0; cut <= text.length; cut++) {
      expect([...csvRecords([text.slice(0, cut), text.slice(cut)])], `cut at ${cut}`).toEqual(whole);
    }
  });
});

describe('text datasets read in chunks', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('reads a multi-chunk CSV and JSONL exactly as a whole-file parse would, and streams it again for a writer', () => {
    const csv = bigCsv(18_000);
    expect(Buffer.byteLength(csv)).toBeGreaterThan(2 * TEXT_CHUNK_BYTES);
    const f = t.file('big.csv', csv);
    const whole = importFile(f, { format: 'csv', language: 'fr' });
    expect(whole.examples).toHaveLength(18_000);
    // Independent check against the in-memory parser on the whole text.
    const records = parseCsv(csv);
    expect(whole.examples.map((e) => e.text)).toEqual(records.slice(1).map((r) => r.fields[1]));
    expect(whole.examples[17_999].externalId).toBe('r17999');

    const s = streamDataset(f, { format: 'csv', language: 'fr' });
    expect(s).toMatchObject({ exampleCount: 18_000, labelSet: ['neg', 'pos'], language: 'fr', sourceSha256: whole.sourceSha256, sourcePath: whole.sourcePath, name: 'big' });
    // Twice: each iteration reads the file again.
    for (let pass = 0; pass < 2; pass++) expect([...s.examples]).toEqual(whole.examples);

    const jsonl = whole.examples.map((e) => JSON.stringify({ id: e.externalId, text: e.text, label: e.labels[0] })).join('\n');
    const j = t.file('big.jsonl', jsonl);
    const js = streamDataset(j, { format: 'jsonl', language: 'fr' });
    expect(js.exampleCount).toBe(18_000);
    expect([...js.examples].map((e) => e.text)).toEqual(whole.examples.map((e) => e.text));
  });

  it('refuses a bad row near the end before a writer sees any example (all or nothing)', () => {
    const f = t.file('late.csv', `${bigCsv(20_000)}r-last,,pos,\r\n`);
    expect(() => streamDataset(f, { format: 'csv', language: 'en' })).toThrow(/late\.csv: row \d+, field "text": is empty/);
    const dup = t.file('dup.jsonl', `${'{"id":"a","text":"x","label":"p"}\n'.repeat(1)}${'{"text":"y","label":"p"}\n'.repeat(60_000)}{"id":"a","text":"z","label":"p"}\n`);
    expect(() => streamDataset(dup, { format: 'jsonl' , language: 'en' })).toThrow('dup.jsonl: row 60002, field "id": duplicate id "a" (also on row 1)');
  });

  it('refuses a --language that is not a language code, as importFile does', () => {
    const f = t.file('lang.csv', 'text,label\nfine,p\n');
    expect(() => streamDataset(f, { format: 'csv', language: 'English' })).toThrow(`${f}: --language "English" is not a language code like en, da or it`);
  });

  it('ends the writer\'s pass with an error when the file changed after validation', () => {
    const f = t.file('moving.csv', 'text,label\nfine,p\n');
    const s = streamDataset(f, { format: 'csv', language: 'en' });
    appendFileSync(f, 'more,p\n');
    expect(() => [...s.examples]).toThrow(/moving\.csv: the file changed while it was being imported/);
  });

  it('finds a bad UTF-8 byte after a chunk boundary at its file offset, and accepts a character split by one', () => {
    const head = 'text,label\n' + 'a'.repeat(TEXT_CHUNK_BYTES - 12);
    // "é" (2 bytes) straddles the first chunk boundary: valid.
    const ok = t.file('split.csv', Buffer.concat([Buffer.from(head), Buffer.from('é,p\n')]));
    expect(Buffer.from(head).length).toBe(TEXT_CHUNK_BYTES - 1);
    expect(importFile(ok, { format: 'csv', language: 'fr' }).examples[0].text.endsWith('aé')).toBe(true);
    const bad = t.file('bad.csv', Buffer.concat([Buffer.from(head), Buffer.from('ok'), Buffer.from([0xe5]), Buffer.from(',p\n')]));
    expect(() => openTextSource(bad)).toThrow(`bad.csv: not valid UTF-8 (first bad byte at offset ${TEXT_CHUNK_BYTES + 1}); save the file as UTF-8`);
    // A lead byte at the very end of a chunk, with no continuation after it.
    const cut = t.file('cut.csv', Buffer.concat([Buffer.from(head), Buffer.from([0xc3]), Buffer.from(',p\n')]));
    expect(() => openTextSource(cut)).toThrow(`cut.csv: not valid UTF-8 (first bad byte at offset ${TEXT_CHUNK_BYTES - 1})`);
    const chunks = [...textChunks(openTextSource(ok))];
    expect(chunks.length).toBe(2);
    expect(chunks[0].endsWith('a')).toBe(true);
    expect(chunks[1].startsWith('é')).toBe(true);
    writeFileSync(ok, '');
    expect(() => openTextSource(ok)).toThrow(DatasetError);
  });

  it('hands a staged writer bounded batches and commits; a failure in the second pass aborts it', () => {
    const f = t.file('batches.csv', bigCsv(5_001));
    const log: string[] = [];
    const got: ParsedExample[] = [];
    const sink = {
      add: (b: readonly ParsedExample[]) => {
        log.push(`add ${b.length}`);
        got.push(...b);
      },
      commit: () => (log.push('commit'), 7),
      abort: () => void log.push('abort'),
    };
    expect(writeStream(streamDataset(f, { format: 'csv', language: 'fr' }), sink, 2000)).toBe(7);
    expect(log).toEqual(['add 2000', 'add 2000', 'add 1001', 'commit']);
    expect(got).toEqual(importFile(f, { format: 'csv', language: 'fr' }).examples);

    log.length = 0;
    const s = streamDataset(f, { format: 'csv', language: 'fr' });
    appendFileSync(f, 'r-new,fine,pos,\r\n');
    expect(() => writeStream(s, sink, 2000)).toThrow(/the file changed while it was being imported/);
    expect(log.at(-1)).toBe('abort');
    expect(log).not.toContain('commit');
  });
});

