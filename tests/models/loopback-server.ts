// A loopback HTTP server (127.0.0.1, node:http) serving one file, for offline download tests: it honours
// Range requests (or, switched off, ignores them like a server without Range support), can drop the
// connection part-way, can serve a copy with one byte flipped, and can pace its bytes so a download takes
// long enough to pause. It records every request's Range header.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackOptions {
  /** Honour `Range: bytes=N-` (206). Off: always 200 with the whole file. */
  range: boolean;
  /** Send this many bytes of the body (counted from the file's start), then destroy the socket. */
  dropAt: number | null;
  /** Serve the file with the byte at this offset flipped (bitwise not). */
  corruptAt: number | null;
  /** Pace the body: this many bytes every `paceMs` (null: all at once). */
  chunk: number | null;
  paceMs: number;
}

export interface LoopbackServer {
  url: string;
  options: LoopbackOptions;
  /** Range header of each request, in order ('' when none). */
  ranges: string[];
  close(): Promise<void>;
}

export async function serveFile(bytes: Buffer, path = '/model.gguf', init: Partial<LoopbackOptions> = {}): Promise<LoopbackServer> {
  const options: LoopbackOptions = { range: true, dropAt: null, corruptAt: null, chunk: null, paceMs: 20, ...init };
  const ranges: string[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    ranges.push(String(req.headers.range ?? ''));
    const body = Buffer.from(bytes);
    if (options.corruptAt !== null) body[options.corruptAt] = ~body[options.corruptAt] & 0xff;
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (options.range && m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Accept-Ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'Content-Length': body.length, ...(options.range ? { 'Accept-Ranges': 'bytes' } : {}) });
    }
    const end = options.dropAt !== null && options.dropAt > start ? options.dropAt : body.length;
    const step = options.chunk ?? body.length;
    let at = start;
    const next = () => {
      if (res.destroyed) return;
      if (at >= end) {
        if (end < body.length) setTimeout(() => req.socket.destroy(), 20);
        else res.end();
        return;
      }
      const n = Math.min(step, end - at);
      res.write(body.subarray(at, at + n));
      at += n;
      if (options.chunk === null) next();
      else setTimeout(next, options.paceMs);
    };
    next();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    options,
    ranges,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
