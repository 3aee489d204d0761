import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatasetError } from './types';

/** The raw bytes of a dataset file plus what every ParsedDataset records about its source. */
export interface SourceFile {
  /** As given by the caller (used in error messages, so they name the file the user typed). */
  file: string;
  absPath: string;
  bytes: Uint8Array;
  sha256: string;
}

export function readSource(file: string): SourceFile {
  const absPath = path.resolve(file);
  let bytes: Uint8Array;
  try {
    if (statSync(absPath).isDirectory()) throw new DatasetError(file, 'is a directory, not a file');
    bytes = readFileSync(absPath);
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(file, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`);
  }
  if (bytes.length === 0) throw new DatasetError(file, 'the file is empty');
  return { file, absPath, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * A text dataset file (CSV, JSONL) read in chunks instead of whole: what every ParsedDataset records
 * about its source, after one pass that hashed it and checked it is UTF-8 and not blank. The text
 * itself is read again, chunk by chunk, by `textChunks`; memory stays at one chunk whatever the
 * file's size.
 */
export interface TextSource {
  file: string;
  absPath: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** Bytes read at a time from a text source (and the largest string held for it). */
export const TEXT_CHUNK_BYTES = 1 << 20;

/** Opens a text dataset file; same checks and messages, in the same order, as readSource + decodeUtf8. */
export function openTextSource(file: string): TextSource {
  const absPath = path.resolve(file);
  let size: number;
  let mtimeMs: number;
  try {
    const st = statSync(absPath);
    if (st.isDirectory()) throw new DatasetError(file, 'is a directory, not a file');
    size = st.size;
    mtimeMs = st.mtimeMs;
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    throw unreadable(file, e);
  }
  if (size === 0) throw new DatasetError(file, 'the file is empty');
  const hash = createHash('sha256');
  let blank = true;
  for (const text of textChunks({ file, absPath }, (bytes) => hash.update(bytes))) {
    if (blank && text.trim() !== '') blank = false;
  }
  if (blank) throw new DatasetError(file, 'the file is empty (only whitespace)');
  return { file, absPath, size, mtimeMs, sha256: hash.digest('hex') };
}

/**
 * The file's text, decoded strictly as UTF-8 (see decodeUtf8), in pieces of about TEXT_CHUNK_BYTES;
 * a leading BOM is dropped. `onBytes` sees every raw chunk (for hashing).
 */
export function* textChunks(src: Pick<TextSource, 'file' | 'absPath'>, onBytes?: (bytes: Uint8Array) => void): Generator<string> {
  let fd: number;
  try {
    fd = openSync(src.absPath, 'r');
  } catch (e) {
    throw unreadable(src.file, e);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const buf = new Uint8Array(TEXT_CHUNK_BYTES);
  // The start of the last (possibly incomplete) character of the previous chunk, kept to locate a
  // bad byte that follows a chunk boundary.
  let tail = new Uint8Array(0);
  let offset = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      const bytes = buf.subarray(0, n);
      onBytes?.(bytes);
      let text: string;
      try {
        text = decoder.decode(bytes, { stream: n > 0 });
      } catch {
        const joined = new Uint8Array(tail.length + n);
        joined.set(tail);
        joined.set(bytes, tail.length);
        const bad = firstInvalidUtf8Offset(joined);
        const at = bad < 0 ? offset + n : offset - tail.length + bad;
        throw new DatasetError(src.file, `not valid UTF-8 (first bad byte at offset ${at}); save the file as UTF-8`);
      }
      if (text !== '') yield text;
      if (n === 0) return;
      let k = n;
      while (k > 0 && n - k < 4 && (bytes[k - 1] & 0xc0) === 0x80) k--;
      tail = bytes.slice(Math.max(0, k - 1));
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
}

function unreadable(file: string, e: unknown): DatasetError {
  const code = (e as NodeJS.ErrnoException).code;
  return new DatasetError(file, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`);
}

/**
 * Decodes UTF-8 strictly: invalid byte sequences are refused instead of becoming U+FFFD, because a
 * silently replaced character would corrupt the text that rationale offsets point into.
 * A leading BOM is dropped (it is not part of the first cell or line).
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DatasetError(file, `not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8Offset(bytes)}); save the file as UTF-8`);
  }
  if (text.trim() === '') throw new DatasetError(file, 'the file is empty (only whitespace)');
  return text;
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (for the error message). */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let n: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { n = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { n = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

export function defaultName(file: string): string {
  return path.basename(file).replace(/\.[^.]+$/, '');
}
