import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../main/server/server';
import { msst, tempWorkbench } from '../api/helpers';
import { http } from './http';


describe('browser-mode server', () => {
  const t = tempWorkbench();
  let srv: RunningServer;
  const staticDir = mkdtempSync(join(tmpdir(), 'rw-static-'));

  beforeAll(async () => {
    mkdirSync(join(staticDir, 'assets'));
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>rw</title>');
    writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    srv = await startServer({ workbench: t.wb, staticDir });
  });
  afterAll(async () => {
    await srv.close();
    t.cleanup();
  });

  const auth = () => ({ authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' });

  it('listens on the loopback address only, with a long random token', () => {
    const addr = srv.server.address();
    expect(addr && typeof addr === 'object' && addr.address).toBe('127.0.0.1');
    expect(srv.token).toMatch(/^[0-9a-f]{64}$/);
    expect(srv.openUrl).toBe(`http://127.0.0.1:${srv.port}/#token=${srv.token}`);
  });

  it('is not reachable on any other interface of this machine', async (ctx) => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return ctx.skip(); // no non-loopback IPv4 interface on this machine
    const result = await new Promise<string>((resolve) => {
      const s = connect({ host: external.address, port: srv.port });
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(result).toBe('ECONNREFUSED');
  });

  it('refuses every API request without the right token with 401', async () => {
    const none = await http(srv.port, '/api/call/listDatasets', { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.message).toMatch(/token/);
    const wrong = await http(srv.port, '/api/call/listDatasets', {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${'0'.repeat(64)}` },
    });
    expect(wrong.status).toBe(401);
    // A token in the query string is only accepted for the event stream, not for calls.
    const query = await http(srv.port, `/api/call/listDatasets?token=${srv.token}`, { method: 'POST', body: '{}' });
    expect(query.status).toBe(401);
    const upload = await http(srv.port, '/api/upload?name=x.csv', { method: 'POST', body: 'text\nhello' });
    expect(upload.status).toBe(401);
    const events = await http(srv.port, '/api/events');
    expect(events.status).toBe(401);
    const good = await http(srv.port, '/api/call/listDatasets', { method: 'POST', body: '{}', headers: auth() });
    expect(good.status).toBe(200);
    expect(JSON.parse(good.body)).toEqual({ ok: true, value: [] });
  });

  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin', async () => {
    const rebound = await http(srv.port, '/api/call/listDatasets', {
      method: 'POST',
      body: '{}',
      headers: { ...auth(), host: `evil.example:${srv.port}` },
    });
    expect(rebound.status).toBe(403);
    const cors = await http(srv.port, '/api/call/listDatasets', {
      method: 'POST',
      body: '{}',
      headers: { ...auth(), origin: 'http://evil.example' },
    });
    expect(cors.status).toBe(403);
  });

  it('uploads a file, imports it through the API and pushes an event on the stream', async () => {
    const events: string[] = [];
    const stream = request({ host: '127.0.0.1', port: srv.port, path: `/api/events?token=${srv.token}`, headers: { host: `127.0.0.1:${srv.port}` } });
    const opened = new Promise<number>((resolve) => {
      stream.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => events.push(c));
        resolve(res.statusCode!);
      });
    });
    stream.end();
    expect(await opened).toBe(200);

    const { readFileSync } = await import('node:fs');
    const up = await http(srv.port, '/api/upload?name=Multilingual_Interpretability_EN.xlsx', {
      method: 'POST',
      body: readFileSync(msst('EN')),
      headers: auth(),
    });
    expect(up.status).toBe(200);
    const handle = JSON.parse(up.body).value.handle as string;
    const imp = await http(srv.port, '/api/call/importDataset', {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ file: handle, format: 'msst' }),
    });
    expect(imp.status).toBe(200);
    const report = JSON.parse(imp.body).value;
    expect(report.examples).toBe(250);
    expect(report.languages).toEqual({ en: 250 });
    await new Promise((r) => setTimeout(r, 100));
    expect(events.join('')).toContain('"type":"datasets-changed"');
    stream.destroy();
  });

  it('answers invalid arguments with 400 and the field', async () => {
    const r = await http(srv.port, '/api/call/listExamples', { method: 'POST', headers: auth(), body: JSON.stringify({ datasetId: -1 }) });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.fields.datasetId).toBeDefined();
    const bad = await http(srv.port, '/api/call/listExamples', { method: 'POST', headers: auth(), body: '{not json' });
    expect(bad.status).toBe(400);
  });

  it('validates the Inspector\'s filter over HTTP like any argument (400, the field named)', async () => {
    const call = (body: unknown) => http(srv.port, '/api/call/listResults', { method: 'POST', headers: auth(), body: JSON.stringify(body) });
    const bad = await call({ runId: 1, filter: { correct: 'maybe' } });
    expect(bad.status).toBe(400);
    expect(Object.keys(JSON.parse(bad.body).error.fields)).toEqual(['filter.correct']);
    const extra = await call({ runId: 1, filter: { language: 'da', path: '/etc/passwd' } });
    expect(extra.status).toBe(400);
    expect(Object.keys(JSON.parse(extra.body).error.fields)).toEqual(['filter']);
    // A valid filter reaches the service: here it answers that the run does not exist.
    const missing = await call({ runId: 424242, filter: { language: 'da', correct: 'incorrect' } });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.fields).toEqual({ runId: 'run 424242 not found' });
  });

  it('serves the renderer with a strict CSP and never outside its folder', async () => {
    const index = await http(srv.port, '/');
    expect(index.status).toBe(200);
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect((await http(srv.port, '/assets/app.js')).status).toBe(200);
    expect((await http(srv.port, '/../package.json')).status).toBe(404);
    expect((await http(srv.port, '/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
  });
});
