import { describe, expect, it } from 'vitest';
import { ModelSession } from '../../main/models/session';
import { physicalCoreCount } from '../../main/models/session-threads';
import { storiesPath } from '../protocol/helpers';

const CPUINFO_2C4T = [0, 1, 2, 3].map((i) => `processor\t: ${i}\nphysical id\t: 0\ncore id\t\t: ${i % 2}\n`).join('\n');

describe('physicalCoreCount', () => {
  it('counts distinct (physical id, core id) pairs, not hyper-threads', () => {
    expect(physicalCoreCount(CPUINFO_2C4T)).toBe(2);
    const twoSockets = [0, 1, 2, 3].map((i) => `processor\t: ${i}\nphysical id\t: ${i >> 1}\ncore id\t\t: ${i % 2}\n`).join('\n');
    expect(physicalCoreCount(twoSockets)).toBe(4);
    expect(physicalCoreCount('processor\t: 0\n\nprocessor\t: 1\n')).toBe(2);
  });
});

describe('ModelSession', () => {
  it('loads once, reuses, releases when idle, and honours an abort signal', async () => {
    const s = new ModelSession({ gpu: false, threads: 2, contextSize: 256, idleReleaseMs: 200 });
    expect(s.threads).toBe(2);
    const first = await s.use(storiesPath, async (m) => {
      expect(m.context.contextSize).toBe(256);
      return m.model;
    });
    const second = await s.use(storiesPath, async (m) => m.model);
    expect(second).toBe(first);
    expect(s.loadedPath).toBe(storiesPath);
    await new Promise((r) => setTimeout(r, 500));
    expect(s.loadedPath).toBeNull();
    expect(first.disposed).toBe(true);

    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(s.use(storiesPath, async () => 1, { signal: ac.signal })).rejects.toThrow('stop');
    expect(s.loadedPath).toBeNull();
    await s.release();
  });

  it('serialises concurrent users of the one sequence', async () => {
    const s = new ModelSession({ gpu: false, threads: 1, contextSize: 128, idleReleaseMs: 0 });
    const order: string[] = [];
    await Promise.all([
      s.use(storiesPath, async () => { order.push('a1'); await new Promise((r) => setTimeout(r, 50)); order.push('a2'); }),
      s.use(storiesPath, async () => { order.push('b1'); order.push('b2'); }),
    ]);
    expect(order).toEqual(['a1', 'a2', 'b1', 'b2']);
    await s.release();
    expect(s.loadedPath).toBeNull();
  });
});
