/**
 * The first-run demo, app side: decides whether to run it and reports on the console. Both the
 * Electron shell and browser mode call `startFirstRunDemo` right after opening, without awaiting it:
 * the work runs in the engine process (first-run-demo.ts), so the window and the server stay
 * responsive, and its runs appear in the Run monitor and Results like any other.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveStudies } from '../studies/builtins';
import type { FirstRunStatus } from './catalogue';
import { DEMO_STUDY_GROUP, type FirstRunDemoResult } from './first-run-demo';
import type { Workbench } from './service';

export const DEMO_REPORT_NAME = 'demo-report.pdf';

/** Where the first-run demo's PDF report goes: <dataDir>/reports/demo-report.pdf. */
export const demoReportPath = (dataDir: string) => join(dataDir, 'reports', DEMO_REPORT_NAME);

/** `--no-demo` on the command line or RW_NO_DEMO=1 (any value but "" and "0") turns the first-run demo off. */
export function demoDisabled(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--no-demo') || (env.RW_NO_DEMO !== undefined && env.RW_NO_DEMO !== '' && env.RW_NO_DEMO !== '0');
}

export type FirstRunOutcome =
  | { status: 'skipped'; reason: string }
  | FirstRunDemoResult
  | { status: 'failed'; message: string };

/**
 * Runs the demo when the database has no runs yet (a fresh install); later starts find the demo's
 * runs and skip it. Never throws: a failure is logged and returned.
 */
export async function startFirstRunDemo(
  wb: Workbench,
  o: { disabled?: boolean; log?: (line: string) => void } = {},
): Promise<FirstRunOutcome> {
  const log = o.log ?? ((l: string) => console.log(l));
  if (o.disabled) return { status: 'skipped', reason: 'turned off (--no-demo or RW_NO_DEMO)' };
  const runs = wb.store.runs.list().length;
  if (runs > 0) return { status: 'skipped', reason: `the database already has ${runs} run${runs === 1 ? '' : 's'}` };
  const pdf = demoReportPath(wb.options.dataDir);
  // runs can be deleted (housekeeping): a data directory whose demo finished once is not a fresh install
  if (existsSync(pdf)) return { status: 'skipped', reason: `the demo ran before (its report is ${pdf})` };
  demoState.set(wb, { state: 'running' });
  const outcome = await runDemo(wb, pdf, log);
  demoState.set(wb, outcome.status === 'done' ? { state: 'done' } : outcome.status === 'incomplete' ? { state: 'incomplete', reason: outcome.reason } : { state: 'failed', reason: outcome.message });
  return outcome;
}

async function runDemo(wb: Workbench, pdf: string, log: (line: string) => void): Promise<Exclude<FirstRunOutcome, { status: 'skipped' }>> {
  // The Electron shell prints with printToPDF: the engine then writes the report's HTML for it.
  const viaShell = wb.options.renderPdf;
  const reportFile = viaShell ? pdf.replace(/\.pdf$/, '.html') : pdf;
  log('First run: running the built-in demo study on the generated demo model (follow it in the Run monitor; --no-demo skips this).');
  try {
    const r = await wb.engine.call('firstRunDemo', { dbFile: wb.options.dbFile, appVersion: wb.options.version, reportFile });
    if (r.status !== 'done') {
      log(`Demo study not finished (${r.reason}); no report written. Resume its runs in the Run monitor.`);
      return r;
    }
    if (viaShell) {
      await viaShell(r.reportFile, pdf);
      if (existsSync(r.reportFile)) rmSync(r.reportFile);
    }
    const bytes = statSync(pdf).size;
    log(`Demo study done (${r.runIds.length} runs). PDF report: ${pdf}`);
    return { ...r, reportFile: pdf, bytes };
  } catch (e) {
    const message = (e as Error).message;
    if (wb.closed) return { status: 'failed', message: `stopped before the demo finished (${message})` };
    log(`Demo study failed: ${message}`);
    return { status: 'failed', message };
  }
}

// ---- the welcome screen's view of the first run (issue 12 item 9) ----

/** The first-run demo of this session, per workbench: set by startFirstRunDemo, read by firstRunStatus. */
const demoState = new WeakMap<Workbench, { state: 'running' | 'done' | 'incomplete' | 'failed'; reason?: string }>();

/** The names the built-in demo studies are stored under (studies/demo-*.json's "name"). */
let demoNames: Set<string> | null = null;
export function demoStudyNames(): Set<string> {
  demoNames ??= new Set(resolveStudies(DEMO_STUDY_GROUP).map((s) => String((s.config as { name?: unknown }).name)));
  return demoNames;
}

/**
 * The user's own runs (not the demo's) and the demo's progress. The demo's studies are the stored studies
 * named as the built-in demo studies (first-run-demo.ts stores them under those names). After a restart,
 * when this session did not run the demo, its state is read from what is stored: the report written
 * (done), demo runs without it (incomplete), or no demo runs (none).
 */
export function firstRunStatus(wb: Workbench): FirstRunStatus {
  const names = demoStudyNames();
  const studyIds = wb.store.studies.list().filter((s) => names.has(s.name)).map((s) => s.id);
  const ids = new Set(studyIds);
  const runs = wb.store.runs.list();
  const demoRuns = runs.filter((r) => ids.has(r.studyId));
  const report = existsSync(demoReportPath(wb.options.dataDir));
  const live = demoState.get(wb);
  const state: FirstRunStatus['demo']['state'] = live ? live.state : report ? 'done' : demoRuns.length ? 'incomplete' : 'none';
  const reason = live?.reason ?? (state === 'incomplete' ? 'the demo stopped before its report was written; resume its runs in the Run monitor' : undefined);
  return {
    ownRuns: runs.length - demoRuns.length,
    demo: {
      state,
      ...(reason !== undefined ? { reason } : {}),
      studyIds,
      runIds: demoRuns.map((r) => r.id),
      done: demoRuns.reduce((n, r) => n + r.progress.done, 0),
      total: demoRuns.reduce((n, r) => n + r.progress.total, 0),
      studies: names.size,
      fraction: state === 'done' ? 1 : Math.min(1, demoRuns.reduce((f, r) => f + (r.progress.total ? r.progress.done / r.progress.total : 0), 0) / Math.max(1, names.size)),
      report,
    },
  };
}
