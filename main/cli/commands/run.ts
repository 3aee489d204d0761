import { resolve } from 'node:path';
import { buildReportData } from '../../reports/build';
import { renderReportHtml } from '../../reports/html';
import { htmlToPdf } from '../../reports/pdf';
import { describeLabelCheck, GoldLabelError } from '../../protocol/gold';
import { resolveStudies } from '../../runner/builtins';
import { runStudies } from '../../runner/study';
import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';

export const summary = 'run a study (a .json file or a built-in name such as demo, paper-msst-en) and store every result';
export const usage = 'run <study.json | built-in name> [--db F] [--resume] [--report out.pdf] [--threads N] [--definitions indicators.json]';

// a second SIGINT this soon after the first is the same Ctrl-C relayed, not a second key press
const SAME_CTRL_C_MS = 1000;

/**
 * Ctrl-C (SIGINT) stops cleanly: the example in flight is dropped, the run is marked stopped, and
 * `--resume` continues it later. A second Ctrl-C (more than a second later) exits at once (the store is
 * always consistent: every finished example is its own transaction).
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { resume: 'boolean', report: 'string', threads: 'integer', definitions: 'string' });
  const ref = positional[0];
  if (!ref) throw new CliUsageError(`missing study; usage: ${usage}`);
  if (flags.threads !== undefined && (flags.threads as number) < 1) throw new CliUsageError('--threads must be at least 1');
  const studies = resolveStudies(ref);
  const abort = new AbortController();
  let firstInterrupt = 0;
  const onSigint = () => {
    if (!firstInterrupt) {
      firstInterrupt = Date.now();
      ctx.err('stopping: the example in flight is dropped, the run is marked stopped (Ctrl-C again to quit now)');
      abort.abort(new Error('interrupted'));
    } else if (Date.now() - firstInterrupt > SAME_CTRL_C_MS) process.exit(130);
    // else: the same Ctrl-C delivered twice. A terminal signals the whole process group, and a wrapper in it
    // (tsx, which `npm run cli` uses) relays the signal to this process again when the process has not
    // acknowledged it within 30 ms (a busy event loop), so one key press can arrive twice.
  };
  process.on('SIGINT', onSigint);
  try {
    return await withStore(ctx, async (store) => {
      const reports = await runStudies(store, studies, {
        resume: Boolean(flags.resume),
        threads: flags.threads as number | undefined,
        signal: abort.signal,
        log: ctx.err,
        // forced-labour prompts: a user-supplied definitions file (e.g. RaFoLa's definitions.json)
        indicatorDefinitions: flags.definitions ? resolve(flags.definitions as string) : undefined,
      }).catch((e: unknown) => {
        if (!(e instanceof GoldLabelError)) throw e;
        // gold labels that do not map: refused before any run (protocol/gold.ts), every value listed
        if (ctx.json) ctx.out(JSON.stringify({ db: store.file, refused: { reason: 'gold-labels', dataset: e.dataset, ...e.check }, runs: [] }));
        ctx.err(`error: ${describeLabelCheck(e.check, e.dataset, '\n  ')}`);
        return null;
      });
      if (reports === null) return 1;
      const runIds = reports.flatMap((r) => r.runs.map((x) => x.runId));
      const stopped = reports.some((r) => r.runs.some((x) => x.outcome.status !== 'done')) || abort.signal.aborted;
      if (flags.report && runIds.length) {
        const html = renderReportHtml(buildReportData(store, runIds, { title: `Rationale Workbench report: ${ref}` }));
        await htmlToPdf(html, resolve(flags.report as string));
        ctx.err(`report written to ${flags.report}`);
      }
      const summaryRows = reports.flatMap((r) => r.runs.map((x) => ({ study: r.study, studyId: r.studyId, runId: x.runId, model: x.model, seed: x.seed, status: x.outcome.status, processed: x.outcome.processed, resumed: x.outcome.resumed, total: x.outcome.total })));
      if (ctx.json) ctx.out(JSON.stringify({ db: store.file, runs: summaryRows }));
      else for (const r of summaryRows) ctx.out(`run ${r.runId}\t${r.study}\t${r.model}\tseed ${r.seed}\t${r.status}\t${r.processed + r.resumed}/${r.total}`);
      return stopped ? 130 : 0;
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}
