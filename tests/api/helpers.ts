import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Workbench, type WorkbenchOptions } from '../../main/api/service';

export const repoRoot = resolve(__dirname, '../..');
export const shared = resolve(repoRoot, '../shared');
export const msst = (lang: 'EN' | 'DK' | 'IT') => join(shared, 'data/msst', `Multilingual_Interpretability_${lang}.xlsx`);

/** A workbench over a fresh SQLite file in a temp dir; `upload` mimics browser mode's upload. */
export function tempWorkbench(mode: 'browser' | 'electron' = 'browser', extra: Partial<WorkbenchOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rw-api-'));
  // the settings file in the temp dir too, never the user's own config directory
  const wb = new Workbench({ dbFile: join(dir, 'wb.sqlite'), dataDir: dir, mode, version: 'test', settingsFile: join(dir, 'config', 'settings.json'), ...extra });
  return {
    wb,
    dir,
    upload: (file: string, name = basename(file)) => wb.files.registerUpload(name, readFileSync(file)).handle,
    uploadBytes: (name: string, bytes: Uint8Array | string) =>
      wb.files.registerUpload(name, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).handle,
    cleanup: () => {
      wb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Unwraps an envelope, failing the test with the API's own message. */
export function ok<T>(env: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!env.ok) throw new Error(`expected success, got: ${env.error.message}`);
  return env.value;
}
