/**
 * One example job: everything a worker needs to compute one (model, seed, example) exactly as a local run
 * would, and nothing that names a file on the worker: the study's configuration (its model entry says only
 * the model's hash; definitions travel as their text), the chat template, the example record, and the
 * model's SHA-256, by which the worker finds the model in its own --models-dir. A job is validated here,
 * against the study schema, before anything runs; a job that does not validate is refused.
 */
import { z } from 'zod';
import { studyConfigSchema, type StudyConfig } from '../config/study-schema';
import type { StoredExample } from '../store';

export const JOB_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in hex (64 characters 0-9a-f)');
const span = { start: z.int().min(0), end: z.int().min(0) };

const exampleSchema = z.strictObject({
  id: z.int().positive(),
  datasetId: z.int().positive(),
  ordinal: z.int().min(0),
  externalId: z.string(),
  text: z.string(),
  language: z.string(),
  labels: z.array(z.string()),
  words: z.array(z.strictObject({ ...span, text: z.string() })),
  rationaleMask: z.array(z.number()).nullable(),
  rationaleSpans: z.array(z.strictObject({ ...span, label: z.string().optional() })),
  annotators: z.array(z.strictObject({ annotator: z.string(), values: z.array(z.number()) })).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

export const exampleJobSchema = z.strictObject({
  v: z.literal(JOB_VERSION),
  /** The owner's run (job ids and results are the owner's business; the worker only echoes them). */
  runId: z.int().positive(),
  seed: z.int().min(0).max(2 ** 32 - 1),
  model: z.strictObject({ sha256, name: z.string().min(1).max(500) }),
  template: z.string().min(1),
  threads: z.int().min(1).max(1024),
  /** Validated on its own with the study schema (parseJob), so its problems are named with the envelope's. */
  config: z.unknown(),
  example: exampleSchema,
});

export type ExampleJob = Omit<z.output<typeof exampleJobSchema>, 'config' | 'example'> & { config: StudyConfig; example: StoredExample };

export class JobRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobRefusedError';
  }
}

/** The job, validated; JobRefusedError naming every field that is wrong (all at once). */
export function parseJob(data: unknown): ExampleJob {
  const r = exampleJobSchema.safeParse(data);
  const problems = r.success ? [] : r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(job)'}: ${i.message}`);
  const configIn = data !== null && typeof data === 'object' ? (data as { config?: unknown }).config : undefined;
  let config: StudyConfig | undefined;
  try {
    const c = studyConfigSchema.safeParse(configIn);
    if (c.success) config = c.data;
    else problems.push(...c.error.issues.map((i) => `config${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`));
  } catch (e) {
    // a configuration malformed enough to stop one of the schema's own checks
    problems.push(`config: not a study configuration (${e instanceof Error ? e.message : String(e)})`);
  }
  if (problems.length || !r.success || !config) {
    throw new JobRefusedError(`job refused: it does not validate against the job and study schema: ${problems.join('; ')}`);
  }
  const job = { ...r.data, config } as ExampleJob;
  // the model entry names the model by its hash only: a worker never opens a path sent to it
  const m = job.config.models;
  if (m.length !== 1 || m[0].path !== `sha256:${job.model.sha256}` || m[0].id !== undefined) {
    throw new JobRefusedError(`job refused: config.models must be the one entry {"path": "sha256:${job.model.sha256}"} of the job's model`);
  }
  return job;
}

/** The configuration a job carries: the study's, its models reduced to the job's model, named by hash. */
export function jobConfig(config: StudyConfig, m: StudyConfig['models'][number], modelSha256: string): StudyConfig {
  const { id: _id, path: _path, ...rest } = m;
  return { ...config, models: [{ ...rest, path: `sha256:${modelSha256}` }] };
}
