import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/index';
import { generateModel } from '../../main/gguf/generate';

// The predict command through the real CLI entry, on a tiny generated llama model that carries the real
// Llama 2 (SentencePiece) vocabulary and the Llama 2 chat template.
const REPO = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const TEXT = "Un film così bello: l'amore è più forte, æ ø å 😀!";
const SEGMENTS = ['template', 'instruction', 'text', 'options', 'answer'];
const LABELS = ['negative', 'positive'];

const tmp = mkdtempSync(path.join(tmpdir(), 'rw-predict-'));
const MODEL = path.join(tmp, 'tiny-llama2.gguf');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await generateModel({ path: MODEL, seed: 5, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, vocab: 'llama-spm', chatTemplate: 'llama2', contextLength: 1024 });
});

/** The CLI in a child process (main/cli/index.ts through tsx), as `npm run cli` runs it. */
function cli(args: string[]) {
  const env = { ...process.env, HOME: path.join(tmp, 'home'), XDG_DATA_HOME: path.join(tmp, 'home/data') } as Record<string, string>;
  delete env.RW_DB;
  delete env.RW_DEBUG;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/index.ts', ...args], { cwd: REPO, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** The same entry point in this process (spawning costs seconds on the shared machine). */
async function cliInProcess(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

interface PredictJson {
  label: string;
  status: string;
  answerToken: { id: number; text: string } | null;
  answerProb: number | null;
  optionProbs: Record<string, number | null>;
  selfExplanation: null | { items: string[]; matched: { text: string; start: number; end: number }[]; unmatched: string[] };
  tokens: { id: number; text: string; start: number; end: number; segment: string }[];
}

/** What holds for every predict --json output on TEXT. */
function checkShape(out: PredictJson) {
  expect(Object.keys(out)).toEqual(expect.arrayContaining(['label', 'answerToken', 'answerProb', 'optionProbs', 'selfExplanation', 'tokens']));
  expect([...LABELS, 'invalid']).toContain(out.label);
  expect(Object.keys(out.optionProbs).sort()).toEqual(LABELS);
  for (const t of out.tokens) {
    expect(SEGMENTS).toContain(t.segment);
    expect(Number.isInteger(t.id) && Number.isInteger(t.start) && Number.isInteger(t.end)).toBe(true);
    expect(t.end).toBeGreaterThanOrEqual(t.start);
  }
  // the prompt has template, instruction, text and options tokens, in one contiguous run of text tokens
  const segs = new Set(out.tokens.map((t) => t.segment));
  for (const s of ['template', 'instruction', 'text', 'options']) expect(segs).toContain(s);
  const textIdx = out.tokens.flatMap((t, i) => (t.segment === 'text' ? [i] : []));
  expect(textIdx[textIdx.length - 1] - textIdx[0] + 1).toBe(textIdx.length);
  // text tokens' offsets index the input: in order, without gaps or overlaps, slicing it exactly
  const text = out.tokens.filter((t) => t.segment === 'text');
  expect(text[0].start).toBe(0);
  expect(text[text.length - 1].end).toBe(TEXT.length);
  for (let i = 1; i < text.length; i++) expect(text[i].start).toBe(text[i - 1].end);
  expect(text.map((t) => TEXT.slice(t.start, t.end)).join('')).toBe(TEXT);
  // the multi-byte characters land inside the text's tokens (none is lost to another segment)
  for (const ch of ['ì', 'è', 'ù', 'æ', 'ø', 'å', '😀', "'"]) expect(text.some((t) => TEXT.slice(t.start, t.end).includes(ch))).toBe(true);
  if (out.label !== 'invalid') {
    expect(out.answerToken).not.toBeNull();
    expect(out.answerProb).toBeGreaterThan(0);
    expect(out.answerProb).toBeLessThanOrEqual(1);
  }
}

describe('predict CLI', () => {
  it('prints the documented JSON (constrained mode, extractive self-explanation), through the real CLI process', () => {
    // extractive: items can only be spans of the text, which also keeps a random model's output short
    const r = cli(['predict', '--model', MODEL, '--task', 'sentiment', '--language', 'it', '--text', TEXT, '--mode', 'constrained', '--seed', '28', '--explain', '2', '--extractive', '--json', '--threads', '2', '--context', '1024']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]) as PredictJson;
    checkShape(out);
    // constrained: the grammar only admits "(a)" or "(b)", so the answer is always a class
    expect(LABELS).toContain(out.label);
    // the answer's own option probability is the answer token's probability (same distribution)
    expect(out.optionProbs[out.label]).toBeCloseTo(out.answerProb!, 10);
    const ex = out.selfExplanation!;
    expect(ex).not.toBeNull();
    expect(ex.items.length).toBeGreaterThan(0);
    expect(ex.items.length).toBeLessThanOrEqual(2);
    for (const m of ex.matched) expect(TEXT.slice(m.start, m.end)).toBe(m.text);
    // extractive items are spans of the input, so all of them align onto it
    expect(ex.unmatched).toEqual([]);
    expect(ex.matched).toHaveLength(ex.items.length);
  });

  it('scoring mode: the label is the option with the highest probability, and the answer token is its token', async () => {
    const r = await cliInProcess(['predict', '--model', MODEL, '--language', 'da', '--text', TEXT, '--mode', 'scoring', '--json', '--threads', '2', '--context', '1024']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as PredictJson;
    checkShape(out);
    expect(out.selfExplanation).toBeNull();
    const probs = LABELS.map((l) => out.optionProbs[l] as number);
    expect(out.label).toBe(LABELS[probs[0] >= probs[1] ? 0 : 1]);
    expect(out.answerProb).toBe(out.optionProbs[out.label]);
    // the two options' tokens are two of 32000: together far from all of the mass of a random model
    expect(probs[0] + probs[1]).toBeLessThan(1);
  });

  it('a model path that does not exist: exit code 1 and one error line naming it', async () => {
    const missing = path.join(tmp, 'no-such-model.gguf');
    const r = await cliInProcess(['predict', '--model', missing, '--text', 'fine', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toContain('no-such-model.gguf');
  });

  it('a file that is not a GGUF: exit code != 0 and one error line', async () => {
    const r = await cliInProcess(['predict', '--model', path.join(REPO, 'package.json'), '--text', 'fine', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
  });
});
