/**
 * What workers and owners tell each other through Redis besides the jobs: each live worker's record (its
 * models by hash, the models studies want that it lacks, what it is doing), and the models owners want
 * now. Records expire by themselves: a worker that dies disappears within WORKER_TTL_MS.
 */
import type { Redis } from 'ioredis';

/** BullMQ's key prefix for the example queues (one queue per model hash: a worker listens to its models' queues only). */
export const BULL_PREFIX = 'rw';
export const queueNameFor = (sha256: string) => `m-${sha256}`;
const META = 'rw-meta';
export const WORKER_TTL_MS = 15_000;
export const WANTED_TTL_MS = 60_000;

export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  models: { sha256: string; name: string }[];
  /** Models owners want now that this worker does not have. */
  lacks: { sha256: string; name: string }[];
  /** The example in hand: its job id, since when. */
  busy: { jobId: string; since: string } | null;
  done: number;
}

export async function publishWorker(redis: Redis, w: WorkerRecord): Promise<void> {
  await redis.set(`${META}:worker:${w.id}`, JSON.stringify(w), 'PX', WORKER_TTL_MS);
}

export async function removeWorker(redis: Redis, id: string): Promise<void> {
  await redis.del(`${META}:worker:${id}`);
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** The live workers' records. */
export async function listWorkers(redis: Redis): Promise<WorkerRecord[]> {
  const keys = await scanKeys(redis, `${META}:worker:*`);
  if (!keys.length) return [];
  const values = await redis.mget(...keys);
  const out: WorkerRecord[] = [];
  for (const v of values) {
    if (!v) continue;
    try {
      out.push(JSON.parse(v) as WorkerRecord);
    } catch {
      // a record that does not parse is no worker of ours
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** An owner wants this model (refreshed while its runs wait for it). */
export async function wantModel(redis: Redis, sha256: string, name: string): Promise<void> {
  await redis.set(`${META}:wanted:${sha256}`, name, 'PX', WANTED_TTL_MS);
}

export async function wantedModels(redis: Redis): Promise<{ sha256: string; name: string }[]> {
  const keys = await scanKeys(redis, `${META}:wanted:*`);
  if (!keys.length) return [];
  const names = await redis.mget(...keys);
  return keys.map((k, i) => ({ sha256: k.slice(`${META}:wanted:`.length), name: names[i] ?? '?' })).filter((x) => /^[0-9a-f]{64}$/.test(x.sha256));
}
