import { resolve } from 'node:path';
import { buildReportData } from '../../reports/build';
import { renderReportHtml } from '../../reports/html';
import { htmlToPdf } from '../../reports/pdf';
import { readDefinitionsFile } from '../../protocol/indicator-definitions';
import { describeLabelCheck, GoldLabelError } from '../../protocol/gold';
import { resolveStudies } from '../../studies/builtins';
import { runStudies } from '../../runner';
import { checkThreads } from '../../models/session-threads';
import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';

export const summary = 'run a study (a .json file or a built-in name such as demo, paper-msst-en) and store every result';
export const usage = 'run <study.json | built-in name> [--db F] [--resume] [--report out.pdf] [--threads N] [--definitions indicators.json] [--queue redis://HOST:PORT [--attempts N] [--wait-workers SECONDS]]';

// a second SIGINT this soon after the first is the same Ctrl-C relayed, not a second key press
const SAME_CTRL_C_MS = 1000;

/**
 * Ctrl-C (SIGINT) and SIGTERM (kill, a service manager, a shutdown) stop cleanly: the example in flight is
 * dropped, the run is marked stopped, and `--resume` continues it later; the exit code is 128 + the signal
 * (130, 143). A second signal (more than a second later) exits at once (the store is always consistent: every
 * finished example is its own transaction; the run then shows as interrupted, also resumable).
 * A run another process is running (its lease is live) is refused, naming that process and since when.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args, { resume: 'boolean', report: 'string', threads: 'integer', definitions: 'string', queue: 'string', attempts: 'integer', 'wait-workers': 'integer' });
  const ref = positional[0];
  if (!ref) throw new CliUsageError(`missing study; usage: ${usage}`);
  if (flags.threads !== undefined) checkThreads(flags.threads as number, '--threads', (m) => new CliUsageError(m));
  const studies = resolveStudies(ref);
  // forced-labour prompts: a user-supplied definitions file (e.g. RaFoLa's definitions.json), read here
  if (flags.definitions !== undefined && !studies.some((s) => (s.config as { task?: { kind?: unknown } } | null)?.task?.kind === 'forced-labour')) {
    throw new CliUsageError(`--definitions is only for forced-labour studies; ${ref} has none`);
  }
  const definitions = flags.definitions ? readDefinitionsFile(resolve(flags.definitions as string), flags.definitions as string) : undefined;
  // --queue: the examples are computed by queue workers (main/queue/, loaded only then); results come back here
  const executor = flags.queue !== undefined ? await queueExecutorFor(flags) : undefined;
  const abort = new AbortController();
  let firstInterrupt = 0;
  let exitCode = 130;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    const code = signal === 'SIGTERM' ? 143 : 130;
    if (!firstInterrupt) {
      firstInterrupt = Date.now();
      exitCode = code;
      const again = signal === 'SIGTERM' ? 'a second SIGTERM' : 'Ctrl-C again';
      ctx.err(`stopping${signal === 'SIGTERM' ? ' (SIGTERM)' : ''}: the example in flight is dropped, the run is marked stopped (${again} to quit now)`);
      abort.abort(new Error('interrupted'));
    } else if (Date.now() - firstInterrupt > SAME_CTRL_C_MS) process.exit(code);
    // else: the same signal delivered twice. A terminal signals the whole process group, and a wrapper in it
    // (tsx, which `npm run cli` uses) relays the signal to this process again when the process has not
    // acknowledged it within 30 ms (a busy event loop), so one key press can arrive twice.
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    return await withStore(ctx, async (store) => {
      const reports = await runStudies(store, studies, {
        resume: Boolean(flags.resume),
        threads: flags.threads as number | undefined,
        signal: abort.signal,
        log: ctx.err,
        definitions,
        executor,
      }).catch((e: unknown) => {
        if (!(e instanceof GoldLabelError)) throw e;
        // gold labels that do not map: refused before any run (protocol/gold.ts), every value listed
        // under --json stderr carries the one JSON error line, as for every other error (cli/index.ts)
        if (ctx.json) {
          ctx.out(JSON.stringify({ db: store.file, refused: { reason: 'gold-labels', dataset: e.dataset, ...e.check }, runs: [] }));
          ctx.err(JSON.stringify({ error: { code: 'failed', message: describeLabelCheck(e.check, e.dataset) } }));
        } else ctx.err(`error: ${describeLabelCheck(e.check, e.dataset, '\n  ')}`);
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
      return stopped ? exitCode : 0;
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}

async function queueExecutorFor(flags: Record<string, unknown>) {
  const { parseQueueUrl, queueExecutor, QueueUrlError } = await import('../../queue');
  try {
    const waitS = flags['wait-workers'] as number | undefined;
    return queueExecutor({ address: parseQueueUrl(flags.queue as string), attempts: flags.attempts as number | undefined, noWorkerTimeoutMs: waitS !== undefined ? waitS * 1000 : undefined });
  } catch (e) {
    throw e instanceof QueueUrlError ? new CliUsageError(e.message) : e;
  }
}
