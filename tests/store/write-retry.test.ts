/**
 * Every write of every repository waits out another process's write lock held longer than the connection's
 * busy_timeout (retry with backoff, main/store/write.ts), instead of failing with "database is locked".
 * The lock is held by a real second process (lock-holder.ts); busy_timeout is shortened to 100 ms so a lock
 * of 700 ms outlasts it as a long import outlasts the default 5 s.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../main/store';
import { dataset, example, minimalConfig, tempDir } from './helpers';

const tmp = tempDir('rw-retry-');
const repoRoot = path.resolve(__dirname, '../..');
const file = tmp.file('retry.sqlite');
let holder: ChildProcessWithoutNullStreams;
let lines: string[] = [];
let store: Store;

async function waitLine(text: string) {
  const t0 = Date.now();
  while (!lines.includes(text)) {
    if (Date.now() - t0 > 30_000) throw new Error(`lock holder did not print ${text}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  lines.splice(lines.indexOf(text), 1);
}

/** Has the other process take the write lock for `ms`, then runs `write` while it is held. */
async function underLock<T>(ms: number, write: () => T): Promise<{ value: T; waitedMs: number }> {
  holder.stdin.write(`${ms}\n`);
  await waitLine('locked');
  const t0 = Date.now();
  const value = write();
  const waitedMs = Date.now() - t0;
  await waitLine('released');
  return { value, waitedMs };
}

beforeAll(async () => {
  openStore(file).close(); // schema first, so the holder locks a migrated file
  holder = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'lock-holder.ts'), file], { cwd: repoRoot });
  let buf = '';
  holder.stdout.on('data', (c) => {
    buf += c;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  store = openStore(file, { busyTimeoutMs: 100 });
});
afterAll(() => {
  store?.close();
  holder?.kill();
  tmp.cleanup();
});

describe('writes retry while another process holds the lock past busy_timeout', () => {
  it('each repository write succeeds after the lock is released', async () => {
    const LOCK = 700;
    const d = (await underLock(LOCK, () => store.datasets.insert(dataset('d', [example('1', 'a good film', 'positive', [1])])))).value;
    const m = (await underLock(LOCK, () => store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 }))).value;
    const s = (await underLock(LOCK, () => store.studies.create('s', minimalConfig(d, m)))).value;
    const s2 = (await underLock(LOCK, () => store.studies.update(s, { ...minimalConfig(d, m), seeds: [1] }))).value;
    const r = (await underLock(LOCK, () => store.runs.create({ studyId: s2, modelId: m, datasetId: d, seed: 1, appVersion: 't', total: 1 }))).value;
    const writes: [string, () => unknown][] = [
      ['runs.setStatus', () => store.runs.setStatus(r, 'paused')],
      ['runs.claim', () => store.runs.claim(r)],
      ['runs.setProgress', () => store.runs.setProgress(r, 0, 1)],
      ['results.put', () => store.results.put(r, store.datasets.examples(d)[0].id, { rawOutputs: {}, label: 'positive' })],
      ['metrics.replace', () => store.metrics.replace(r, [{ scope: {}, name: 'accuracy', value: 1 }])],
      ['runs.finish', () => store.runs.finish(r, { status: 'done' })],
    ];
    for (const [name, write] of writes) {
      const { waitedMs } = await underLock(LOCK, write);
      // it waited (more than busy_timeout) instead of failing
      expect(waitedMs, name).toBeGreaterThan(300);
    }
    expect(store.runs.get(r)).toMatchObject({ status: 'done', progress: { done: 1, total: 1 } });
    expect(store.metrics.list(r)).toHaveLength(1);
    const d2 = store.datasets.insert(dataset('d2', [example('1', 'x', 'negative')]));
    expect((await underLock(LOCK, () => store.datasets.delete(d2))).value).toBe(true);
    expect(store.datasets.get(d2)).toBeUndefined();
  });

  it('gives up after the retry deadline with a message saying the database stayed locked', async () => {
    const impatient = openStore(file, { busyTimeoutMs: 50, writeRetry: { deadlineMs: 200 } });
    try {
      holder.stdin.write('1500\n');
      await waitLine('locked');
      expect(() => impatient.models.register({ path: '/n.gguf', sha256: 'b'.repeat(64), fileSize: 1 })).toThrow(
        /model register: the database stayed locked by another process for \d+\.\d s \(\d+ tries\): database is locked/,
      );
      await waitLine('released');
    } finally {
      impatient.close();
    }
  });
});
