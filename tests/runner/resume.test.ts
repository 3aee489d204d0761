/**
 * A running study is killed with SIGKILL (the real CLI in a child process, a tiny generated model run by
 * llama.cpp and the LRP engine), resumed with --resume, and must end with every example exactly once and
 * the same results as an uninterrupted run (scoring mode and seeded random baseline are deterministic).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cliEntry, repo, results, runCli, SENTENCES, setup, tsx, type Row } from './tiny-study';

describe('runner: SIGKILL and --resume', () => {
  it('resumes a killed run without redoing or duplicating examples, with the same results as an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-resume-'));
    const dbA = join(dir, 'a.sqlite');
    const dbB = join(dir, 'b.sqlite');
    const studyA = await setup(join(dir), dbA);
    const dirB = mkdtempSync(join(tmpdir(), 'rw-resume-b-'));
    const studyB = await setup(dirB, dbB);

    // reference: uninterrupted
    // one llama.cpp thread (both runs alike): on a shared machine two threads wait on each other (10x slower)
    const a = await runCli(['--db', dbA, '--json', 'run', studyA, '--threads', '1']);
    expect(a.stderr).not.toMatch(/error:/);
    expect(a.status).toBe(0);
    const ref = results(dbA);
    expect(ref).toHaveLength(SENTENCES.length);

    // killed after at least 2 examples are stored
    const child = spawn(tsx, [cliEntry, '--db', dbB, '--json', 'run', studyB, '--threads', '1'], { cwd: repo, stdio: 'ignore', detached: true });
    let stored = 0;
    const t0 = Date.now();
    while (stored < 2 && Date.now() - t0 < 120_000) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const d = new Database(dbB, { readonly: true });
        stored = (d.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n;
        d.close();
      } catch {
        /* the file is being created */
      }
    }
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = results(dbB);
    expect(partial.length).toBeGreaterThanOrEqual(2);
    expect(partial.length).toBeLessThan(SENTENCES.length);

    const b = await runCli(['--db', dbB, '--json', 'run', studyB, '--resume', '--threads', '1']);
    expect(b.status).toBe(0);
    const summary = JSON.parse(b.stdout);
    expect(summary.runs).toHaveLength(1);
    expect(summary.runs[0].resumed).toBe(partial.length);
    expect(summary.runs[0].processed).toBe(SENTENCES.length - partial.length);
    const after = results(dbB);
    expect(after).toHaveLength(SENTENCES.length);
    expect(new Set(after.map((r) => r.example_id)).size).toBe(SENTENCES.length);
    // the examples stored before the kill were not redone
    for (const p of partial) expect(after.find((r) => r.example_id === p.example_id)).toEqual(p);
    // same results as uninterrupted, bit for bit: labels, probabilities, every mask, the random baseline and
    // the LRP relevances (the engine's threaded sums have a fixed order: tests/lrp/determinism.test.ts)
    const strip = (r: Row) => ({ id: r.external_id, label: r.label, p: r.answer_prob, masks: r.masks });
    expect(after.map(strip)).toEqual(ref.map(strip));
    const vectors = (r: Row) =>
      Object.fromEntries(r.rel.split(';').map((x) => {
        const [m, hex] = x.split(':');
        const buf = Buffer.from(hex, 'hex');
        return [m, Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4))];
      }));
    after.forEach((r, i) => {
      const va = vectors(ref[i]);
      const vb = vectors(r);
      expect(Object.keys(vb).sort()).toEqual(['lrp-cp', 'random']);
      expect(vb.random).toEqual(va.random);
      expect(Math.max(...va['lrp-cp'].map(Math.abs))).toBeGreaterThan(0);
      expect(vb['lrp-cp']).toEqual(va['lrp-cp']);
    });
    const d = new Database(dbB, { readonly: true });
    const run = d.prepare('SELECT status, progress_done, progress_total FROM runs').all();
    const metrics = (d.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n;
    d.close();
    expect(run).toEqual([{ status: 'done', progress_done: SENTENCES.length, progress_total: SENTENCES.length }]);
    expect(metrics).toBeGreaterThan(0);
  });
});
