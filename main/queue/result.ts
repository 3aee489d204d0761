/**
 * A computed example on the wire, worker → owner. JSON keeps every finite double exactly (shortest
 * round-trip form), and the store serialises the result's JSON fields itself, so those travel as they are;
 * relevance vectors travel as the float32 bytes the store keeps (base64), so a remote result is stored
 * bit for bit as the local run would store it. The owner validates what arrives before storing it.
 */
import { z } from 'zod';
import { decodeFloat32, encodeFloat32, type ResultInput } from '../store';

const relevanceWire = z.strictObject({
  method: z.string().min(1),
  /** float32 little-endian bytes, base64 */
  values: z.base64(),
  explainedValue: z.number().nullable().optional(),
  meta: z.record(z.string(), z.unknown()).nullable().optional(),
});

const resultWire = z.strictObject({
  rawOutputs: z.record(z.string(), z.unknown()),
  label: z.string().nullable(),
  correct: z.boolean().nullable().optional(),
  answerToken: z.string().nullable().optional(),
  answerProb: z.number().nullable().optional(),
  optionProbs: z.record(z.string(), z.number()).nullable().optional(),
  selfExplanation: z.array(z.unknown()).nullable().optional(),
  alignment: z.unknown().optional(),
  tokens: z.array(z.strictObject({ id: z.number(), text: z.string(), start: z.number(), end: z.number(), segment: z.string() })).nullable().optional(),
  masks: z.record(z.string(), z.array(z.number())).nullable().optional(),
  skippedReason: z.string().nullable().optional(),
  relevance: z.array(relevanceWire).optional(),
});

/** What a worker returns for a job. */
export const jobReturnSchema = z.strictObject({
  v: z.literal(1),
  result: resultWire,
  worker: z.strictObject({ id: z.string().min(1).max(300), host: z.string().max(300) }),
  /** Wall time of the example on the worker, and its phase times (runner/loop.ts PhaseTimings). */
  ms: z.number().min(0),
  /** Time spent opening the model for this job (its first on the worker, or a new configuration), else 0. */
  openMs: z.number().min(0).optional(),
  timings: z.record(z.string(), z.number()),
});
export type JobReturn = z.output<typeof jobReturnSchema>;

export function encodeResult(r: ResultInput): z.output<typeof resultWire> {
  const { relevance, ...rest } = r;
  // JSON.parse(JSON.stringify(...)): exactly what the store would keep of the JSON fields (undefined dropped)
  const plain = JSON.parse(JSON.stringify(rest)) as z.output<typeof resultWire>;
  if (relevance) {
    plain.relevance = relevance.map((x) => ({
      method: x.method,
      values: encodeFloat32(x.values).toString('base64'),
      ...(x.explainedValue !== undefined ? { explainedValue: x.explainedValue } : {}),
      ...(x.meta !== undefined ? { meta: x.meta === null ? null : (JSON.parse(JSON.stringify(x.meta)) as Record<string, unknown>) } : {}),
    }));
  }
  return plain;
}

/** The worker's answer, validated; throws naming the fields that are wrong. */
export function decodeReturn(data: unknown): { result: ResultInput; ret: JobReturn } {
  const r = jobReturnSchema.safeParse(data);
  if (!r.success) throw new Error(`a worker's result does not validate: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { relevance, ...rest } = r.data.result;
  const result: ResultInput = { ...(rest as ResultInput) };
  if (relevance) result.relevance = relevance.map((x) => ({ ...x, values: decodeFloat32(Buffer.from(x.values, 'base64')) }));
  return { result, ret: r.data };
}
