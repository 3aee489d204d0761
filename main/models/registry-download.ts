// Model downloads. hf: addresses go through node-llama-cpp's resolveModelFile (downloadModel), bounded by our own
// timeout: offline, node-llama-cpp's downloader retries for minutes and we must fail fast. Catalogue entries and
// https addresses go through downloadVerified below: resumable, and checked against a published SHA-256.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { once } from 'node:events';
import { resolveModelFile } from 'node-llama-cpp';

export interface DownloadOptions {
  directory: string;
  signal?: AbortSignal;
  onProgress?: (p: { downloadedSize: number; totalSize: number }) => void;
  /** Give up after this many ms (default 30 s). */
  timeoutMs?: number;
}

export class DownloadError extends Error {
  constructor(public readonly uri: string, public readonly reason: string) {
    super(`${uri}: ${reason}`);
    this.name = 'DownloadError';
  }
}

export async function downloadModel(uri: string, opts: DownloadOptions): Promise<string> {
  if (!/^(hf:|https?:\/\/)/.test(uri)) throw new DownloadError(uri, 'expected an hf: URI or an http(s) URL');
  mkdirSync(opts.directory, { recursive: true });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctrl.abort(new Error('timeout'));
      reject(new DownloadError(uri, `no result within ${timeoutMs} ms (offline or unreachable?)`));
    }, timeoutMs);
  });
  const cancelled = new Promise<never>((_, reject) => {
    ctrl.signal.addEventListener('abort', () => {
      if (opts.signal?.aborted) reject(new DownloadError(uri, 'cancelled'));
    }, { once: true });
  });
  if (opts.signal?.aborted) onAbort();
  const work = resolveModelFile(uri, {
    directory: opts.directory,
    download: 'auto',
    cli: false,
    signal: ctrl.signal,
    onProgress: opts.onProgress ? (s) => opts.onProgress!({ downloadedSize: s.downloadedSize, totalSize: s.totalSize }) : undefined,
  }).catch((e: unknown) => {
    throw new DownloadError(uri, e instanceof Error ? e.message : String(e));
  });
  // The losing promises may still reject later: swallow those so they never surface as unhandled.
  work.catch(() => {});
  timeout.catch(() => {});
  cancelled.catch(() => {});
  try {
    return await Promise.race([work, timeout, cancelled]);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

// ---- Verified, resumable downloads (the model catalogue and https addresses) ----
//
// The file grows as `<name>.part` under the models directory, beside a sidecar `<name>.part.json` that says what
// it is a part of (URL, expected size and SHA-256). A download that stops — paused, connection lost, app closed —
// keeps both; the next download of the same URL hashes the part again and asks the server for the rest with a
// Range request. A server that ignores Range (answers 200 with the whole file) restarts the part from byte 0.
// The SHA-256 is computed while the bytes stream in; only a complete file whose hash matches the published one
// becomes `<name>` (a rename), and only that file is ever handed on to be registered. A mismatch deletes the part.

export interface DownloadProgress {
  /** checking: hashing the part kept from before; downloading; verifying: the last bytes are in, comparing hashes. */
  phase: 'checking' | 'downloading' | 'verifying';
  downloaded: number;
  total: number | null;
  /** Bytes per second over the last few seconds. */
  rate: number;
  etaSeconds: number | null;
  /** Where this attempt started (bytes kept from before). */
  resumedFrom: number;
}

export interface VerifiedDownloadOptions {
  /** http(s) address of the file. */
  url: string;
  directory: string;
  /** The file's name under `directory` (a plain name, no separators). */
  file: string;
  /** The published SHA-256 (hex); null: no hash to check against (the caller got the user's consent). */
  sha256: string | null;
  /** The published size in bytes, when known. */
  expectedBytes: number | null;
  /** Aborting with reason 'cancel' deletes the part; any other reason (e.g. 'pause') keeps it. */
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Give up when no byte arrives for this long (default 30 s); the part is kept. */
  idleTimeoutMs?: number;
}

export interface VerifiedDownload {
  path: string;
  bytes: number;
  sha256: string;
  /** The hash matched the published one (false: none was published). */
  verified: boolean;
  resumedFrom: number;
  /** The server ignored the Range request and the part was started again from byte 0. */
  restartedFromZero: boolean;
}

/** The download stopped with good bytes kept in the part file: downloading again resumes. */
export class DownloadInterrupted extends DownloadError {
  constructor(uri: string, reason: string, public readonly partBytes: number) {
    super(uri, reason);
    this.name = 'DownloadInterrupted';
  }
}

/** The complete file's SHA-256 is not the published one: the part was deleted. */
export class HashMismatchError extends DownloadError {
  constructor(uri: string, public readonly expected: string, public readonly actual: string) {
    super(uri, `SHA-256 mismatch: expected ${expected}, got ${actual}; the downloaded file is corrupted or is not the published file, and was deleted`);
    this.name = 'HashMismatchError';
  }
}

interface Sidecar {
  url: string;
  file: string;
  sha256: string | null;
  expectedBytes: number | null;
}

const partPath = (dir: string, file: string) => join(dir, `${file}.part`);
const sidecarPath = (dir: string, file: string) => join(dir, `${file}.part.json`);

function checkFileName(file: string): void {
  if (!/^[\w][\w.+-]*$/.test(file) || file.includes('..')) throw new DownloadError(file, 'not a plain file name');
}

/** What is kept of an unfinished download of `file`, if anything. */
export function partialDownload(directory: string, file: string): (Sidecar & { bytes: number }) | null {
  checkFileName(file);
  const part = partPath(directory, file);
  const side = sidecarPath(directory, file);
  if (!existsSync(part) || !existsSync(side)) return null;
  try {
    const s = JSON.parse(readFileSync(side, 'utf8')) as Sidecar;
    return { ...s, bytes: statSync(part).size };
  } catch {
    return null;
  }
}

/** Deletes an unfinished download's part and sidecar. */
export function discardPartialDownload(directory: string, file: string): void {
  checkFileName(file);
  rmSync(partPath(directory, file), { force: true });
  rmSync(sidecarPath(directory, file), { force: true });
}

async function hashFile(path: string, hash: Hash): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n;
}

/** GET with redirects followed (Hugging Face answers resolve URLs with a redirect to its CDN); headers go along. */
function get(url: string, headers: Record<string, string>, signal: AbortSignal, idleMs: number, hops = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new DownloadError(url, 'not a valid URL'));
      return;
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      reject(new DownloadError(url, 'only http(s) addresses can be downloaded'));
      return;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (hops >= 5) return reject(new DownloadError(url, 'too many redirects'));
        get(new URL(res.headers.location, u).toString(), headers, signal, idleMs, hops + 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.setTimeout(idleMs, () => req.destroy(new Error(`no data for ${Math.round(idleMs / 1000)} s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Bytes per second over a sliding window of recent samples. */
function rateMeter(windowMs = 3000) {
  const samples: { t: number; n: number }[] = [];
  return (n: number): number => {
    const t = Date.now();
    samples.push({ t, n });
    while (samples.length > 2 && t - samples[0].t > windowMs) samples.shift();
    const first = samples[0];
    const dt = (t - first.t) / 1000;
    return dt > 0 ? (n - first.n) / dt : 0;
  };
}

export async function downloadVerified(opts: VerifiedDownloadOptions): Promise<VerifiedDownload> {
  const { url, directory, file } = opts;
  checkFileName(file);
  mkdirSync(directory, { recursive: true });
  const part = partPath(directory, file);
  const side = sidecarPath(directory, file);
  const finalPath = join(directory, file);
  const signal = opts.signal ?? new AbortController().signal;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  const expected = opts.sha256?.toLowerCase() ?? null;

  // a part of something else (another URL or hash) is not ours to continue
  const kept = partialDownload(directory, file);
  if (existsSync(part) && (!kept || kept.url !== url || kept.sha256 !== expected)) discardPartialDownload(directory, file);
  writeFileSync(side, JSON.stringify({ url, file, sha256: expected, expectedBytes: opts.expectedBytes } satisfies Sidecar));

  const report = (p: Omit<DownloadProgress, 'rate' | 'etaSeconds'> & { rate?: number }) => {
    const rate = p.rate ?? 0;
    const eta = p.total !== null && rate > 0 ? Math.max(0, (p.total - p.downloaded) / rate) : null;
    opts.onProgress?.({ ...p, rate, etaSeconds: eta });
  };

  let hash = createHash('sha256');
  let offset = 0;
  if (existsSync(part)) {
    report({ phase: 'checking', downloaded: 0, total: opts.expectedBytes, resumedFrom: 0 });
    offset = await hashFile(part, hash);
    if (opts.expectedBytes !== null && offset > opts.expectedBytes) {
      // longer than the file can be: not good bytes
      discardPartialDownload(directory, file);
      writeFileSync(side, JSON.stringify({ url, file, sha256: expected, expectedBytes: opts.expectedBytes } satisfies Sidecar));
      hash = createHash('sha256');
      offset = 0;
    }
  }
  const resumedFrom = offset;
  let restartedFromZero = false;
  let total: number | null = opts.expectedBytes;
  let received = 0;

  const stopped = (e: unknown): never => {
    const have = existsSync(part) ? statSync(part).size : 0;
    const of = total !== null ? ` of ${total}` : '';
    if (signal.aborted) {
      if (signal.reason === 'cancel') {
        discardPartialDownload(directory, file);
        throw new DownloadError(url, 'cancelled; the partial file was deleted');
      }
      throw new DownloadInterrupted(url, `paused at ${have}${of} bytes; resuming continues from there`, have);
    }
    if (e instanceof DownloadError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new DownloadInterrupted(url, `the connection was lost at ${have}${of} bytes (${why}); the ${have} bytes received are kept and resuming continues from there`, have);
  };

  const complete = opts.expectedBytes !== null && offset === opts.expectedBytes;
  if (!complete) {
    let res: IncomingMessage;
    try {
      res = await get(url, offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal, idleMs);
    } catch (e) {
      return stopped(e);
    }
    const status = res.statusCode ?? 0;
    const length = Number(res.headers['content-length'] ?? NaN);
    if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== offset) {
        res.resume();
        discardPartialDownload(directory, file);
        throw new DownloadError(url, `the server answered the Range request for bytes ${offset}- with "${res.headers['content-range'] ?? 'no Content-Range'}"; the partial file was deleted, download again to start over`);
      }
      if (m[3] !== '*') total = Number(m[3]);
    } else if (status === 200) {
      if (offset > 0) {
        // the server ignores Range: what it sends is the whole file, from byte 0
        restartedFromZero = true;
        hash = createHash('sha256');
        offset = 0;
        rmSync(part, { force: true });
      }
      if (Number.isFinite(length)) total = length;
    } else if (status === 416 && offset > 0) {
      // nothing after `offset`: the part may be the whole file (the hash decides), or longer than it
      res.resume();
      const m = /^bytes \*\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== offset) {
        discardPartialDownload(directory, file);
        throw new DownloadError(url, `the server has no bytes after ${offset} (HTTP 416) and the kept part does not match its size; the partial file was deleted, download again to start over`);
      }
      total = offset;
    } else {
      res.resume();
      throw new DownloadInterrupted(url, `the server answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, offset);
    }
    if (opts.expectedBytes !== null && total !== null && total !== opts.expectedBytes) {
      res.resume();
      discardPartialDownload(directory, file);
      throw new DownloadError(url, `the server offers ${total} bytes but the published file has ${opts.expectedBytes}: not the catalogue's file; nothing was kept`);
    }
    if (status !== 416) {
      const meter = rateMeter();
      let last = 0;
      const ws = createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' });
      let writeError: Error | null = null;
      ws.on('error', (e) => void (writeError = e));
      report({ phase: 'downloading', downloaded: offset, total, resumedFrom });
      // read, hash and write chunk by chunk; when the connection breaks, what was received is flushed to the part
      // before anything else (a pipeline would destroy the file stream and drop its buffered bytes)
      let failure: unknown = null;
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          if (total !== null && offset + received + chunk.length > total) {
            failure = new DownloadError(url, `the server sent more than the ${total} bytes it announced; the partial file was deleted`);
            res.destroy();
            break;
          }
          received += chunk.length;
          hash.update(chunk);
          if (!ws.write(chunk)) await once(ws, 'drain');
          if (writeError) throw writeError;
          const now = Date.now();
          const downloaded = offset + received;
          const rate = meter(downloaded);
          if (now - last >= 250) {
            last = now;
            report({ phase: 'downloading', downloaded, total, rate, resumedFrom });
          }
        }
      } catch (e) {
        failure = e;
      }
      await new Promise<void>((resolve) => ws.end(() => resolve()));
      if (writeError) failure ??= writeError;
      if (failure instanceof DownloadError && /more than/.test(failure.reason)) {
        discardPartialDownload(directory, file);
        throw failure;
      }
      if (failure !== null) return stopped(failure);
      if (signal.aborted) return stopped(signal.reason);
      const have = offset + received;
      if (total !== null && have < total) return stopped(new Error(`the server closed the connection after ${have} bytes`));
    }
  }
  const size = statSync(part).size;
  report({ phase: 'verifying', downloaded: size, total: size, resumedFrom });
  const actual = hash.digest('hex');
  if (expected !== null && actual !== expected) {
    discardPartialDownload(directory, file);
    throw new HashMismatchError(url, expected, actual);
  }
  renameSync(part, finalPath);
  rmSync(side, { force: true });
  return { path: finalPath, bytes: size, sha256: actual, verified: expected !== null, resumedFrom, restartedFromZero };
}
