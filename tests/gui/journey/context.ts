import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserModeSession } from '../harness';

/**
 * The analyst's journey (issue 12), told as one story in Chromium against browser mode: each chapter is
 * a module `NN-name.ts` in this folder exporting `title` and `run(j)`; tests/gui/journey.test.ts runs
 * them in order over one fresh data directory. A chapter reads what earlier chapters made from `j`
 * (ids, file names) and adds what later ones need. Each chapter also runs alone from its own feature
 * test, which sets those up through the API first.
 */
export interface Journey {
  s: BrowserModeSession;
  /** A folder for the files the analyst brings (her CSV, her GGUF). */
  dir: string;
  /** What the chapters made, for the ones after them. */
  datasetId?: number;
  /** The GGUF registered without a chat template, after the analyst chose one for it. */
  modelId?: number;
  /** A model whose runs fail (chapter "a failing model's run shows its reason"). */
  failingModelId?: number;
  studyId?: number;
  runIds?: number[];
}

/** Waits (up to `ms`) for the store to say `ok`; chapters check the screen after it. */
export async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Chapter {
  title: string;
  run(j: Journey): Promise<void>;
}

/**
 * The analyst's own forced-labour CSV: yes/no labels (not indicator names: the import form maps them),
 * rationale word lists written as people write them (with attached punctuation: "months," and "passport."),
 * Danish and English texts, and one text far longer than a small model's context.
 */
export function analystCsv(dir: string): string {
  const long = Array.from({ length: 400 }, (_, i) => `Week ${i + 1}: the workers stayed at the site and were not paid.`).join(' ');
  const rows = [
    ['id', 'text', 'label', 'language', 'rationale'],
    ['a1', 'The workers had not been paid for months, the report says.', 'yes', 'en', 'paid;months,'],
    ['a2', 'The employer kept her passport. She could not leave.', 'yes', 'en', 'kept;passport.'],
    ['a3', 'The factory opened a new canteen for its staff.', 'no', 'en', ''],
    ['a4', 'Arbejderne fik ikke løn i flere måneder.', 'yes', 'da', 'løn;måneder.'],
    ['a5', 'Medarbejderne holdt sommerfest i haven.', 'no', 'da', ''],
    ['a6', long, 'yes', 'en', 'paid.'],
  ];
  const q = (v: string) => (/[",;\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const file = join(dir, 'analyst-reports.csv');
  writeFileSync(file, rows.map((r) => r.map(q).join(',')).join('\n') + '\n');
  return file;
}
