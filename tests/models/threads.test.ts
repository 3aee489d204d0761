// One thread-count rule (models/session-threads.ts) for every command and the study schema: a whole
// number from 1 to twice the machine's CPUs, with the same message everywhere. `predict --threads 1000`
// used to start 1011 threads and hang; `--threads 0` was accepted by predict and refused by lrp.
import os from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStudyConfig } from '../../main/config/study-schema';
import { ModelSession } from '../../main/models/session';
import { maxThreads, threadsProblem } from '../../main/models/session-threads';
import { cliInProcess } from '../fixtures/cli-in-process';

const STORIES = resolve(__dirname, '../../../shared/models/stories260K.gguf');
const MAX = os.availableParallelism() * 2;
const range = `a whole number from 1 to ${MAX} (twice this machine's ${MAX / 2} CPUs)`;

describe('thread counts', () => {
  it('the rule: 1..2 x availableParallelism()', () => {
    expect(maxThreads()).toBe(MAX);
    expect(threadsProblem(1)).toBeNull();
    expect(threadsProblem(MAX)).toBeNull();
    expect(threadsProblem(0)).toBe(`must be ${range}, got 0`);
    expect(threadsProblem(MAX + 1)).toBe(`must be ${range}, got ${MAX + 1}`);
    expect(threadsProblem(1.5)).toBe(`must be ${range}, got 1.5`);
    expect(threadsProblem('2')).toBe(`must be ${range}, got "2"`);
  });

  it('the study schema: limits.threads above the machine is refused with the same message', () => {
    const base = { name: 's', task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment-en' }, models: [{ path: '/m.gguf', mode: 'scoring' }] };
    const r = parseStudyConfig({ ...base, limits: { threads: 1000 } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toEqual([{ path: 'limits.threads', message: `must be ${range}, got 1000` }]);
    const fine = parseStudyConfig({ ...base, limits: { threads: MAX } });
    expect(fine.ok && fine.config.limits.threads).toBe(MAX);
  });

  it('predict, lrp and run refuse 0 and 1000 alike (exit 2), before any model loads', async () => {
    const commands = [
      ['predict', '--model', STORIES, '--text', 'a fine film'],
      ['lrp', '--model', STORIES, '--tokens', '1,2,3'],
      ['run', 'demo-sentiment-en'],
    ];
    for (const args of commands) {
      for (const n of ['0', '1000']) {
        const r = await cliInProcess([...args, '--threads', n]);
        expect({ args: args[0], n, code: r.code, err: r.err.trim() }).toEqual({ args: args[0], n, code: 2, err: `error: --threads must be ${range}, got ${n}` });
      }
    }
  });

  it('the model session refuses a count out of range', () => {
    expect(() => new ModelSession({ gpu: false, threads: 1000, contextSize: 64, idleReleaseMs: 0 })).toThrow(`threads must be ${range}, got 1000`);
  });
});
