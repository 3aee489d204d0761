// Optional model download (hf: URIs and URLs) through node-llama-cpp's resolveModelFile, bounded by our
// own timeout: offline, node-llama-cpp's downloader retries for minutes and we must fail fast.
import { mkdirSync } from 'node:fs';
import { resolveModelFile } from 'node-llama-cpp';

export interface DownloadOptions {
  directory: string;
  signal?: AbortSignal;
  onProgress?: (p: { downloadedSize: number; totalSize: number }) => void;
  /** Give up after this many ms (default 30 s). */
  timeoutMs?: number;
}

export class DownloadError extends Error {
  constructor(public readonly uri: string, reason: string) {
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
