import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../main/api/engine';
import { METHOD_NAMES } from '../../main/api/methods';
import { displayProblem, findElectronBinary } from '../../main/shell/electron-binary';
import { repoRoot } from '../api/helpers';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('Electron shell boundaries', () => {
  it('only main/shell imports electron', () => {
    const offenders = tsFiles(join(repoRoot, 'main'))
      .filter((f) => !relative(repoRoot, f).startsWith('main/shell/'))
      .filter((f) => /from\s+['"]electron['"]|require\(['"]electron['"]\)/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(repoRoot, f))).toEqual([]);
  });

  it('finds the Electron binary without require("electron"), and says why when it cannot', () => {
    const root = mkdtempSync(join(tmpdir(), 'rw-el-'));
    try {
      expect(findElectronBinary(root, {}, 'linux')).toEqual({ ok: false, reason: 'the electron package is not installed (run npm ci)' });
      mkdirSync(join(root, 'node_modules', 'electron', 'dist'), { recursive: true });
      const missing = findElectronBinary(root, {}, 'linux');
      expect(missing.ok).toBe(false);
      if (!missing.ok) expect(missing.reason).toMatch(/path\.txt is missing.*ELECTRON_OVERRIDE_DIST_PATH/);
      writeFileSync(join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
      expect(findElectronBinary(root, {}, 'linux').ok).toBe(false);
      writeFileSync(join(root, 'node_modules', 'electron', 'dist', 'electron'), '');
      expect(findElectronBinary(root, {}, 'linux')).toEqual({ ok: true, path: join(root, 'node_modules/electron/dist/electron') });
      const over = join(root, 'override');
      mkdirSync(over);
      expect(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: over }, 'linux').ok).toBe(false);
      writeFileSync(join(over, 'electron'), '');
      expect(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: over }, 'linux')).toEqual({ ok: true, path: join(over, 'electron') });
      expect(displayProblem({}, 'linux')).toMatch(/no display/);
      expect(displayProblem({ DISPLAY: ':0' }, 'linux')).toBeNull();
      expect(displayProblem({}, 'win32')).toBeNull();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('engine host in a utility process', () => {
  it('answers through process.parentPort when started by an injected fork (as the packaged app does)', async () => {
    // Electron's utilityProcess gives the child process.parentPort and no process.send. Without an
    // Electron binary here, a shim loaded before the host gives a forked Node child the same shape.
    const dir = mkdtempSync(join(tmpdir(), 'rw-port-'));
    const shim = join(dir, 'parent-port.mjs');
    writeFileSync(
      shim,
      [
        'const send = process.send.bind(process);',
        'const listeners = [];',
        'const early = [];', // like parentPort, keep what arrives before the host listens
        "process.on('message', (m) => { if (!m || !m.viaPort) return; if (listeners.length) for (const fn of listeners) fn({ data: m.viaPort }); else early.push(m.viaPort); });",
        "process.parentPort = { postMessage: (m) => send({ viaPort: m }), on: (_e, fn) => { listeners.push(fn); for (const d of early.splice(0)) fn({ data: d }); } };",
        'process.send = undefined;',
      ].join('\n'),
    );
    const forks: number[] = [];
    const engine = new Engine({
      fork: (entry, args, options) => {
        const child = fork(entry, args, { ...options, execArgv: [...(options.execArgv ?? []), '--import', shim] });
        forks.push(child.pid!);
        // The parent side of the shim's envelope, as forkUtilityProcess adapts utilityProcess.
        const send = child.send.bind(child);
        child.send = ((m: unknown) => send({ viaPort: m })) as typeof child.send;
        const emit = child.emit.bind(child);
        child.emit = ((event: string, ...a: unknown[]) =>
          event === 'message' ? emit('message', (a[0] as { viaPort?: unknown })?.viaPort ?? {}) : emit(event, ...a)) as typeof child.emit;
        return child;
      },
    });
    try {
      const r = (await engine.call('ping', {} as never)) as { pid: number };
      expect(forks).toEqual([r.pid]);
    } finally {
      engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('electron-vite build of the app', () => {
  const out = mkdtempSync(join(tmpdir(), 'rw-out-'));
  beforeAll(() => {
    execFileSync('npx', ['electron-vite', 'build', '--logLevel', 'error'], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, RW_OUT_DIR: out } });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('bundles the sandboxed preload as one CommonJS file that requires only electron and exposes every method', () => {
    const pre = readFileSync(join(out, 'preload/preload.cjs'), 'utf8');
    const requires = [...pre.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect([...new Set(requires)]).toEqual(['electron']);
    expect(pre).toContain('exposeInMainWorld("workbench"');
    for (const m of METHOD_NAMES) expect(pre).toContain(`"${m}"`);
  });

  it('builds the main process with the secure window settings and a separate engine host without electron', () => {
    const main = readFileSync(join(out, 'main/index.js'), 'utf8');
    for (const s of [
      'contextIsolation: true',
      'sandbox: true',
      'nodeIntegration: false',
      'enableSandbox()',
      'setWindowOpenHandler',
      'will-navigate',
      'will-frame-navigate',
      'setPermissionRequestHandler',
      'setPermissionCheckHandler',
      'utilityProcess.fork',
    ]) {
      expect(main).toContain(s);
    }
    const host = readFileSync(join(out, 'main/engine-host.js'), 'utf8');
    expect(host).not.toMatch(/from ["']electron["']/);
    // Started as a utility process in the app (RunAsNode is off): it talks through parentPort.
    expect(host).toContain('parentPort');
    // devDependencies are not packaged: the engine host must not load playwright-core up front.
    expect(host).not.toMatch(/^import [^;]*["']playwright-core["']/m);
    // The app prints reports with Electron's printToPDF, handed to the service by the shell.
    expect(main).toContain('printToPDF');
    expect(main).toMatch(/renderPdf: printReport/);
  });

  it('builds a renderer page with no inline script and a CSP without unsafe-eval', () => {
    const html = readFileSync(join(out, 'renderer/index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src=/);
      expect(body.trim()).toBe('');
    }
    expect(html).toMatch(/Content-Security-Policy/);
    expect(html).not.toMatch(/unsafe-eval/);
  });
});

