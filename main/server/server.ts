import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { FileHandleInfo } from '../api/files';
import type { Workbench } from '../api/service';
import { CONTENT_SECURITY_POLICY } from './csp';

/**
 * Browser mode: serves the built renderer and the workbench API over HTTP on the loopback
 * interface only. Every /api request must carry the random access token (header, or `?token=` for
 * the event stream, which EventSource cannot give headers); the Host header must name the loopback
 * address, which defeats DNS-rebinding pages that would otherwise reach 127.0.0.1 under their own name.
 */
export interface ServerOptions {
  workbench: Workbench;
  /** The built renderer (out/renderer); null serves the API only. */
  staticDir: string | null;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Given for tests; default 32 random bytes. */
  token?: string;
  maxUploadBytes?: number;
}

export interface RunningServer {
  url: string;
  /** The URL with the token, as printed for the user. */
  openUrl: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

/** The only address browser mode listens on. */
export const LOOPBACK = '127.0.0.1';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(32).toString('hex');
  const tokenBuf = Buffer.from(token);
  const maxUpload = opts.maxUploadBytes ?? 16 * 2 ** 30;
  const wb = opts.workbench;
  let port = 0;

  const tokenOk = (given: string | null | undefined) => {
    if (!given) return false;
    const b = Buffer.from(given);
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? '';
    if (host !== `${LOOPBACK}:${port}` && host !== `localhost:${port}`) {
      return send(res, 403, { error: { code: 'forbidden', message: 'wrong Host header: browser mode answers only on 127.0.0.1' } });
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname.startsWith('/api/')) {
      const origin = req.headers.origin;
      if (origin && origin !== `http://${host}`) {
        return send(res, 403, { error: { code: 'forbidden', message: `cross-origin request from ${origin} refused` } });
      }
      const auth = req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? (req.headers['x-workbench-token'] as string | undefined);
      const viaQuery = req.method === 'GET' && url.pathname === '/api/events' ? url.searchParams.get('token') : null;
      if (!tokenOk(auth) && !tokenOk(viaQuery)) {
        return send(res, 401, { error: { code: 'unauthorized', message: 'missing or wrong access token' } });
      }
      return api(req, res, url);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: { code: 'method', message: 'method not allowed' } });
    return serveStatic(res, url.pathname);
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method === 'POST' && url.pathname.startsWith('/api/call/')) {
      const method = decodePath(url.pathname.slice('/api/call/'.length));
      if (method === null) return send(res, 400, { ok: false, error: { code: 'invalid', message: 'malformed %-escape in the method name' } });
      const body = await readBody(req, MAX_CALL_BYTES);
      if (body === null) return send(res, 413, tooLarge(MAX_CALL_BYTES, 'request body'));
      let arg: unknown;
      try {
        arg = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch (e) {
        return send(res, 400, { ok: false, error: { code: 'invalid', message: `request body: ${(e as Error).message}` } });
      }
      const env = await wb.call(method, arg);
      const status = env.ok ? 200 : env.error.code === 'invalid' ? 400 : env.error.code === 'not_found' ? 404 : env.error.code === 'unavailable' ? 501 : 500;
      return send(res, status, env);
    }
    if (req.method === 'POST' && url.pathname === '/api/upload') {
      const name = url.searchParams.get('name') ?? 'upload';
      const r = await receiveUpload(wb, req, name, maxUpload);
      if (r === null) return send(res, 413, tooLarge(maxUpload, 'upload'));
      return send(res, 200, { ok: true, value: r });
    }
    if (req.method === 'GET' && url.pathname.startsWith('/api/download/')) {
      // Only files the API itself registered (exports) can be fetched, by their opaque handle.
      const entry = wb.files.get(url.pathname.slice('/api/download/'.length));
      if (!entry || !existsSync(entry.path)) return send(res, 404, { ok: false, error: { code: 'not_found', message: 'no such download' } });
      res.writeHead(200, {
        'content-type': MIME[extname(entry.name)] ?? (entry.name.endsWith('.pdf') ? 'application/pdf' : 'application/octet-stream'),
        'content-disposition': `attachment; filename="${entry.name.replace(/[^\w.-]/g, '_')}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      createReadStream(entry.path).pipe(res);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
      res.write(': connected\n\n');
      const off = wb.onEvent((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      req.on('close', () => {
        clearInterval(ping);
        off();
      });
      return;
    }
    return send(res, 404, { ok: false, error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } });
  };

  const serveStatic = (res: ServerResponse, pathname: string) => {
    if (!opts.staticDir) return send(res, 404, { error: { code: 'not_found', message: 'no renderer built (run npm run build:renderer)' } });
    const decoded = decodePath(pathname);
    if (decoded === null) return send(res, 400, { error: { code: 'invalid', message: 'malformed %-escape in the path' } });
    const rel = pathname === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
    const file = normalize(join(opts.staticDir, rel));
    if (!file.startsWith(normalize(opts.staticDir) + sep) || !existsSync(file) || !statSync(file).isFile()) {
      return send(res, 404, { error: { code: 'not_found', message: `not found: ${pathname}` } });
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  };

  const server = createServer((req, res) => {
    handler(req, res).catch((e) => send(res, 500, { ok: false, error: { code: 'failed', message: String(e) } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${LOOPBACK}:${port}/`;
  return {
    url,
    openUrl: `${url}#token=${token}`,
    port,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown) {
  if (res.headersSent) return res.end();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(JSON.stringify(body));
}

/** Largest JSON body of an API call. */
export const MAX_CALL_BYTES = 8 * 2 ** 20;

const tooLarge = (limit: number, what: string) => ({ ok: false, error: { code: 'invalid', message: `${what} larger than ${limit} bytes` } });

/** decodeURIComponent, or null for a malformed %-escape (a client error, not a server fault). */
function decodePath(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/**
 * The body, or null when it is larger than `limit`. Past the limit the rest is read and dropped
 * rather than the connection destroyed: a client still sending would otherwise see a reset
 * instead of the 413 answer.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) {
      chunks.length = 0;
      continue;
    }
    chunks.push(c);
  }
  return size > limit ? null : Buffer.concat(chunks);
}

/**
 * Streams an upload to a file in the upload directory (never whole in memory). Null when it grew
 * past `limit`: the partial file is removed and the rest of the body drained (see readBody).
 */
async function receiveUpload(wb: Workbench, req: IncomingMessage, name: string, limit: number): Promise<FileHandleInfo | null> {
  const declared = Number(req.headers['content-length']);
  const sink = await wb.files.beginUpload(name);
  let size = 0;
  let over = Number.isFinite(declared) && declared > limit;
  if (over) await sink.abort();
  try {
    for await (const c of req as AsyncIterable<Buffer>) {
      if (over) continue;
      size += c.length;
      if (size > limit) {
        over = true;
        await sink.abort();
        continue;
      }
      await sink.write(c);
    }
  } catch (e) {
    await sink.abort();
    throw e;
  }
  return over ? null : sink.commit();
}
