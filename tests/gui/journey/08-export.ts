import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SCREENS_DIR } from '../harness';
import type { Journey } from './context';

export const title = 'export the study’s run as PDF, CSV and JSONL, and check the files';

/** A CSV parser for the export's dialect (RFC 4180: quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}

export async function run(j: Journey): Promise<void> {
  const { page } = j.s;
  const { store } = j.s.t.wb;
  const runId = j.runIds?.[0];
  expect(runId, 'an earlier chapter ran the study').toBeDefined();
  const stored = store.results.list(runId!, { relevance: false });

  // The analyst opens Export and chooses her study's run.
  await page.getByRole('tab', { name: 'Export' }).click();
  await page.getByLabel('Run').selectOption(String(runId));
  await j.s.shot('journey-08-export');

  /** Clicks a format's button and keeps the browser's download in the analyst's folder. */
  async function download(button: string, file: string): Promise<string> {
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 180_000 }), page.getByRole('button', { name: button, exact: true }).click()]);
    const to = join(j.dir, file);
    await d.saveAs(to);
    await page.getByTestId('export-done').waitFor();
    return to;
  }

  // PDF: a real PDF; its first page becomes a PNG to look at (pdftoppm, poppler-utils).
  const pdf = await download('PDF report', `run-${runId}.pdf`);
  expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
  const pngBase = join(SCREENS_DIR, 'journey-08-export-pdf-page1');
  execFileSync('pdftoppm', ['-png', '-f', '1', '-l', '1', '-r', '60', '-singlefile', pdf, pngBase]);
  expect(readFileSync(`${pngBase}.png`).subarray(1, 4).toString()).toBe('PNG');
  await j.s.shot('journey-08-export-pdf');

  // CSV: one row per stored result, each with the stored example, answer and correctness.
  // (a spreadsheet-friendly byte-order mark may lead the file)
  const csv = parseCsv(readFileSync(await download('CSV', `run-${runId}.csv`), 'utf8').replace(/^\ufeff/, ''));
  const [head, ...rows] = csv;
  const col = (name: string) => head.indexOf(name);
  expect(rows).toHaveLength(stored.length);
  for (const r of stored) {
    const row = rows.find((x) => x[col('example_id')] === String(r.exampleId));
    expect(row, `example ${r.exampleId} in the CSV`).toBeDefined();
    expect(row![col('run')]).toBe(String(runId));
    expect(row![col('external_id')].replace(/^'/, '')).toBe(store.datasets.example(r.exampleId)!.externalId);
    expect(row![col('prediction')]).toBe(r.label ?? '');
    expect(row![col('correct')]).toBe(r.correct === null ? '' : r.correct ? '1' : '0');
    expect(row![col('skipped_reason')]).toBe(r.skippedReason ?? '');
  }

  // JSONL: the run line, then one line per stored result with the same answer.
  const lines = readFileSync(await download('JSONL', `run-${runId}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines[0]).toMatchObject({ runId });
  const examples = lines.slice(1);
  expect(examples).toHaveLength(stored.length);
  for (const r of stored) {
    const line = examples.find((x) => x.exampleId === r.exampleId)!;
    expect(line).toMatchObject({ record: 'example', runId, prediction: r.label, correct: r.correct, skippedReason: r.skippedReason });
  }
  await j.s.shot('journey-08-export-done');
}
