// The browser-mode server tests' one raw HTTP client.
import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A raw HTTP request against the real server on 127.0.0.1 (fetch would not let us forge the Host header)
 * that writes its whole body (in chunks) before reading the answer, as a browser's upload does: a server that gives up by destroying the
 * connection shows up here as ECONNRESET/EPIPE instead of an answer.
 */
export function http(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; chunks?: number; between?: () => Promise<void> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    void (async () => {
      const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
      if (body) {
        const n = opts.chunks ?? 1;
        const step = Math.ceil(body.length / n);
        for (let i = 0; i < body.length; i += step) {
          if (!req.write(body.subarray(i, i + step))) await new Promise((r) => req.once('drain', r));
          if (i === 0 && opts.between) await opts.between();
        }
      }
      req.end();
    })();
  });
}
