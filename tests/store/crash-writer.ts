/**
 * Child process for crash-safety.test.ts: writes one result per example, each in its own
 * transaction via store.results.put, and prints the example id AFTER the put returned (committed).
 * Skips examples already done, as a resuming runner does. Usage: crash-writer.ts <db> <runId>
 */
import { openStore, type ResultInput } from '../../main/store';

export const VECTOR_LENGTH = 512;
export const METHODS = ['lrp-cp', 'lrp-contrast', 'occlusion'] as const;

/** Deterministic content per example, so the parent can check every stored byte. */
export function resultFor(exampleId: number): ResultInput {
  return {
    rawOutputs: { turn1: `answer for ${exampleId}`, turn2: '{"rationales":["x"]}' },
    label: exampleId % 2 ? 'positive' : 'negative',
    correct: exampleId % 3 !== 0,
    answerProb: 0.5,
    tokens: Array.from({ length: 50 }, (_, i) => ({ id: i, text: `t${i}`, start: i, end: i + 1, segment: 'text' })),
    masks: { human: Array.from({ length: 50 }, (_, i) => (i + exampleId) % 2) },
    // exampleId + i/1024 is exact in float32 for ids below 2^13
    relevance: METHODS.map((method, j) => ({
      method,
      values: Float32Array.from({ length: VECTOR_LENGTH }, (_, i) => exampleId + j + i / 1024),
      explainedValue: exampleId,
    })),
  };
}

if (process.argv[1]?.endsWith('crash-writer.ts')) {
  const [file, runArg] = process.argv.slice(2);
  const store = openStore(file);
  const runId = Number(runArg);
  const run = store.runs.get(runId)!;
  const done = new Set(store.results.doneExampleIds(runId));
  for (const ex of store.datasets.examples(run.datasetId)) {
    if (done.has(ex.id)) continue;
    store.results.put(runId, ex.id, resultFor(ex.id));
    process.stdout.write(`${ex.id}\n`); // synchronous on a pipe (Linux)
  }
  store.close();
}
