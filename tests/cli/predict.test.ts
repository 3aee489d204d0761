import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/index';
import { RAFOLA_ORDER } from '../../main/protocol/indicators';
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
/** TEXT read once from token spans: a character that byte-fallback tokens share comes from the first span reaching it. */
function textOnce(spans: ReadonlyArray<{ start: number; end: number }>): string {
  let at = 0;
  let out = '';
  for (const t of spans) {
    if (t.end > at) out += TEXT.slice(Math.max(at, t.start), t.end);
    at = Math.max(at, t.end);
  }
  return out;
}

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
  // text tokens' offsets index the input: in order, without gaps, slicing it exactly; the only overlap is
  // one multi-byte character whose bytes several byte-fallback tokens hold (they share its span, offsets.ts)
  const text = out.tokens.filter((t) => t.segment === 'text');
  expect(text[0].start).toBe(0);
  expect(text[text.length - 1].end).toBe(TEXT.length);
  for (let i = 1; i < text.length; i++) {
    expect(text[i].start).toBeLessThanOrEqual(text[i - 1].end);
    const shared = [...TEXT.slice(text[i].start, text[i - 1].end)];
    expect(shared.length).toBeLessThanOrEqual(1);
    if (shared.length) expect(Buffer.byteLength(shared[0])).toBeGreaterThan(1);
  }
  expect(textOnce(text)).toBe(TEXT);
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
    // under --json the one error line is JSON (main/cli/index.ts)
    expect(JSON.parse(lines[0])).toEqual({ error: { code: 'failed', message: expect.stringContaining('no-such-model.gguf') } });
  });

  it('a model without a chat template: the error names --template, and --template makes it run', async () => {
    const stories = path.resolve(REPO, '../shared/models/stories260K.gguf');
    const r = await cliInProcess(['predict', '--model', stories, '--text', 'fine', '--mode', 'scoring', '--json', '--threads', '1']);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stderr.trim()).error.message).toMatch(/has no chat template \(tokenizer\.chat_template\); give one \(command line: --template FILE/);
    const template = path.join(tmp, 'plain.jinja');
    writeFileSync(template, "{% for m in messages %}{{ m['content'] }}\n{% endfor %}");
    const ok = await cliInProcess(['predict', '--model', stories, '--text', 'fine', '--mode', 'scoring', '--json', '--threads', '1', '--template', template]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(['positive', 'negative']).toContain((JSON.parse(ok.stdout) as PredictJson).label);
  });

  it('a file that is not a GGUF: exit code != 0 and one error line', async () => {
    const r = await cliInProcess(['predict', '--model', path.join(REPO, 'package.json'), '--text', 'fine', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({ error: { code: 'failed', message: expect.any(String) } });
  });
});

describe('predict --study: the study\'s task, labels and prompt templates', () => {
  /** A study file in the temp dir (relative paths in it are relative to it). */
  const writeStudy = (name: string, config: object) => {
    const file = path.join(tmp, `${name}.json`);
    writeFileSync(file, JSON.stringify(config));
    return file;
  };
  /** The text tokens of a prompt slice TEXT exactly, in one contiguous run. */
  const checkText = (out: PredictJson) => {
    const idx = out.tokens.flatMap((t, i) => (t.segment === 'text' ? [i] : []));
    expect(idx[idx.length - 1] - idx[0] + 1).toBe(idx.length);
    expect(textOnce(out.tokens.filter((t) => t.segment === 'text'))).toBe(TEXT);
  };
  // Llama 2 chat template: "<s>[INST] " + content.strip() + " [/INST]", decoded with SentencePiece's space after <s>
  const llama2 = (content: string) => `<s> [INST] ${content} [/INST]`;

  it('forced-labour: {indicator} and {definition} filled from the study\'s definitions file, in turn 1 and turn 2', async () => {
    // a definitions file of our own, named relative to the study file (as run resolves it)
    // (in RaFoLa's order, as RaFoLa's own file: entries are mapped by name; the 5th is Excessive overtime)
    writeFileSync(path.join(tmp, 'defs.json'), JSON.stringify(RAFOLA_ORDER.map((label, i) => ({
      label, definition: i === 4 ? 'Hours far beyond the legal limit, imposed without a free choice.' : `Test definition ${i + 1}.`,
    }))));
    const file = writeStudy('fl-templates', {
      name: 'FL with templates',
      task: { kind: 'forced-labour', indicator: 11, definitions: 'defs.json' }, // ILO 11 = Excessive overtime
      dataset: { builtin: 'demo-news' },
      models: [{ path: MODEL, mode: 'constrained' }],
      prompts: {
        turn1: 'Indicator: {indicator}.\nDefinition: {definition}\nArticle: {text}\nIs "{indicator}" present? {options}\nAnswer:',
        turn2: 'List at most {k} parts that show "{indicator}" ({definition}) for the answer {label}. JSON: {"rationales": [...]}',
      },
    });
    // no --model: the study's one model (and its constrained mode) is used
    const r = await cliInProcess(['predict', '--study', file, '--text', TEXT, '--explain', '2', '--extractive', '--json', '--threads', '2', '--context', '1024']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as PredictJson & { prompt: string; study: { name: string; file: string }; selfExplanation: { prompt: string } };
    expect(out.study).toEqual({ name: 'fl-templates', file });
    expect(out.prompt).toBe(llama2(
      'Indicator: Excessive overtime.\nDefinition: Hours far beyond the legal limit, imposed without a free choice.\n' +
        `Article: ${TEXT}\nIs "Excessive overtime" present? (a) Yes, it contains evidence \n(b) No, it does not contain evidence\nAnswer:`,
    ));
    checkText(out);
    // the filled-in indicator is instruction text, like the words around it
    const instruction = out.tokens.filter((t) => t.segment === 'instruction').map((t) => t.text).join('');
    expect(instruction).toContain('Excessive overtime');
    // constrained: the answer is one of the study's labels, so turn 2 ran with the predicted option's word
    expect(['yes', 'no']).toContain(out.label);
    expect(Object.keys(out.optionProbs).sort()).toEqual(['no', 'yes']);
    expect(out.selfExplanation.prompt).toContain(
      `[INST] List at most 2 parts that show "Excessive overtime" (Hours far beyond the legal limit, imposed without a free choice.) for the answer ${out.label}. JSON: {"rationales": [...]} [/INST]`,
    );
  });

  it('claim: {claim} from --claim; the study\'s model by id from the database, its three labels', async () => {
    const db = path.join(tmp, 'claim.db');
    const reg = await cliInProcess(['--db', db, '--json', 'models', 'register', MODEL]);
    expect(reg.code).toBe(0);
    const modelId = (JSON.parse(reg.stdout) as { id: number }).id;
    const file = writeStudy('claim-templates', {
      name: 'claims', task: { kind: 'claim-verification' }, dataset: { id: 1 }, models: [{ id: modelId, mode: 'scoring' }],
      prompts: { turn1: 'Claim: {claim}\nEvidence: {text}\n{options}\nDoes the evidence bear on "{claim}"?' },
    });
    const r = await cliInProcess(['--db', db, 'predict', '--study', file, '--claim', 'Sea levels are rising.', '--text', TEXT, '--json', '--threads', '2', '--context', '1024']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as PredictJson & { prompt: string };
    expect(out.prompt).toBe(llama2(
      `Claim: Sea levels are rising.\nEvidence: ${TEXT}\n(a) The evidence supports the claim \n(b) The evidence refutes the claim \n(c) There is not enough information\nDoes the evidence bear on "Sea levels are rising."?`,
    ));
    checkText(out);
    expect(Object.keys(out.optionProbs).sort()).toEqual(['not-enough-info', 'refutes', 'supports']);
    // scoring (the study's mode): the label is the most probable option
    const best = Object.entries(out.optionProbs).sort((a, b) => (b[1] as number) - (a[1] as number))[0][0];
    expect(out.label).toBe(best);
  });

  it('a built-in study name: its prompt is the built-in wording, token for token the same as --task/--language', async () => {
    const a = await cliInProcess(['predict', '--study', 'demo-sentiment-en', '--model', MODEL, '--text', TEXT, '--mode', 'scoring', '--json', '--threads', '2', '--context', '1024']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const b = await cliInProcess(['predict', '--model', MODEL, '--task', 'sentiment', '--language', 'en', '--text', TEXT, '--mode', 'scoring', '--json', '--threads', '2', '--context', '1024']);
    expect(b.code).toBe(0);
    const outA = JSON.parse(a.stdout) as PredictJson & { prompt: string; study: { name: string } };
    const outB = JSON.parse(b.stdout) as PredictJson & { prompt: string; study: null };
    expect(outA.study.name).toBe('demo-sentiment-en');
    expect(outB.study).toBeNull();
    expect(outA.prompt).toBe(llama2(
      `Consider the following movie review: ${TEXT} \nChoose one of the following options and start your answer with the respective letter: \n(a) This review is overall rather positive \n(b) This review is overall rather negative \nAnswer:`,
    ));
    expect(outA.tokens).toEqual(outB.tokens);
    expect(outA.optionProbs).toEqual(outB.optionProbs);
  });

  it('usage errors (exit 2, one line): a group of studies, a claim study without --claim, a flag the study sets', async () => {
    const oneLine = (r: { code: number; stdout: string; stderr: string }) => {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      return lines[0];
    };
    expect(oneLine(await cliInProcess(['predict', '--study', 'demo', '--text', 'x']))).toBe(
      'error: --study demo names 4 studies (demo-forced-labour, demo-sentiment-da, demo-sentiment-en, demo-sentiment-it); give one of them',
    );
    const claim = writeStudy('claim-plain', { name: 'c', task: { kind: 'claim-verification' }, dataset: { id: 1 }, models: [{ path: MODEL }] });
    expect(oneLine(await cliInProcess(['predict', '--study', claim, '--text', 'x']))).toBe(
      'error: study claim-plain is a claim-verification study: give the claim with --claim TEXT (the evidence goes in --text)',
    );
    expect(oneLine(await cliInProcess(['predict', '--study', 'demo-sentiment-en', '--task', 'claim', '--text', 'x']))).toBe(
      'error: --task cannot be combined with --study: the study sets the task, its language and indicator',
    );
    expect(oneLine(await cliInProcess(['predict', '--study', 'paper-msst-en', '--text', 'x']))).toMatch(/^error: study paper-msst-en has 3 models \(.*\); choose one with --model FILE$/);
  });

  it('a study whose template uses a placeholder its task lacks: exit 1, naming the file, the field and the allowed list', async () => {
    const file = writeStudy('bad-placeholder', {
      name: 'bad', task: { kind: 'sentiment' }, dataset: { id: 1 }, models: [{ path: MODEL }], prompts: { turn1: 'About {claim}: {text} {options}' },
    });
    const r = await cliInProcess(['predict', '--study', file, '--text', 'x', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    // under --json the one error line is JSON (main/cli/index.ts)
    expect(r.stderr).toBe(
      `${JSON.stringify({ error: { code: 'failed', message: `${file}: invalid study configuration: prompts.turn1: placeholder {claim} is not available for task sentiment (only for claim-verification); allowed: {text} {options}` } })}\n`,
    );
  });
});
