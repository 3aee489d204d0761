/**
 * npm run bench -- study --workers — the demo study shared over 1, 2 and 3 queue workers (issue 15): examples
 * per minute with each, against a local run of the same study measured in the same command, and the queue's
 * own time per job in milliseconds. A real redis-server (127.0.0.1, a free port, no persistence) and real
 * worker processes of the CLI; the owner runs in this process.
 *   npx tsx bench/study-parts/workers.ts [--examples N] [--only demo-sentiment-en] [--threads N]
 * Rates: local, from its first stored result to its last; on workers, once every worker has finished its first
 * job (workers' start-up and model loading left out; queue/owner.ts queueTimes). With more
 * workers than cores they share the cores, so on a 2-core machine 3 workers cannot beat 2: the figures say
 * how close the queue comes to the machine's bound, not what a lab's several machines give.
 * Queue time per job (queue/owner.ts queueTimes, from BullMQ's own timestamps): in the job but outside the
 * pipeline (parsing and validating it, encoding the result, the lock) plus the gap between one worker's
 * consecutive jobs (moving the last to completed, fetching the next). The owner's collection (polling every
 * 50 ms here) runs beside the workers and does not hold them up.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinDatasetId, demoModelDir, ensureDemoModel, runStudies } from '../../main/runner';
import { resolveStudies, type NamedStudy } from '../../main/studies/builtins';
import { openStore } from '../../main/store';
import { parseQueueUrl, queueExecutor } from '../../main/queue';
// the tests' redis-server starter (a free port, a temp dir, no persistence), so bench and tests start it alike
import { redisMissing, startRedis } from '../../tests/queue/redis';
import { startCli } from '../../tests/runner/cli-process';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const only = arg('only') ?? 'demo-sentiment-en';
const examples = Number(arg('examples') ?? 12);
const threads = Number(arg('threads') ?? 1);
const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

if (redisMissing()) process.exit(0);
await ensureDemoModel();
const [study0] = resolveStudies(only) as NamedStudy[];
const raw = study0.config as { limits?: Record<string, unknown> };
const study: NamedStudy = { ...study0, config: { ...raw, limits: { ...(raw.limits ?? {}), maxExamples: examples, threads } } };

const dir = mkdtempSync(join(tmpdir(), 'rw-bench-workers-'));
const fresh = join(dir, 'fresh.sqlite');
{
  const s = openStore(fresh);
  builtinDatasetId(s, (study.config as { dataset: { builtin: string } }).dataset.builtin);
  s.close();
}
const copy = (name: string) => {
  const f = join(dir, name);
  copyFileSync(fresh, f);
  return f;
};

/** Stored results' times: first and last (ms), and the queue's time per job (the owner's queueTimes). */
function resultSpan(file: string) {
  const s = openStore(file);
  try {
    const times = (s.db.prepare(`SELECT created_at FROM results ORDER BY created_at`).pluck().all() as string[]).map((t) => Date.parse(t));
    const run = s.runs.list()[0];
    const qt = (run?.timings.queueTimes ?? null) as { inJobMs: number; betweenJobsMs: number | null; steady: { jobs: number; ms: number } | null } | null;
    return { n: times.length, first: times[0], last: times[times.length - 1], qt };
  } finally {
    s.close();
  }
}

// local reference, same process, same study
const localDb = copy('local.sqlite');
{
  const s = openStore(localDb);
  try {
    await runStudies(s, [study], { log: () => {} });
  } finally {
    s.close();
  }
}
const local = resultSpan(localDb);
const localMsPerEx = (local.last - local.first) / (local.n - 1);

const redis = await startRedis();
const rows: { workers: number; perMin: number; msPerEx: number; qt: { inJobMs: number; betweenJobsMs: number | null; steady: { jobs: number; ms: number } | null } | null }[] = [];
try {
  for (const k of [1, 2, 3]) {
    const workers = Array.from({ length: k }, () => startCli(['worker', '--queue', redis.url, '--models-dir', demoModelDir()]));
    try {
      const t0 = Date.now();
      while (!workers.every((w) => /ready on/.test(w.stderr()))) {
        if (Date.now() - t0 > 180_000) throw new Error(`workers not ready: ${workers.map((w) => w.stderr()).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const db = copy(`workers-${k}.sqlite`);
      const s = openStore(db);
      try {
        await runStudies(s, [study], { log: () => {}, executor: queueExecutor({ address: parseQueueUrl(redis.url), pollMs: 50 }) });
      } finally {
        s.close();
      }
      const span = resultSpan(db);
      // the steady rate (queue/owner.ts queueTimes): once every worker has done its first job (and loaded the model)
      const st = span.qt?.steady;
      const msPerEx = st ? st.ms / st.jobs : (span.last - span.first) / (span.n - 1);
      rows.push({ workers: k, perMin: 60_000 / msPerEx, msPerEx, qt: span.qt });
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
    }
  }
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`bench:study --workers — study "${only}" on the demo model, ${examples} examples, ${threads} thread(s) per process, machine's cores shared by every process (repo ${repo})`);
console.log(`local run:   ${(60_000 / localMsPerEx).toFixed(1)} examples/min (${localMsPerEx.toFixed(0)} ms/example)`);
for (const r of rows) {
  console.log(`${r.workers} worker${r.workers === 1 ? ' ' : 's'}:   ${r.perMin.toFixed(1)} examples/min (${r.msPerEx.toFixed(0)} ms/example; ${(r.perMin / rows[0].perMin).toFixed(2)}x of 1 worker, ${((r.perMin * localMsPerEx) / 60_000).toFixed(2)}x of local)`);
}
for (const r of rows) {
  if (!r.qt) continue;
  const between = r.qt.betweenJobsMs ?? 0;
  console.log(`queue time per job, ${r.workers} worker${r.workers === 1 ? ' ' : 's'}: ${(r.qt.inJobMs + between).toFixed(1)} ms (in the job outside the pipeline ${r.qt.inJobMs.toFixed(1)} ms + between a worker's jobs ${between.toFixed(1)} ms; BullMQ's timestamps)`);
}
process.exit(0);
