/**
 * The Electron main process: one window over the same Workbench service that browser mode serves.
 * This folder is the only code that imports `electron`. Security: context isolation, sandboxed
 * renderer, no Node in the page, a strict CSP, no navigation or new windows, every IPC call
 * validated (sender checked here, argument by the catalogue's zod schema in the service).
 */
import { app, BrowserWindow, dialog, ipcMain, Notification, session, type IpcMainInvokeEvent } from 'electron';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FileHandleInfo } from '../api/catalogue';
import type { Envelope } from '../api/errors';
import { CALL_CHANNEL, EVENT_CHANNEL, PICK_FILE_CHANNEL, SAVE_FILE_CHANNEL } from '../api/methods';
import { Workbench } from '../api/service';
import { CONTENT_SECURITY_POLICY } from '../server/csp';
import { demoDisabled, startFirstRunDemo } from '../api/first-run';
import { dbFileIn } from '../server/paths';
import { readSettings, settingsFileIn } from '../config/settings';
import { forkUtilityProcess } from './engine-process';
import { runNotifier } from '../api/run-notice';

const here = dirname(fileURLToPath(import.meta.url));
const rendererIndex = join(here, '../renderer/index.html');
const devUrl = process.env.ELECTRON_RENDERER_URL; // set by `electron-vite dev` only

const FILTERS: Record<string, Electron.FileFilter[]> = {
  dataset: [{ name: 'Datasets', extensions: ['xlsx', 'json', 'jsonl', 'csv', 'tsv', 'txt'] }],
  labels: [{ name: 'Labels', extensions: ['csv', 'tsv', 'txt'] }],
  model: [{ name: 'GGUF models', extensions: ['gguf'] }],
  // forced-labour indicator definitions (RaFoLa's definitions.json format)
  definitions: [{ name: 'Indicator definitions', extensions: ['json'] }],
  // the data directory (Settings): a folder, not a file
  'data-dir': [],
};

app.enableSandbox();
// Tests (and portable installs) may point the data directory elsewhere; it must be set before ready.
// RW_DATA_DIR is the same override the CLI and browser mode read (main/server/paths.ts).
const userDataOverride = process.env.RW_USER_DATA || process.env.RW_DATA_DIR;
if (userDataOverride) app.setPath('userData', userDataOverride);
let win: BrowserWindow | null = null;
let workbench: Workbench | null = null;

/** Only our own page, in our own window, may call the engine. */
function trusted(e: IpcMainInvokeEvent): boolean {
  if (!win || e.sender !== win.webContents) return false;
  const url = e.senderFrame?.url ?? '';
  return devUrl ? url.startsWith(devUrl) : url === pathToFileURL(rendererIndex).href;
}

function refused(): Envelope<never> {
  return { ok: false, error: { code: 'invalid', message: 'call refused: not from the workbench window' } };
}

/**
 * The app's PDF path (issue: printToPDF in the app): the report HTML is loaded in a hidden window with
 * JavaScript off (the report is static HTML + inline SVG) and printed with backgrounds, so heatmap
 * colours survive.
 */
async function printReport(htmlFile: string, pdfFile: string): Promise<void> {
  const w = new BrowserWindow({ show: false, webPreferences: { sandbox: true, contextIsolation: true, javascript: false } });
  try {
    await w.loadFile(htmlFile);
    const pdf = await w.webContents.printToPDF({ printBackground: true, pageSize: 'A4' });
    writeFileSync(pdfFile, pdf);
  } finally {
    w.destroy();
  }
}

function createWindow(wb: Workbench) {
  win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Rationale Workbench',
    webPreferences: {
      preload: join(here, '../preload/preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win?.show());
  const off = wb.onEvent((event) => win?.webContents.send(EVENT_CHANNEL, event));
  win.on('closed', () => {
    off();
    win = null;
  });
  if (devUrl) void win.loadURL(devUrl);
  else void win.loadFile(rendererIndex);
}

app.on('web-contents-created', (_e, contents) => {
  // No navigation away from the app, no pop-ups, no <webview>. will-navigate covers the main frame
  // only; will-frame-navigate covers every frame (an <iframe> the page could be tricked into).
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-frame-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.whenReady().then(() => {
  // The settings file stays in the config directory (userData); its dataDir moves the data (unless RW_DATA_DIR does).
  const settingsFile = settingsFileIn(process.env.RW_CONFIG_DIR || app.getPath('userData'));
  const dataDir = (userDataOverride ? null : readSettings(settingsFile).settings.dataDir) ?? app.getPath('userData');
  mkdirSync(dataDir, { recursive: true });
  // The installed app is read-only (asar): the generated demo model lives with the user's data.
  // Set before the engine process is forked, which inherits it.
  process.env.RW_DEMO_MODEL_DIR ??= join(dataDir, 'demo-model');
  // The CSP as a header too (the page also carries it in a meta tag, which covers file://).
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  // No permission (camera, notifications, clipboard, HID...) is ever granted: requests are refused
  // and synchronous checks answer no.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const wb = new Workbench({
    dbFile: process.env.RW_DB ?? dbFileIn(dataDir),
    dataDir,
    mode: 'electron',
    version: app.getVersion(),
    uploadDir: join(dataDir, 'uploads'),
    engineHostEntry: join(here, 'engine-host.js'),
    // A utility process, not child_process.fork: the packaged app's RunAsNode fuse is off.
    forkEngine: forkUtilityProcess,
    renderPdf: printReport,
    settingsFile,
    dataDirSource: userDataOverride ? 'environment' : dataDir === app.getPath('userData') ? 'default' : 'settings',
  });
  workbench = wb;

  ipcMain.handle(CALL_CHANNEL, (e, method: unknown, arg: unknown) => {
    if (!trusted(e)) return refused();
    if (typeof method !== 'string') return { ok: false, error: { code: 'invalid', message: 'method name must be a string' } };
    return wb.call(method, arg);
  });
  ipcMain.handle(PICK_FILE_CHANNEL, async (e, purpose: unknown): Promise<Envelope<FileHandleInfo | null>> => {
    if (!trusted(e)) return refused();
    if (typeof purpose !== 'string' || !(purpose in FILTERS)) {
      return { ok: false, error: { code: 'invalid', message: `purpose must be one of ${Object.keys(FILTERS).join(', ')}` } };
    }
    const r = await dialog.showOpenDialog(win!, purpose === 'data-dir' ? { properties: ['openDirectory', 'createDirectory'] } : { properties: ['openFile'], filters: FILTERS[purpose] });
    if (r.canceled || !r.filePaths[0]) return { ok: true, value: null };
    return { ok: true, value: wb.files.registerPath(r.filePaths[0]) };
  });

  ipcMain.handle(SAVE_FILE_CHANNEL, async (e, download: unknown): Promise<Envelope<{ savedTo: string } | null>> => {
    if (!trusted(e)) return refused();
    // Only an export the API registered (by handle) can be saved; the renderer never names a path.
    const entry = typeof download === 'string' ? wb.files.get(download) : undefined;
    if (!entry) return { ok: false, error: { code: 'not_found', message: 'no such export' } };
    const r = await dialog.showSaveDialog(win!, { defaultPath: join(app.getPath('documents'), entry.name) });
    if (r.canceled || !r.filePath) return { ok: true, value: null };
    copyFileSync(entry.path, r.filePath);
    return { ok: true, value: { savedTo: r.filePath } };
  });

  createWindow(wb);
  // A desktop notification when a run ends or fails (which, and in what words: api/run-notice.ts).
  const notices = runNotifier({
    study: (id) => wb.store.studies.get(id)?.name,
    model: (id) => {
      const m = wb.store.models.get(id);
      return m ? String(m.metadata.displayName ?? m.path.split(/[\\/]/).pop()) : undefined;
    },
  });
  wb.onEvent((event) => {
    const notice = notices.next(event);
    if (notice && Notification.isSupported()) new Notification({ title: notice.title, body: notice.body }).show();
  });
  // First run (no runs stored yet): the demo study runs in the engine process, shows in the Run
  // monitor, and its report is printed with printToPDF (renderPdf above); not awaited. Asked for by
  // the run command (launch.ts sets RW_FIRST_RUN_DEMO=1) and always in the installed app; not when
  // something else drives a development build (the Playwright flow test starts its own data).
  const wantDemo = app.isPackaged || process.env.RW_FIRST_RUN_DEMO === '1';
  void startFirstRunDemo(wb, { disabled: !wantDemo || demoDisabled() });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow(wb);
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
app.on('will-quit', () => workbench?.close());
