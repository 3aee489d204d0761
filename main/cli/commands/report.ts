import { resolve } from 'node:path';
import { buildReportData } from '../../reports/build';
import { exportData, writeExports } from '../../reports/exports';
import { writeEraser } from '../../importers/eraser';
import { renderReportHtml } from '../../reports/html';
import { htmlToPdf } from '../../reports/pdf';
import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';
import { writeFileSync } from 'node:fs';

export const summary = 'write a run’s report (PDF via Chromium, or HTML), per-example CSV/JSONL exports, and ERASER’s format';
export const usage = 'report <runId>[,<runId>...] [--pdf F] [--html F] [--csv F] [--tokens-csv F] [--jsonl F] [--eraser DIR] [--example ID]...';

export function parseRunIds(s: string | undefined): number[] {
  if (!s) throw new CliUsageError(`missing run id; usage: ${usage}`);
  const ids = s.split(',').map((x) => x.trim());
  for (const x of ids) if (!/^\d+$/.test(x)) throw new CliUsageError(`run id must be a whole number, got "${x}"`);
  return ids.map(Number);
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { pdf: 'string', html: 'string', csv: 'string', jsonl: 'string', 'tokens-csv': 'string', eraser: 'string', example: 'string' });
  const runIds = parseRunIds(positional[0]);
  if (!flags.pdf && !flags.html && !flags.csv && !flags['tokens-csv'] && !flags.jsonl && !flags.eraser) throw new CliUsageError(`say what to write (--pdf, --html, --csv, --tokens-csv, --jsonl, --eraser); usage: ${usage}`);
  if (flags.eraser && runIds.length !== 1) throw new CliUsageError(`--eraser writes one run (its dataset and predictions); got ${runIds.length} run ids`);
  const chosen = typeof flags.example === 'string' ? flags.example.split(',').map(Number).filter(Number.isInteger) : undefined;
  return withStore(ctx, async (store) => {
    if (flags.csv || flags.jsonl || flags['tokens-csv']) {
      const n = writeExports(store, runIds, { csv: flags.csv as string | undefined, jsonl: flags.jsonl as string | undefined, tokensCsv: flags['tokens-csv'] as string | undefined });
      ctx.err(`exported ${n} example rows`);
    }
    if (flags.eraser) {
      const files = await writeEraser(exportData(store, runIds), resolve(flags.eraser as string));
      ctx.err(`ERASER files written to ${flags.eraser}: ${files.join(', ')}`);
    }
    if (flags.pdf || flags.html) {
      const html = renderReportHtml(buildReportData(store, runIds, { examples: chosen }));
      if (flags.html) writeFileSync(flags.html as string, html);
      if (flags.pdf) {
        await htmlToPdf(html, resolve(flags.pdf as string));
        ctx.err(`report written to ${flags.pdf}`);
      }
    }
    if (ctx.json) ctx.out(JSON.stringify({ runs: runIds, pdf: flags.pdf ?? null, html: flags.html ?? null, csv: flags.csv ?? null, jsonl: flags.jsonl ?? null, eraser: flags.eraser ?? null }));
    return 0;
  });
}
