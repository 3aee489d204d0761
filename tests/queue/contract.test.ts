/**
 * The queue's boundaries without processes: the URL rule (credentials, TLS, the password never echoed), the
 * job schema (validated against the study schema, every problem named at once, a path-named model refused),
 * the result wire format (relevance bytes kept exactly), and the store's queue records (migration v8).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStudyConfig, studyConfigSchema } from '../../main/config/study-schema';
import { jobConfig, parseJob } from '../../main/queue/job';
import { queueTimes } from '../../main/queue/owner';
import { decodeReturn, encodeResult } from '../../main/queue/result';
import { displayQueueUrl, parseQueueUrl } from '../../main/queue/url';
import { countWorker, ensureQueueRun, queueStatus, sawWorker, setQueueNote } from '../../main/queue/status-repo';
import { openStore } from '../../main/store';

const SHA = 'ab'.repeat(32);

describe('queue URL', () => {
  it('takes credentials and TLS as Redis offers, and never echoes the password', () => {
    const a = parseQueueUrl('rediss://lab:s%40cret@redis.lab.example:6380/2');
    expect(a.connection).toMatchObject({ host: 'redis.lab.example', port: 6380, db: 2, username: 'lab', password: 's@cret', tls: { servername: 'redis.lab.example' } });
    expect(a.display).toBe('rediss://lab:***@redis.lab.example:6380/2');
    expect(parseQueueUrl('redis://127.0.0.1').connection).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(parseQueueUrl('redis://127.0.0.1').connection.tls).toBeUndefined();
    for (const bad of ['http://u:pw-1@h:1', 'redis://u:pw-1@h:1/x', 'not a url pw-1']) {
      let msg = '';
      try {
        parseQueueUrl(bad);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).not.toBe('');
      expect(msg).not.toContain('pw-1');
    }
    expect(displayQueueUrl('redis://:pw-1@h:1')).toBe('redis://:***@h:1');
  });
});

const parsed = parseStudyConfig({
  name: 'q', task: { kind: 'sentiment' }, language: 'en', dataset: { id: 1 },
  models: [{ path: '/home/owner/models/tiny.gguf', mode: 'scoring' }], seeds: [28],
  explanations: ['human', 'lrp-cp', 'random'], metrics: ['accuracy', 'prob-drop'], onlyCorrect: false,
});
if (!parsed.ok) throw new Error('test study does not validate');
const config = parsed.config;
const example = { id: 3, datasetId: 1, ordinal: 2, externalId: 's3', text: 'A fine film.', language: 'en', labels: ['positive'], words: [{ start: 0, end: 1, text: 'A' }], rationaleMask: null, rationaleSpans: [] };
const job = () => ({ v: 1, runId: 7, seed: 28, model: { sha256: SHA, name: 'tiny' }, template: '{{ x }}', threads: 2, config: jobConfig(config, config.models[0], SHA), example });

describe('example job', () => {
  it('carries the study configuration with its model named by hash only, and parses back to the same configuration', () => {
    const j = parseJob(JSON.parse(JSON.stringify(job())));
    expect(j.config.models).toEqual([{ path: `sha256:${SHA}`, mode: 'scoring', filler: '_' }]);
    // the worker computes with exactly what the owner sent: the study schema leaves a parsed configuration as it is
    expect(j.config).toEqual(jobConfig(config, config.models[0], SHA));
    expect(studyConfigSchema.parse(JSON.parse(JSON.stringify(j.config)))).toEqual(j.config);
    expect(j.example).toEqual(example);
  });

  it('is refused, every problem named, when it does not validate against the job and study schema', () => {
    const bad = { ...job(), runId: -1, config: { ...job().config, seeds: [], explanations: ['telepathy'] }, example: { ...example, text: 5 } };
    expect(() => parseJob(bad)).toThrow(/^job refused: .*runId: .*example\.text: .*config\.seeds: .*config\.explanations\.0/);
  });

  it('is refused with a reason when its configuration is too malformed for the study schema\'s own checks', () => {
    expect(() => parseJob({ ...job(), config: { name: '' } })).toThrow(/^job refused: .*config: /);
  });

  it('is refused when its model entry names a file (a worker opens only its own models, found by hash)', () => {
    const j = job();
    expect(() => parseJob({ ...j, config: { ...j.config, models: [{ path: '/etc/passwd', mode: 'scoring', filler: '_' }] } })).toThrow(/job refused: config\.models must be the one entry \{"path": "sha256:/);
  });
});

describe('result on the wire', () => {
  it('keeps relevance bytes and JSON fields exactly', () => {
    const values = Float32Array.from([0.1, -2.5e-8, 3.4028234663852886e38, -0]);
    const r = { rawOutputs: { turn1: '(a)', p: 0.1 + 0.2 }, label: 'positive', correct: true, answerProb: 1 / 3, relevance: [{ method: 'lrp-cp', values, explainedValue: Math.PI, meta: { target: 5 } }] };
    const wire = JSON.parse(JSON.stringify({ v: 1, result: encodeResult(r), worker: { id: 'w', host: 'h' }, ms: 1, timings: {} }));
    const back = decodeReturn(wire).result;
    expect(Buffer.from((back.relevance![0].values as Float32Array).buffer)).toEqual(Buffer.from(values.buffer));
    expect(back.answerProb).toBe(1 / 3);
    expect(back.rawOutputs).toEqual({ turn1: '(a)', p: 0.1 + 0.2 });
    expect(() => decodeReturn({ ...wire, result: { ...wire.result, label: 5 } })).toThrow(/a worker's result does not validate: result\.label/);
  });
});

describe('queue records in the store (migration v8)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-queue-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('keeps a run\'s job prefix across owners, its note, and per-worker shares; deleted with the run', () => {
    const store = openStore(join(dir, 'q.db'));
    try {
      const datasetId = store.datasets.insert({ name: 'd', format: 'jsonl', sourcePath: '/x', sourceSha256: 'c'.repeat(64), language: 'en', labelSet: ['positive'], examples: [] } as never);
      const modelId = store.models.register({ path: '/m.gguf', sha256: SHA, fileSize: 1 });
      const studyId = store.studies.create('s', config);
      const runId = store.runs.create({ studyId, modelId, datasetId, seed: 1, appVersion: 't', total: 2 });
      expect(ensureQueueRun(store, runId, 'redis://h:1', 'first', SHA).jobPrefix).toBe('first');
      expect(ensureQueueRun(store, runId, 'redis://h:1', 'second', SHA).jobPrefix).toBe('first');
      setQueueNote(store, runId, 'waiting: no live worker has model m');
      sawWorker(store, runId, { id: 'w2', host: 'b', hasModel: false });
      countWorker(store, runId, { id: 'w1', host: 'a' }, { done: 1, busyMs: 10 });
      countWorker(store, runId, { id: 'w1', host: 'a' }, { done: 1, busyMs: 5 });
      const st = queueStatus(store, runId)!;
      expect(st.run).toMatchObject({ runId, queue: 'redis://h:1', jobPrefix: 'first', modelSha256: SHA, note: 'waiting: no live worker has model m' });
      expect(st.workers.map(({ worker, hasModel, done, busyMs }) => ({ worker, hasModel, done, busyMs }))).toEqual([
        { worker: 'w1', hasModel: true, done: 2, busyMs: 15 },
        { worker: 'w2', hasModel: false, done: 0, busyMs: 0 },
      ]);
      store.runs.delete(runId);
      expect(queueStatus(store, runId)).toBeUndefined();
      expect(store.db.prepare(`SELECT count(*) AS n FROM queue_workers`).get()).toEqual({ n: 0 });
    } finally {
      store.close();
    }
  });
});

describe('queue time per job (BullMQ timestamps)', () => {
  it('is the time in a job outside the pipeline plus the gap between one worker\'s consecutive jobs', () => {
    const t = queueTimes([
      { worker: 'a', taken: 1000, finished: 1110, ms: 100 },
      { worker: 'b', taken: 1000, finished: 1206, ms: 200 },
      { worker: 'a', taken: 1130, finished: 1234, ms: 100 },
    ]);
    // in the job: 10, 6, 4 -> 20/3; between: worker a only, 1130 - 1110 = 20
    // steady: after both workers finished a first job (1206): a's second, 1234 - 1206 = 28 ms
    expect(t).toEqual({ jobs: 3, inJobMs: 20 / 3, betweenJobsMs: 20, steady: { jobs: 1, ms: 28 } });
  });
});
