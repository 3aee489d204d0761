/**
 * A tiny generated study for the runner's process tests: 12 English sentences with rationales stored as a
 * dataset, a 2-layer synthetic-vocabulary llama GGUF (real llama.cpp + LRP engine), scoring mode.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { importFile } from '../../main/datasets/index';
import { generateModel } from '../../main/gguf/generate';
import { openStore } from '../../main/store';

export const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const tsx = join(repo, 'node_modules/.bin/tsx');
export const cliEntry = join(repo, 'main/cli/index.ts');

export const SENTENCES = [
  ['A warm, funny and charming film.', 'positive', ['warm,', 'funny', 'charming']],
  ['Dull, slow and far too long.', 'negative', ['Dull,', 'slow']],
  ['The acting is wonderful throughout.', 'positive', ['wonderful']],
  ['A boring plot with flat characters.', 'negative', ['boring', 'flat']],
  ['I loved every minute of it.', 'positive', ['loved']],
  ['The jokes fall flat and the story drags.', 'negative', ['flat', 'drags.']],
  ['A smart, moving and beautiful story.', 'positive', ['smart,', 'moving', 'beautiful']],
  ['Two hours I will never get back.', 'negative', ['never', 'back.']],
  ['Brilliant direction and a great cast.', 'positive', ['Brilliant', 'great']],
  ['A mess from start to finish.', 'negative', ['mess']],
  ['Sweet, clever and genuinely funny.', 'positive', ['Sweet,', 'clever', 'funny.']],
  ['Painfully predictable and lifeless.', 'negative', ['Painfully', 'lifeless.']],
] as const;

export async function setup(dir: string, db: string): Promise<string> {
  const data = join(dir, 'sst-mini.jsonl');
  writeFileSync(data, SENTENCES.map(([text, label, rationale], i) => JSON.stringify({ id: `s${i + 1}`, language: 'en', text, label, rationale })).join('\n') + '\n');
  const store = openStore(db);
  const datasetId = store.datasets.insert(importFile(data, { format: 'jsonl' }));
  store.close();
  const model = join(dir, 'tiny.gguf');
  await generateModel({ path: model, seed: 7, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic' });
  const study = join(dir, 'study.json');
  writeFileSync(study, JSON.stringify({
    name: 'resume test', task: { kind: 'sentiment' }, language: 'en', dataset: { id: datasetId },
    models: [{ path: model, mode: 'scoring' }], seeds: [28],
    explanations: ['human', 'lrp-cp', 'random'], metrics: ['accuracy', 'kappa', 'prob-drop'], onlyCorrect: false,
  }));
  return study;
}

/**
 * The tiny study of `setup` with `edit` merged into its configuration (other models, metrics, limits...), run
 * to the end through the real CLI into `db`; answers the CLI's output and the configuration run. Throws with the CLI's stderr when the run does not succeed.
 */
export async function runTinyStudy(dir: string, db: string, edit: Record<string, unknown>, o: { threads?: number } = {}): Promise<CliRun & { config: Record<string, unknown> }> {
  const file = await setup(dir, db);
  const config = JSON.parse(readFileSync(file, 'utf8'));
  Object.assign(config, edit);
  writeFileSync(file, JSON.stringify(config));
  const r = await runCli(['--db', db, '--json', 'run', file, '--threads', String(o.threads ?? 2)], { timeoutMs: 600_000 });
  if (r.status !== 0) throw new Error(`the study run failed (exit ${r.status}): ${r.stderr}`);
  return { ...r, config };
}

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI in a child process, awaited. Not spawnSync: a whole study run blocks the test worker's event loop
 * for its duration, and under load vitest's worker RPC then times out ("Timeout calling onTaskUpdate"),
 * failing the suite although every test passed.
 */
export function runCli(args: string[], opts: { timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [cliEntry, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

export interface Row { external_id: string; example_id: number; label: string; answer_prob: number; masks: string; rel: string }
export function results(db: string): Row[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(`SELECT e.external_id, r.example_id, r.label, r.answer_prob, r.masks,
        (SELECT group_concat(method || ':' || hex(relevance), ';') FROM result_relevance rr WHERE rr.result_id = r.id) AS rel
      FROM results r JOIN examples e ON e.id = r.example_id ORDER BY e.ordinal`).all() as Row[];
  } finally {
    d.close();
  }
}


/** Number of stored results (0 while the file is being created). */
export function storedCount(db: string): number {
  try {
    const d = new Database(db, { readonly: true });
    try {
      return (d.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n;
    } finally {
      d.close();
    }
  } catch {
    return 0;
  }
}
