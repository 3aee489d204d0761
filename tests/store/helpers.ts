import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ParsedDataset, ParsedExample } from '../../main/datasets/types';
import { parseStudyConfig, StudyConfigError, type StudyConfig } from '../../main/config/study-schema';
import type { Store } from '../../main/store';

/** A fresh temp dir per test file; removed by the returned cleanup. */
export function tempDir(prefix = 'rw-store-'): { dir: string; file: (name?: string) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let n = 0;
  return {
    dir,
    file: (name) => path.join(dir, name ?? `db-${++n}.sqlite`),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export function words(text: string) {
  return [...text.matchAll(/\S+/g)].map((m) => ({ text: m[0], start: m.index!, end: m.index! + m[0].length }));
}

/** An example whose rationale marks the words listed in `marked` (by index). */
export function example(externalId: string, text: string, label: string, marked: number[] = [], language = 'en'): ParsedExample {
  const w = words(text);
  const mask = marked.length ? w.map((_, i) => (marked.includes(i) ? 1 : 0)) : null;
  return {
    externalId,
    text,
    language,
    labels: [label],
    words: w,
    rationaleMask: mask,
    rationaleSpans: marked.map((i) => ({ start: w[i].start, end: w[i].end })),
  };
}

export function dataset(name: string, examples: ParsedExample[], language: string | null = 'en'): ParsedDataset {
  return {
    name,
    format: 'jsonl',
    sourcePath: `/data/${name}.jsonl`,
    sourceSha256: 'f'.repeat(64),
    language,
    labelSet: ['negative', 'positive'],
    examples,
  };
}

/** Every row of every table, in a stable order: to prove a failed operation changed nothing. */
export function snapshot(store: Store): Record<string, unknown[]> {
  const tables = store.db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .pluck()
    .all() as string[];
  return Object.fromEntries(tables.map((t) => [t, store.db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
}

/**
 * A validated study configuration, as the store takes it (its callers parse; the store does not): `raw`
 * parsed with parseStudyConfig, problems thrown. `name` defaults to "study" (the store sets it from
 * create's/update's name argument anyway).
 */
export function studyConfig(raw: Record<string, unknown>): StudyConfig {
  const r = parseStudyConfig({ name: 'study', ...raw });
  if (!r.ok) throw new StudyConfigError(r.errors);
  return r.config;
}

export const minimalConfig = (datasetId: number, modelId: number): StudyConfig =>
  studyConfig({
    task: { kind: 'sentiment' },
    dataset: { id: datasetId },
    models: [{ id: modelId }],
  });
