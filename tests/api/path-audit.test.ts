/**
 * The API path audit (issue 11 item 1): no field of any operation makes the engine read a file the caller
 * names. Every field that could carry a path takes a handle, an id or a built-in name instead, and every
 * refusal leaves the file unread: no error, field message or event carries its content. One test per field,
 * through Workbench.call (what Electron IPC and browser mode both call) and, once, through the HTTP server.
 *
 * The secret files hold a marker that must never come back; /proc/self/environ is checked against this
 * process's own environment (the engine process inherits it).
 *
 * The audit, field by field (main/api/catalogue.ts requests; every object is strict, so an extra "path" or
 * "dir" key is refused too):
 *   importDataset.file, .labels; inspectModel.file; registerModel.file      handles only (tested below)
 *   downloadModel.address     hf: address or https URL, no ".." segment (the file lands in the models dir)
 *   validateStudyConfig / saveStudy / previewPrompt .config:
 *     models[i].path          refused (registered models by id)
 *     dataset.builtin         a catalogue key, never a path
 *     task.definitions        built-in name, definitions text, or {handle}; a path string is refused unread
 *   startRun                  reads only the stored configuration (definitions stored as text)
 *   exportRun                 the engine chooses the directory; no path field
 *   the rest (ids, offsets, limits, formats, language codes, a dataset's display name, the Results filters'
 *   language/indicator/model strings) are ids or values that are compared or stored, never opened.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../main/server/server';
import type { StudyRecord } from '../../main/store/types';
import { ok, tempWorkbench } from './helpers';

const MARK = 'SECRET-MARK-7f3a';
const dir = mkdtempSync(join(tmpdir(), 'rw-audit-'));
/** A short file read whole would come back whole; a JSON one would parse; a text one would show in a parser's excerpt. */
const SECRET_TEXT = join(dir, 'shadow');
const SECRET_JSON = join(dir, 'secret.json');
writeFileSync(SECRET_TEXT, `root:${MARK}:19000:0:99999:7:::\n`);
writeFileSync(SECRET_JSON, JSON.stringify([{ label: MARK, definition: MARK }]));
const ENVIRON = '/proc/self/environ';
// a marker in the environment the engine process inherits (/proc/self/environ would show it), and this
// process's other values long enough to be recognisable (paths left out: messages may name directories)
process.env.RW_AUDIT_MARK = `${MARK}-env`;
const ENV_VALUES = Object.values(process.env).filter((v): v is string => typeof v === 'string' && v.length >= 12 && !v.includes('/'));

/** Nothing that came back (value, error, field messages) carries file content. */
function noContent(x: unknown) {
  const s = JSON.stringify(x);
  expect(s).not.toContain(MARK);
  expect(s).not.toContain('root:');
  for (const v of ENV_VALUES) expect(s.includes(v), `environment value leaked: ${v.slice(0, 20)}...`).toBe(false);
}

const studyWith = (patch: { task?: object; models?: object[]; dataset?: object }) => ({
  name: 'audit',
  task: { kind: 'forced-labour', indicator: 11 },
  dataset: { builtin: 'demo-news' },
  models: [{ id: 1 }],
  ...patch,
});

describe('API path audit: no operation reads a file the caller names', () => {
  const t = tempWorkbench();
  const events: unknown[] = [];
  t.wb.onEvent((e) => events.push(e));
  afterAll(() => t.cleanup());

  /** Calls `method` and expects a refusal (not a value), with no file content anywhere in it. */
  async function refused(method: string, arg: unknown, field?: string) {
    const env = await t.wb.call(method, arg);
    noContent(env);
    expect(env.ok, `${method} ${JSON.stringify(arg).slice(0, 120)} was accepted`).toBe(false);
    if (!env.ok && field) expect(Object.keys(env.error.fields ?? {}), env.error.message).toContain(field);
    return env;
  }
  /** validateStudyConfig answers ok with field messages: it must say invalid, naming the field, without content. */
  async function invalidConfig(config: unknown, field: string) {
    const env = await t.wb.call('validateStudyConfig', { config });
    noContent(env);
    if (env.ok) {
      const v = env.value as { ok: boolean; fields: Record<string, string> };
      expect(v.ok).toBe(false);
      expect(Object.keys(v.fields)).toContain(field);
    } else {
      expect(Object.keys(env.error.fields ?? {})).toContain(field);
    }
  }

  describe('task.definitions: a built-in name, definitions text or a handle, never a path', () => {
    for (const path of [SECRET_TEXT, SECRET_JSON, ENVIRON, '../shared/data/rafola/definitions.json', 'file:///etc/passwd']) {
      it(`validateStudyConfig, saveStudy, previewPrompt refuse "definitions": ${path.replace(dir, '<tmp>')}`, async () => {
        const config = studyWith({ task: { kind: 'forced-labour', indicator: 11, definitions: path } });
        await invalidConfig(config, 'task.definitions');
        await refused('saveStudy', { name: 'audit', config }, 'task.definitions');
        await refused('previewPrompt', { config }, 'task.definitions');
      });
    }

    it('a path given as a handle is an unknown handle, unread', async () => {
      for (const handle of [SECRET_TEXT, ENVIRON, 'a'.repeat(32)]) {
        const config = studyWith({ task: { kind: 'forced-labour', indicator: 11, definitions: { handle } } });
        await invalidConfig(config, 'task.definitions');
        await refused('saveStudy', { name: 'audit', config }, 'task.definitions');
        await refused('previewPrompt', { config }, 'task.definitions');
      }
      // a handle with a path beside it
      const h = t.upload(SECRET_JSON);
      await refused('saveStudy', { name: 'audit', config: studyWith({ task: { kind: 'forced-labour', indicator: 11, definitions: { handle: h, path: SECRET_TEXT } } }) }, 'task.definitions');
    });

    it("a chosen (uploaded) file that is not valid definitions is refused without quoting it", async () => {
      for (const file of [SECRET_TEXT, SECRET_JSON]) {
        const config = studyWith({ task: { kind: 'forced-labour', indicator: 11, definitions: { handle: t.upload(file) } } });
        await invalidConfig(config, 'task.definitions');
        const env = await refused('saveStudy', { name: 'audit', config }, 'task.definitions');
        // named by the user's file name, not by our upload copy's path
        if (!env.ok) expect(env.error.message).toMatch(/^task\.definitions: indicator definitions (shadow|secret\.json): /);
        if (!env.ok) expect(env.error.message).not.toContain('uploads');
        await refused('previewPrompt', { config }, 'task.definitions');
      }
    });

    it('definitions text that smuggles a path field is refused', async () => {
      const config = studyWith({ task: { kind: 'forced-labour', indicator: 11, definitions: { source: 'file', name: 'x', path: SECRET_JSON, indicators: [] } } });
      await invalidConfig(config, 'task.definitions.path');
      await refused('saveStudy', { name: 'audit', config }, 'task.definitions.path');
    });
  });

  it('models[i].path: refused by validateStudyConfig, saveStudy and previewPrompt', async () => {
    for (const path of [SECRET_TEXT, ENVIRON]) {
      const config = studyWith({ models: [{ path }] });
      await invalidConfig(config, 'models[0].path');
      await refused('saveStudy', { name: 'audit', config }, 'models[0].path');
      await refused('previewPrompt', { config }, 'models[0].path');
    }
  });

  it('dataset.builtin: a catalogue name, never looked up as a path', async () => {
    for (const name of [SECRET_TEXT, ENVIRON, '../../../../etc/passwd', '__proto__', 'constructor']) {
      const config = studyWith({ dataset: { builtin: name } });
      const env = await refused('previewPrompt', { config });
      if (!env.ok) expect(env.error.message).toMatch(/no built-in dataset/);
    }
  });

  it('importDataset.file and .labels, inspectModel.file, registerModel.file: handles only', async () => {
    for (const path of [SECRET_TEXT, ENVIRON]) {
      await refused('importDataset', { file: path, format: 'csv' }, 'file');
      await refused('importDataset', { file: t.upload(SECRET_TEXT), format: 'msst', labels: path }, 'labels');
      await refused('inspectModel', { file: path }, 'file');
      await refused('registerModel', { file: path }, 'file');
      // a path beside the handle is an unknown key
      await refused('importDataset', { file: 'a'.repeat(32), format: 'csv', path });
    }
  });

  it('downloadModel.address: an hf: address or https URL, never a local path or a path that climbs out', async () => {
    for (const address of [SECRET_TEXT, `file://${SECRET_TEXT}`, 'hf:user/repo/../../../../tmp/x.gguf', 'hf:user/repo/..', 'https://example.org/../x.gguf', 'https://example.org/a\\..\\b.gguf']) {
      await refused('downloadModel', { address }, 'address');
    }
  });

  it('exportRun writes where the engine decides: a directory or path from the caller is an unknown key', async () => {
    await refused('exportRun', { runId: 1, format: 'csv', dir: dir });
    await refused('exportRun', { runId: 1, format: 'csv', path: join(dir, 'x.csv') });
  });

  it('startRun of a stored study that names a definitions path (an old database): refused, the file unread', async () => {
    // what an older version stored: a path in task.definitions (written into the database directly)
    const saved = ok(await t.wb.call('saveStudy', { name: 'audit', config: studyWith({}) })) as { study: StudyRecord };
    const db = new Database(t.wb.options.dbFile);
    const cfg = { ...(saved.study.config as object), task: { kind: 'forced-labour', labels: ['yes', 'no'], indicator: 11, definitions: SECRET_JSON } };
    db.prepare('UPDATE studies SET config = ? WHERE id = ?').run(JSON.stringify(cfg), saved.study.id);
    db.close();
    const env = await t.wb.call('startRun', { studyId: saved.study.id });
    // whatever the answer, the study's error is about the field and carries nothing of the file
    await new Promise((r) => setTimeout(r, 1500));
    noContent(env);
    noContent(events);
    // the refusal comes back as startRun's own error (the study made no run), or as a run's error event
    const errors = events.filter((e) => (e as { type: string }).type === 'run-error').map((e) => (e as { message: string }).message);
    if (!env.ok) errors.push(env.error.message);
    expect(errors.some((m) => m.includes('task.definitions') && m.includes('is not built-in definitions'))).toBe(true);
  });
});

describe('API path audit through browser mode (HTTP)', () => {
  const t = tempWorkbench();
  let srv: RunningServer;
  const staticDir = mkdtempSync(join(tmpdir(), 'rw-static-'));
  beforeAll(async () => {
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>rw</title>');
    srv = await startServer({ workbench: t.wb, staticDir });
  });
  afterAll(async () => {
    await srv.close();
    t.cleanup();
  });

  const post = (method: string, body: unknown) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', port: srv.port, path: `/api/call/${method}`, method: 'POST', headers: { host: `127.0.0.1:${srv.port}`, authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(data);
    });

  it('previewPrompt and saveStudy with "definitions": a path answer a refusal without the file', async () => {
    for (const path of [SECRET_TEXT, ENVIRON]) {
      for (const [method, arg] of [
        ['previewPrompt', { config: studyWith({ task: { kind: 'forced-labour', indicator: 11, definitions: path } }) }],
        ['saveStudy', { name: 'audit', config: studyWith({ task: { kind: 'forced-labour', indicator: 11, definitions: path } }) }],
      ] as const) {
        const r = await post(method, arg);
        noContent(r.body);
        const env = JSON.parse(r.body) as { ok: boolean; error?: { fields?: Record<string, string> } };
        expect(env.ok).toBe(false);
        expect(Object.keys(env.error?.fields ?? {})).toContain('task.definitions');
      }
    }
  });
});
