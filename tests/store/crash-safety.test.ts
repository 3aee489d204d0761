import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { METHODS, VECTOR_LENGTH, resultFor } from './crash-writer';
import { dataset, example, minimalConfig, tempDir } from './helpers';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const repoRoot = path.resolve(__dirname, '../..');
const writer = path.join(__dirname, 'crash-writer.ts');
const N = 2000;

/** Runs the writer; with killAfter, SIGKILLs it as soon as that many ids were printed. */
function runWriter(file: string, runId: number, killAfter?: number): Promise<{ ids: number[]; signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, file, String(runId)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (killAfter !== undefined && !killed && out.split('\n').length - 1 >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    // 'close' waits for stdout to drain: ids the child printed before dying are all read.
    child.on('close', (code, signal) => resolve({ ids: out.split('\n').filter(Boolean).map(Number), signal, code, stderr }));
  });
}

function checkIntact(store: ReturnType<typeof openStore>, runId: number, exampleId: number) {
  const r = store.results.get(runId, exampleId);
  expect(r, `result for example ${exampleId}`).toBeDefined();
  const want = resultFor(exampleId);
  expect(r!.label).toBe(want.label);
  expect(r!.rawOutputs).toEqual(want.rawOutputs);
  expect(r!.tokens).toEqual(want.tokens);
  expect(r!.masks).toEqual(want.masks);
  expect(r!.relevance.map((x) => x.method)).toEqual([...METHODS]);
  r!.relevance.forEach((rel, j) => {
    expect(rel.values.length).toBe(VECTOR_LENGTH);
    expect(rel.values[0]).toBe(exampleId + j);
    expect(rel.values[VECTOR_LENGTH - 1]).toBe(exampleId + j + (VECTOR_LENGTH - 1) / 1024);
    expect(Buffer.from(rel.values.buffer).equals(Buffer.from((want.relevance![j].values as Float32Array).buffer))).toBe(true);
  });
}

describe('crash safety of per-example writes (real file, SIGKILL)', () => {
  it('a killed writer loses at most the example in flight; the resumed writer completes the run', async () => {
    const file = tmp.file('crash.sqlite');
    let runId: number;
    {
      const store = openStore(file);
      const exs = Array.from({ length: N }, (_, i) => example(`e${i}`, `text number ${i}`, 'positive', [0]));
      const d = store.datasets.insert(dataset('crash', exs));
      const m = store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
      const s = store.studies.create('s', minimalConfig(d, m));
      runId = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't', total: N });
      store.close();
    }

    const first = await runWriter(file, runId, 10);
    expect(first.stderr).toBe('');
    expect(first.signal).toBe('SIGKILL'); // killed, not finished
    expect(first.ids.length).toBeGreaterThanOrEqual(10);
    expect(first.ids.length).toBeLessThan(N);

    const store = openStore(file);
    expect(store.integrityCheck()).toBe('ok');
    const done = store.results.doneExampleIds(runId);
    // Every example whose commit was reported is there...
    expect(done).toEqual(expect.arrayContaining(first.ids));
    // ...plus at most the one in flight (committed, killed before it printed).
    expect(done.length - first.ids.length).toBeLessThanOrEqual(1);
    for (const id of done) checkIntact(store, runId, id);
    // Nothing partial: no result without all its vectors, no vector without its result.
    expect(store.db.prepare('SELECT count(*) FROM result_relevance').pluck().get()).toBe(done.length * METHODS.length);
    expect(store.runs.get(runId)!.progress.done).toBe(done.length);
    store.close();

    // Resume: the writer skips what is done and completes the rest.
    const second = await runWriter(file, runId);
    expect(second.code).toBe(0);
    expect(second.ids.length).toBe(N - done.length);
    expect(second.ids.some((id) => done.includes(id))).toBe(false);
    const after = openStore(file);
    expect(after.integrityCheck()).toBe('ok');
    expect(after.results.doneExampleIds(runId)).toHaveLength(N);
    expect(after.runs.get(runId)!.progress).toEqual({ done: N, total: N });
    for (const id of [done[0], second.ids[0], second.ids[second.ids.length - 1]]) checkIntact(after, runId, id);
    after.close();
  });
});
