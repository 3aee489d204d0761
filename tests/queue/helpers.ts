/** The queue tests' study: the runner tests' tiny generated study (tests/runner/tiny-study.ts), a local reference run, CLI processes. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCli, type CliProcess } from '../runner/cli-process';
import { runCli, setup } from '../runner/tiny-study';

export interface QueueFixture {
  dir: string;
  /** The runner tests' tiny study (LRP, random, prob-drop with its masked readouts) on its first 3 examples. */
  study: string;
  /** The same without faithfulness (cheaper: the fault tests), its first 6 examples. */
  quick: string;
  /** The workers' --models-dir: the study's model alone. */
  modelsDir: string;
  /** A database with the study's dataset and nothing run yet (copy it for each owner). */
  freshDb: string;
}

export async function fixture(dir: string): Promise<QueueFixture> {
  const freshDb = join(dir, 'fresh.db');
  const base = JSON.parse(readFileSync(await setup(dir, freshDb), 'utf8')) as Record<string, unknown>;
  const study = join(dir, 'full.json');
  writeFileSync(study, JSON.stringify({ ...base, name: 'queue full', limits: { maxExamples: 3 } }));
  const quick = join(dir, 'quick.json');
  writeFileSync(quick, JSON.stringify({ ...base, name: 'queue quick', metrics: ['accuracy'], limits: { maxExamples: 6 } }));
  const modelsDir = join(dir, 'models');
  mkdirSync(modelsDir);
  // the same bytes under another name: workers match by hash, never by file name
  copyFileSync(join(dir, 'tiny.gguf'), join(modelsDir, 'renamed-on-this-worker.gguf'));
  return { dir, study, quick, modelsDir, freshDb };
}

export function dbCopy(f: QueueFixture, name: string): string {
  const db = join(f.dir, name);
  copyFileSync(f.freshDb, db);
  return db;
}

/** A local run of the study: the reference every queue run must equal bit for bit. */
export async function localRun(f: QueueFixture, study: string, name: string): Promise<string> {
  const db = dbCopy(f, name);
  const r = await runCli(['--db', db, 'run', study]);
  if (r.status !== 0) throw new Error(`local run failed (${r.status}): ${r.stderr}`);
  return db;
}

export function startWorker(url: string, modelsDir: string, env: Record<string, string> = {}): CliProcess {
  return startCli(['worker', '--queue', url, '--models-dir', modelsDir], { RW_QUEUE_LOCK_MS: '3000', RW_QUEUE_STALLED_MS: '1000', ...env });
}

export function startOwner(db: string, study: string, url: string, more: string[] = []): CliProcess {
  return startCli(['--db', db, 'run', study, '--queue', url, ...more]);
}

/**
 * Every stored field of every result of the file's runs (ids and timestamps aside: they are the file's own),
 * relevance vectors as their bytes, and the run's metrics: what must be identical between a local run and a
 * queue run of the same study.
 */
export function storedResults(db: string): { results: unknown[]; metrics: unknown[] } {
  const d = new Database(db, { readonly: true });
  try {
    const results = d
      .prepare(`SELECT e.external_id, r.raw_outputs, r.label, r.correct, r.answer_token, r.answer_prob, r.option_probs, r.self_explanation,
          r.alignment, r.tokens, r.masks, r.skipped_reason,
          (SELECT group_concat(method || ':' || hex(relevance) || ':' || coalesce(explained_value, 'null') || ':' || coalesce(meta, 'null'), ';')
             FROM (SELECT * FROM result_relevance rr WHERE rr.result_id = r.id ORDER BY rr.id)) AS relevance
        FROM results r JOIN examples e ON e.id = r.example_id ORDER BY r.run_id, e.ordinal`)
      .all();
    const metrics = d.prepare(`SELECT name, scope, value, ci_low, ci_high, n FROM metrics ORDER BY run_id, name, scope`).all();
    // the LRP call's wall time (relevance meta "ms") differs between any two runs, local or not: left out
    for (const r of results as { relevance: string | null }[]) if (r.relevance) r.relevance = r.relevance.replace(/"ms":[0-9.e+-]+,?/g, '');
    return { results, metrics };
  } finally {
    d.close();
  }
}

export function query<T>(db: string, sql: string, ...args: unknown[]): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all(...args) as T[];
  } finally {
    d.close();
  }
}

export async function stopAll(ps: CliProcess[]): Promise<void> {
  for (const p of ps) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(ps.map((p) => p.exited));
}
