/**
 * The README's run command on a fresh machine: the launcher (what `npm start` runs) in browser mode
 * over an empty data directory runs the first-run demo in its engine process, writes the demo's PDF
 * report to <dataDir>/reports/demo-report.pdf and prints that path; the server keeps answering (and
 * refusing requests without the token) meanwhile; a second start does not run the demo again.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDisabled, demoReportPath } from '../../main/api/first-run';
import { repoRoot } from '../api/helpers';
import { buildRenderer } from './harness';

const dataDir = mkdtempSync(join(tmpdir(), 'rw-first-run-'));
// A fresh machine has no generated demo model either: generate it into the temp dir.
const modelDir = join(dataDir, 'demo-model-cache');
const DEMO_STUDIES = readdirSync(join(repoRoot, 'studies')).filter((f) => /^demo-.*\.json$/.test(f));
const demoConfigs = DEMO_STUDIES.map((f) => JSON.parse(readFileSync(join(repoRoot, 'studies', f), 'utf8')) as { name: string; models: unknown[]; seeds: number[] });
const studyNames = demoConfigs.map((c) => c.name);
/** One run per study x model x seed. */
const DEMO_RUNS = demoConfigs.reduce((n, c) => n + c.models.length * c.seeds.length, 0);

interface Launched {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  /** Resolves with the first match of re in the output (stdout + stderr), or rejects after ms. */
  waitFor(re: RegExp, ms: number): Promise<RegExpExecArray>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The launcher as `npm start` runs it (tsx main/shell/launch.ts), in browser mode, in its own process group. */
function launch(extraArgs: string[] = []): Launched {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), RW_DATA_DIR: dataDir, RW_DEMO_MODEL_DIR: modelDir, RW_REBUILD: '0' };
  delete env.RW_DB;
  delete env.RW_NO_DEMO;
  const child = spawn(process.execPath, ['--import', 'tsx', 'main/shell/launch.ts', '--browser', ...extraArgs], {
    cwd: repoRoot,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    out: () => out,
    exit,
    waitFor: (re, ms) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${re} within ${ms} ms; output:\n${out}`));
        }, ms);
        waiters.add(check);
        void exit.then(() => {
          if (waiters.has(check)) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`the launcher exited before printing ${re}; output:\n${out}`));
          }
        });
        check();
      }),
  };
}

/** Any process left in the launcher's group (the engine child included)? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopCleanly(l: Launched): Promise<void> {
  l.child.kill('SIGTERM');
  const r = await Promise.race([l.exit, new Promise<null>((res) => setTimeout(() => res(null), 20_000))]);
  expect(r, `launcher did not exit on SIGTERM; output:\n${l.out()}`).toEqual({ code: 0, signal: null });
  // The engine process exits with its parent (IPC disconnect); nothing of the group lingers.
  const t0 = Date.now();
  while (groupAlive(l.child.pid!) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
  expect(groupAlive(l.child.pid!)).toBe(false);
}

const api = (base: string, token: string | null, method: string, arg: unknown = {}) =>
  fetch(`${base}api/call/${method}`, {
    method: 'POST',
    body: JSON.stringify(arg),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

describe('--no-demo / RW_NO_DEMO', () => {
  it('turn the first-run demo off; RW_NO_DEMO=0 or empty does not', () => {
    expect(demoDisabled(['node', 'launch.ts'], {})).toBe(false);
    expect(demoDisabled(['node', 'launch.ts', '--no-demo'], {})).toBe(true);
    expect(demoDisabled(['node', 'launch.ts'], { RW_NO_DEMO: '1' })).toBe(true);
    expect(demoDisabled(['node', 'launch.ts'], { RW_NO_DEMO: '0' })).toBe(false);
    expect(demoDisabled(['node', 'launch.ts'], { RW_NO_DEMO: '' })).toBe(false);
    expect(demoReportPath('/d')).toBe('/d/reports/demo-report.pdf');
  });
});

describe('first start on a fresh data directory (npm start, browser mode)', () => {
  const launched: Launched[] = [];
  beforeAll(() => buildRenderer());
  afterAll(() => {
    for (const l of launched) if (l.child.exitCode === null && l.child.signalCode === null) {
      try {
        process.kill(-l.child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the demo study in the background, prints the PDF path, and stops cleanly', async () => {
    expect(existsSync(join(dataDir, 'workbench.sqlite'))).toBe(false);
    const l = launch();
    launched.push(l);
    const [, url] = await l.waitFor(/Open: (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64})/, 120_000);
    expect(l.out()).toMatch(/Electron cannot start here: browser mode was asked for \(--browser\)\./);
    await l.waitFor(/First run: running the built-in demo study/, 10_000);
    const base = url.slice(0, url.indexOf('#'));
    const token = url.slice(url.indexOf('#token=') + 7);

    // While the demo runs in the engine process, the server answers, and refuses calls without the token.
    const refused = await api(base, null, 'listRuns');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await api(base, 'f'.repeat(64), 'listRuns')).status).toBe(401);
    const info = await api(base, token, 'appInfo');
    expect(info.status).toBe(200);
    expect(((await info.json()) as { value: { dataDir: string } }).value.dataDir).toBe(dataDir);

    const [, pdf] = await l.waitFor(/PDF report: (\S+\.pdf)\n/, 1_500_000);
    expect(pdf).toBe(join(dataDir, 'reports', 'demo-report.pdf'));
    expect(statSync(pdf).size).toBeGreaterThan(10_000);
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    const pages = Number(/Pages:\s+(\d+)/.exec(spawnSync('pdfinfo', [pdf], { encoding: 'utf8' }).stdout)?.[1]);
    expect(pages).toBeGreaterThanOrEqual(2);
    const text = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).stdout;
    expect(text).toContain('Rationale Workbench demo report');
    for (const name of studyNames) expect(text).toContain(name);
    expect(text).toMatch(/rw-demo/);

    // The demo's runs are ordinary runs of stored studies: the Run monitor and Results list them.
    const runs = ((await (await api(base, token, 'listRuns')).json()) as { value: { id: number; studyId: number; status: string; progress: { done: number; total: number } }[] }).value;
    expect(runs).toHaveLength(DEMO_RUNS);
    for (const r of runs) {
      expect(r.status).toBe('done');
      expect(r.progress.done).toBe(r.progress.total);
      expect(r.progress.total).toBeGreaterThan(0);
    }
    const studies = ((await (await api(base, token, 'listStudies')).json()) as { value: { id: number; name: string }[] }).value;
    expect(studies.map((s) => s.name).sort()).toEqual([...studyNames].sort());
    const metrics = ((await (await api(base, token, 'listMetrics', { runId: runs[0].id })).json()) as { value: unknown[] }).value;
    expect(metrics.length).toBeGreaterThan(0);
    const models = ((await (await api(base, token, 'listModels')).json()) as { value: { path: string }[] }).value;
    expect(models).toHaveLength(1);
    expect(models[0].path.startsWith(modelDir)).toBe(true);

    await stopCleanly(l);
    // The port is closed after the stop.
    await expect(fetch(base)).rejects.toThrow();
  }, 1_800_000);

  it('a later start does not run the demo again', async () => {
    const before = statSync(join(dataDir, 'reports', 'demo-report.pdf')).mtimeMs;
    const l = launch();
    launched.push(l);
    const [, url] = await l.waitFor(/Open: (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64})/, 120_000);
    await l.waitFor(/Ctrl-C stops\.\n/, 10_000);
    // The decision is taken synchronously right after the address is printed; give the pipe a moment.
    await new Promise((r) => setTimeout(r, 1500));
    expect(l.out()).not.toMatch(/First run/);
    const base = url.slice(0, url.indexOf('#'));
    const token = url.slice(url.indexOf('#token=') + 7);
    const runs = ((await (await api(base, token, 'listRuns')).json()) as { value: unknown[] }).value;
    expect(runs).toHaveLength(DEMO_RUNS);
    expect(statSync(join(dataDir, 'reports', 'demo-report.pdf')).mtimeMs).toBe(before);
    await stopCleanly(l);
  }, 180_000);
});
