import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
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
