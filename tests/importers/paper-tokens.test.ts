/**
 * Token text and offsets for the published study's runs (their files hold token ids only), decoded with the
 * real tokenizers node-llama-cpp ships (vocab-only GGUFs under native/vendor/llama.cpp/models, extracted by
 * native/scripts/llama-src.sh) and accepted only where proven against the example text.
 *
 * The Llama-2 check does not trust llama.cpp's decoder alone: each text token's slice of the example text is
 * compared with the token's piece read straight from the GGUF's tokenizer.ggml.tokens by the project's own
 * GGUF reader ("▁" = space; the first text token's leading space lies in the prompt, outside the text).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess } from '../fixtures/cli-in-process';
import { readGguf } from '../../main/gguf/reader';
import { isGgufArray } from '../../main/gguf/types';
import {
  decodePaperRunTokens,
  importPaperRunWithTokens,
  readPaperFile,
  resolveTokenizerArg,
  PAPER_VOCAB_DIR,
  type PaperRecord,
} from '../../main/importers/paper';
import { openStore, type Store, type TokenInfo } from '../../main/store';
import { studyConfig } from '../store/helpers';

const SST = resolve(__dirname, '../../..', 'shared/data/paper-responses/sst');
const file = (model: string, seed = 28) =>
  join(SST, model, 'oracle', String(seed), `${model.startsWith('mixtral') ? 'mixtral_rationales_quant' : `${model.split('_')[0]}_rationales`}_seed_${seed}_sparsity_oracle.jsonl`);
const SPM = join(PAPER_VOCAB_DIR, 'ggml-vocab-llama-spm.gguf');

function newStore(): { store: Store; studyId: number; db: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rw-paper-tokens-'));
  const db = join(dir, 'w.sqlite');
  const store = openStore(db);
  const studyId = store.studies.create('paper sst', studyConfig({
    name: 'paper sst', task: { kind: 'sentiment' }, language: 'en', dataset: { builtin: 'sst' },
    models: [{ path: 'imported' }], seeds: [28], explanations: ['human', 'self', 'lrp-cp'], selfExplanation: { matching: 'paper' },
  }));
  return { store, studyId, db };
}

/** The stored results of a run with their example texts, by the file's 1-based line. */
function storedByLine(store: Store, runId: number): Map<number, { text: string; tokens: TokenInfo[] | null; raw: Record<string, unknown> }> {
  const run = store.runs.get(runId)!;
  const texts = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e.text]));
  return new Map(store.results.list(runId).map((r) => [r.rawOutputs.line as number, { text: texts.get(r.exampleId)!, tokens: r.tokens, raw: r.rawOutputs }]));
}

/** Checks shared by every decoded example: offsets tile the text exactly, and each slice is its token's text. */
function expectTilesText(text: string, tokens: TokenInfo[], where: string): TokenInfo[] {
  const textTokens = tokens.filter((t) => t.segment === 'text');
  expect(textTokens.length, where).toBeGreaterThan(0);
  let pos = 0;
  textTokens.forEach((t, k) => {
    expect(t.start, `${where} text token ${k}`).toBe(pos);
    expect(t.end, `${where} text token ${k}`).toBeGreaterThanOrEqual(t.start);
    const slice = text.slice(t.start, t.end);
    expect(k === 0 ? t.text.replace(/^ /, '') : t.text, `${where} text token ${k}`).toBe(slice);
    pos = t.end;
  });
  expect(pos, where).toBe(text.length);
  for (const t of tokens) if (t.segment !== 'text') expect([t.start, t.end], where).toEqual([-1, -1]);
  return textTokens;
}

describe('paper runs: token text from the real tokenizer', () => {
  let llamaRecords: PaperRecord[];
  beforeAll(() => {
    llamaRecords = readPaperFile(file('llama'));
  });

  it('Llama-2 seed 28: llama-spm is proven for all 215 examples with token ids; every text token slices to its GGUF piece', async () => {
    const { store, studyId } = newStore();
    try {
      const imp = await importPaperRunWithTokens(store, file('llama'), { studyId, rule: 'paper' });
      expect(imp.tokens).toMatchObject({ tokenizer: 'llama-spm', tokenizerPath: SPM, decoded: 215, withIds: 215 });
      expect(imp.tokens.notes).toEqual([`token text decoded with llama-spm (${SPM}): 215 of 215 examples with token ids`]);

      const gguf = readGguf(SPM, { checkTensorData: false });
      const pieces = gguf.metadata.get('tokenizer.ggml.tokens');
      if (!isGgufArray(pieces)) throw new Error('no token list');
      const vocab = pieces.items as string[];

      const stored = storedByLine(store, imp.runId);
      expect(stored.size).toBe(263);
      let decoded = 0;
      let textTokenCount = 0;
      for (const r of llamaRecords) {
        const s = stored.get(r.line + 1)!;
        expect(s.text).toBe(r.text);
        if (!r.perturbation) {
          expect(s.tokens).toBeNull();
          continue;
        }
        const where = `line ${r.line + 1}`;
        const tokens = s.tokens!;
        expect(tokens.map((t) => t.id), where).toEqual(r.perturbation.tokenIds);
        expect(tokens.map((t) => (t.segment === 'text' ? 1 : 0)), where).toEqual(r.perturbation.contextMask);
        expect(s.raw.tokenizer, where).toBe('llama-spm');
        expect(s.raw.tokenNote, where).toBeUndefined();
        const textTokens = expectTilesText(r.text, tokens, where);
        // the piece as the GGUF stores it: "▁" is a space; the first text token's space is the prompt's
        textTokens.forEach((t, k) => {
          const piece = vocab[t.id].replace(/▁/g, ' ');
          expect(/^<0x[0-9A-F]{2}>$/.test(vocab[t.id]), `${where} byte token`).toBe(false);
          expect(k === 0 ? piece.replace(/^ /, '') : piece, `${where} text token ${k} (id ${t.id})`).toBe(r.text.slice(t.start, t.end));
          expect(t.text, `${where} text token ${k}`).toBe(piece);
        });
        // every prompt token has its text: the decoded prompt is Llama-2's chat prompt around the example text
        const prompt = tokens.map((t) => t.text).join('');
        expect(prompt.startsWith('<s> [INST] Consider the following movie review: '), where).toBe(true);
        expect(prompt.includes(`movie review: ${r.text} \nChoose one of the following options`), where).toBe(true);
        expect(tokens.slice(1).every((t) => t.text.length > 0), where).toBe(true);
        decoded++;
        textTokenCount += textTokens.length;
      }
      expect(decoded).toBe(215);
      // line 1 as a hand-checked sample: "Beautifully" = ▁Beautiful + ly
      const first = stored.get(1)!.tokens!.filter((t) => t.segment === 'text').slice(0, 3);
      expect(first.map((t) => [t.id, t.text, t.start, t.end])).toEqual([
        [25685, ' Beautiful', 0, 9],
        [368, 'ly', 9, 11],
        [25554, ' craft', 11, 17],
      ]);
      expect(textTokenCount).toBeGreaterThan(215 * 10);
    } finally {
      store.close();
    }
  });

  it('Mistral-7B-v0.3 seed 28: no bundled tokenizer matches (ids in Llama 2 range, other pieces): ids only, with the note', async () => {
    const records = readPaperFile(file('mistral'));
    // the ids fit Llama 2's 32000-token vocabulary, so only the decoding proof can tell them apart
    expect(Math.max(...records.flatMap((r) => r.perturbation?.tokenIds ?? []))).toBeLessThan(32000);
    const { store, studyId } = newStore();
    try {
      const imp = await importPaperRunWithTokens(store, file('mistral'), { studyId, rule: 'paper' });
      expect(imp.tokens).toMatchObject({ tokenizer: null, tokenizerPath: null, decoded: 0, withIds: 259 });
      expect(imp.tokens.notes).toHaveLength(1);
      const note = imp.tokens.notes[0];
      expect(note).toMatch(/^token text not decoded: no matching tokenizer for mistral \(llama-spm: no match, line 1: re-tokenizing does not reproduce the stored ids/);
      expect(note).toMatch(/; llama-bpe: no match, line 1: /);
      let withTokens = 0;
      for (const s of storedByLine(store, imp.runId).values()) {
        if (!s.tokens) continue;
        withTokens++;
        expect(s.tokens.every((t) => t.text === '' && t.start === -1 && t.end === -1)).toBe(true);
        expect(s.raw.tokenNote).toBe(note);
        expect(s.raw.tokenizer).toBeUndefined();
      }
      expect(withTokens).toBe(259);
    } finally {
      store.close();
    }
  });

  it('Llama-3.1-8B seed 28: llama-bpe is proven for all 257, including texts whose leading " ..." the decoder cleans up', async () => {
    const records = readPaperFile(file('llama3'));
    const d = await decodePaperRunTokens(records, { model: 'llama3' });
    expect(d.tokenizer?.name).toBe('llama-bpe');
    expect(d.tried.map((t) => t.name)).toEqual(['llama-bpe']);
    expect([d.byLine.size, d.failures.size, d.withIds]).toEqual([257, 0, 257]);
    for (const [line, tokens] of d.byLine) expectTilesText(records[line].text, tokens, `line ${line + 1}`);
    expect(d.notes).toEqual([`token text decoded with llama-bpe (${join(PAPER_VOCAB_DIR, 'ggml-vocab-llama-bpe.gguf')}): 257 of 257 examples with token ids`]);
    // line 2: byte-level BPE keeps the prompt's space in the first text token ("ĠBread" -> " Bread")
    const bread = d.byLine.get(1)!.filter((t) => t.segment === 'text');
    expect(records[1].text.startsWith('Bread, My Sweet')).toBe(true);
    expect(bread.slice(0, 2).map((t) => [t.text, t.start, t.end])).toEqual([[' Bread', 0, 5], [',', 5, 6]]);
    // line 23 starts with "...": the model saw " ..." (id 2564, not 1131 "..."), which llama.cpp decodes without the space
    expect(records[22].text.startsWith('... a plotline')).toBe(true);
    const dots = d.byLine.get(22)!.filter((t) => t.segment === 'text')[0];
    expect([dots.id, dots.text, dots.start, dots.end]).toEqual([2564, '...', 0, 3]);
  });

  it('the right tokenizer still refuses an example whose text is not what its ids encode: that one keeps ids, with its reason', async () => {
    // the first ten lines of the Llama-2 file, line 1's "crafted" changed to "created" (same word count)
    const dir = mkdtempSync(join(tmpdir(), 'rw-paper-tokens-'));
    const lines = readFileSync(file('llama'), 'utf8').split('\n').slice(0, 10);
    expect(lines[0]).toContain('Beautifully crafted, engaging');
    lines[0] = lines[0].replace('Beautifully crafted, engaging', 'Beautifully created, engaging');
    const edited = join(dir, 'edited.jsonl');
    writeFileSync(edited, `${lines.join('\n')}\n`);
    const withIds = readPaperFile(edited).filter((r) => r.perturbation).length;
    expect(withIds).toBeGreaterThanOrEqual(3);
    const { store, studyId } = newStore();
    try {
      const imp = await importPaperRunWithTokens(store, edited, { studyId, rule: 'paper', model: 'llama' });
      expect(imp.tokens).toMatchObject({ tokenizer: 'llama-spm', decoded: withIds - 1, withIds });
      expect(imp.tokens.notes[1]).toMatch(/^1 of \d+ examples keep ids only \(first: line 1: re-tokenizing does not reproduce the stored ids \(text gives id \d+ at text token 2, stored 25554/);
      const stored = storedByLine(store, imp.runId);
      const one = stored.get(1)!;
      expect(one.tokens!.every((t) => t.text === '' && t.start === -1)).toBe(true);
      expect(one.raw.tokenNote).toMatch(/^token text not decoded: llama-spm not proven here: re-tokenizing does not reproduce the stored ids/);
      for (const [line, s] of stored) if (line !== 1 && s.tokens) expectTilesText(s.text, s.tokens, `line ${line}`);
    } finally {
      store.close();
    }
  });

  it('an explicit tokenizer is still proven: llama-spm for Mixtral keeps ids; an id outside the vocabulary is refused before decoding', async () => {
    const mixtral = readPaperFile(file('mixtral_random'));
    const d = await decodePaperRunTokens(mixtral, { model: 'mixtral', tokenizer: resolveTokenizerArg('llama-spm') });
    expect(d.tokenizer).toBeNull();
    expect(d.byLine.size).toBe(0);
    expect(d.tried).toHaveLength(1);
    // the probe stops after 8 failures with nothing proven
    expect(d.tried[0]).toMatchObject({ name: 'llama-spm', path: SPM, proven: 0, attempted: 8 });
    expect(d.notes[0]).toMatch(/^token text not decoded: no matching tokenizer for mixtral \(llama-spm: no match, line 1: re-tokenizing does not reproduce the stored ids \(text gives id 25685 at text token 0, stored 26547/);

    // llama.cpp aborts the process on an out-of-range id: the vocabulary size is checked first
    const bad = llamaRecords.slice(0, 3).map((r) => (r.perturbation ? { ...r, perturbation: { ...r.perturbation, tokenIds: [...r.perturbation.tokenIds.slice(0, -1), 40000] } } : r));
    const out = await decodePaperRunTokens(bad, { model: 'llama', tokenizer: resolveTokenizerArg(SPM) });
    expect(out.tokenizer).toBeNull();
    expect(out.notes[0]).toBe('token text not decoded: no matching tokenizer for llama (llama-spm: no match, token id 40000 is outside its 32000-token vocabulary)');

    expect(() => resolveTokenizerArg('/nowhere/vocab.gguf')).toThrow(/--tokenizer \/nowhere\/vocab.gguf: no such GGUF file/);
  });

  it('CLI: a missing --tokenizer file is an error naming it, --tokenizer with jsonl is refused; --tokenizer none keeps ids', async () => {
    const { store, studyId, db } = newStore();
    store.close();
    const cli = (args: string[]) => cliInProcess(['--db', db, ...args]);
    const missing = await cli(['import-run', join(SST, 'llama/oracle/28'), '--format', 'paper', '--study', String(studyId), '--tokenizer', '/nowhere/vocab.gguf']);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/--tokenizer \/nowhere\/vocab.gguf: no such GGUF file/);
    const jsonl = await cli(['import-run', 'x.jsonl', '--format', 'jsonl', '--study', String(studyId), '--tokenizer', 'llama-spm']);
    expect(jsonl.code).not.toBe(0);
    expect(jsonl.err).toMatch(/--tokenizer applies to --format paper only/);
    const s = openStore(db);
    try {
      // nothing was stored by the refused imports
      expect(s.runs.list({ studyId })).toHaveLength(0);
      const none = await importPaperRunWithTokens(s, file('llama'), { studyId, rule: 'paper', tokenizer: 'none' });
      expect(none.tokens).toEqual({ tokenizer: null, tokenizerPath: null, decoded: 0, withIds: 215, notes: ['token text not decoded: --tokenizer none'] });
      const rs = s.results.list(none.runId).filter((r) => r.tokens);
      expect(rs).toHaveLength(215);
      for (const r of rs) {
        expect(r.tokens!.every((t) => t.text === '' && t.start === -1)).toBe(true);
        expect(r.rawOutputs.tokenNote).toBe('token text not decoded: --tokenizer none');
      }
    } finally {
      s.close();
    }
  });
});
