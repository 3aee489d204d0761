import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CALL_BYTES, startServer, type RunningServer } from '../../main/server/server';
import { ensureDemoModel } from '../../main/runner';
import { tempWorkbench } from '../api/helpers';
import { http } from './http';

describe('browser-mode server under hostile requests', () => {
  const t = tempWorkbench();
  const small = tempWorkbench();
  let srv: RunningServer;
  let tiny: RunningServer; // upload limit 64 KiB
  const staticDir = mkdtempSync(join(tmpdir(), 'rw-static-'));
  const uploads = (dir: string) => (existsSync(join(dir, 'uploads')) ? readdirSync(join(dir, 'uploads')) : []);

  beforeAll(async () => {
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>rw</title>');
    srv = await startServer({ workbench: t.wb, staticDir });
    tiny = await startServer({ workbench: small.wb, staticDir, maxUploadBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await srv.close();
    await tiny.close();
    t.cleanup();
    small.cleanup();
    rmSync(staticDir, { recursive: true, force: true });
  });

  const auth = (s: RunningServer) => ({ authorization: `Bearer ${s.token}`, 'content-type': 'application/json' });

  it('marks every API JSON answer nosniff (success, refusal, error, unknown route)', async () => {
    const answers = [
      await http(srv.port, '/api/call/listDatasets', { method: 'POST', body: '{}', headers: auth(srv) }),
      await http(srv.port, '/api/call/listDatasets', { method: 'POST', body: '{}' }),
      await http(srv.port, '/api/call/listExamples', { method: 'POST', body: '{"datasetId":-1}', headers: auth(srv) }),
      await http(srv.port, '/api/nothing', { headers: auth(srv) }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 400, 404]);
    for (const a of answers) {
      expect(a.headers['content-type']).toMatch(/^application\/json/);
      expect(a.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers a malformed %-escape with 400, in a static path and in a method name', async () => {
    for (const path of ['/%', '/assets/%E0%A4%A', '/%zz.js']) {
      const r = await http(srv.port, path);
      expect(r.status, path).toBe(400);
      expect(JSON.parse(r.body).error.message).toMatch(/malformed/);
    }
    const call = await http(srv.port, '/api/call/list%Datasets', { method: 'POST', body: '{}', headers: auth(srv) });
    expect(call.status).toBe(400);
    expect(call.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers an oversized call body with 413 (no reset), and the connection stays usable', async () => {
    const big = Buffer.alloc(MAX_CALL_BYTES + 2 ** 20, 0x20);
    const r = await http(srv.port, '/api/call/listDatasets', { method: 'POST', body: big, chunks: 16, headers: auth(srv) });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.message).toMatch(/larger than 8388608 bytes/);
    expect((await http(srv.port, '/api/call/listDatasets', { method: 'POST', body: '{}', headers: auth(srv) })).status).toBe(200);
  });

  it('answers an oversized upload with 413 (no reset) and keeps no partial file, with or without Content-Length', async () => {
    const big = Buffer.alloc(200 * 1024, 0x61);
    const declared = await http(tiny.port, '/api/upload?name=big.csv', { method: 'POST', body: big, chunks: 8, headers: auth(tiny) });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error.message).toMatch(/upload larger than 65536 bytes/);
    const chunked = await http(tiny.port, '/api/upload?name=big.csv', {
      method: 'POST',
      body: big,
      chunks: 8,
      headers: { ...auth(tiny), 'transfer-encoding': 'chunked' },
    });
    expect(chunked.status).toBe(413);
    expect(uploads(small.dir)).toEqual([]);
    const fits = await http(tiny.port, '/api/upload?name=ok.csv', { method: 'POST', body: 'text,label\nhi,pos\n', headers: auth(tiny) });
    expect(fits.status).toBe(200);
  });

  it('streams an upload to a file as it arrives (not held whole in memory), then registers it', async () => {
    const body = Buffer.alloc(4 * 2 ** 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    let seenWhileSending = 0;
    const r = await http(srv.port, '/api/upload?name=stream.bin', {
      method: 'POST',
      body,
      chunks: 4,
      headers: { ...auth(srv), 'transfer-encoding': 'chunked' },
      // After the first chunk, before the rest is sent: the bytes are already on disk.
      between: async () => {
        for (let i = 0; i < 100 && seenWhileSending === 0; i++) {
          await new Promise((res) => setTimeout(res, 20));
          for (const d of uploads(t.dir)) {
            const f = join(t.dir, 'uploads', d, 'stream.bin');
            if (existsSync(f)) seenWhileSending = statSync(f).size;
          }
        }
      },
    });
    expect(r.status).toBe(200);
    expect(seenWhileSending).toBeGreaterThan(0);
    expect(seenWhileSending).toBeLessThan(body.length);
    const info = JSON.parse(r.body).value as { handle: string; size: number; name: string };
    expect(info).toMatchObject({ name: 'stream.bin', size: body.length });
    expect(readFileSync(t.wb.files.get(info.handle)!.path).equals(body)).toBe(true);
  });

  it('registers an uploaded model by moving it into the models folder: one copy on disk, none left in uploads', async () => {
    const model = await ensureDemoModel();
    const bytes = readFileSync(model);
    const up = await http(srv.port, '/api/upload?name=rw-demo.gguf', { method: 'POST', body: bytes, chunks: 4, headers: auth(srv) });
    expect(up.status).toBe(200);
    const handle = JSON.parse(up.body).value.handle as string;
    const uploadedPath = t.wb.files.get(handle)!.path;
    const inode = statSync(uploadedPath).ino;
    const reg = await http(srv.port, '/api/call/registerModel', { method: 'POST', body: JSON.stringify({ file: handle }), headers: auth(srv) });
    expect(reg.status).toBe(200);
    const rec = JSON.parse(reg.body).value.model as { path: string };
    expect(rec.path.startsWith(join(t.dir, 'models'))).toBe(true);
    // Moved (same inode), not copied; the upload is gone and its folder removed.
    expect(statSync(rec.path).ino).toBe(inode);
    expect(existsSync(uploadedPath)).toBe(false);
    expect(uploads(t.dir).filter((d) => readdirSync(join(t.dir, 'uploads', d)).some((f) => f.endsWith('.gguf')))).toEqual([]);
    expect(readdirSync(join(t.dir, 'models'))).toHaveLength(1);
    // The handle follows the file: inspecting it again still works.
    const again = await http(srv.port, '/api/call/inspectModel', { method: 'POST', body: JSON.stringify({ file: handle }), headers: auth(srv) });
    expect(again.status).toBe(200);
  });

  it('registers a model chosen in the app\'s file dialog where it is (Electron): no copy, the file untouched', async () => {
    const e = tempWorkbench('electron');
    try {
      const model = await ensureDemoModel();
      const before = statSync(model);
      const h = e.wb.files.registerPath(model);
      const env = await e.wb.call('registerModel', { file: h.handle });
      if (!env.ok) throw new Error(env.error.message);
      expect((env.value as { model: { path: string } }).model.path).toBe(model);
      expect(existsSync(join(e.dir, 'models'))).toBe(false);
      expect(statSync(model).ino).toBe(before.ino);
      expect(e.wb.files.get(h.handle)!.path).toBe(model);
    } finally {
      e.cleanup();
    }
  });
});

