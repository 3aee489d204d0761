import { Inflate } from 'fflate';

/**
 * Just enough of the zip format to read named entries of an .xlsx one at a time, each with a size
 * limit, instead of inflating every entry of the archive (fflate's unzipSync) — a 1 MB file can hold
 * a 1 GiB entry of zeros. The central directory gives each entry's declared size; inflation is
 * streamed and stops as soon as the actual bytes pass the limit, whatever was declared.
 */
export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  /** Uncompressed size as declared in the central directory. */
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Compressed bytes handed to the inflater at a time: bounds what one step can inflate (~1000:1). */
const STEP = 4096;

/** The archive's entries by name, from its central directory. */
export function zipEntries(bytes: Uint8Array): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('no end of central directory record (not a zip file, or truncated)');
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const names = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL) throw new ZipError('the central directory is damaged (truncated file?)');
    const nameLen = view.getUint16(p + 28, true);
    const e: ZipEntry = {
      name: names.decode(bytes.subarray(p + 46, p + 46 + nameLen)),
      method: view.getUint16(p + 10, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localOffset: view.getUint32(p + 42, true),
    };
    entries.set(e.name, e);
    p += 46 + nameLen + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return entries;
}

/**
 * The entry's bytes, refused (ZipError naming the entry) when its declared size or its actual
 * inflated size is above `limit`. A zip64 entry (declared size 0xFFFFFFFF) is refused the same way.
 */
export function readEntry(bytes: Uint8Array, e: ZipEntry, limit: number): Uint8Array {
  const tooLarge = (what: string) => new ZipError(`entry ${e.name} is too large: ${what}; entries above ${limit} bytes are refused`);
  if (e.size > limit) throw tooLarge(`${e.size} bytes uncompressed`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = e.localOffset;
  if (h + 30 > bytes.length || view.getUint32(h, true) !== LOCAL) throw new ZipError(`entry ${e.name}: damaged local header (truncated file?)`);
  const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
  const end = start + e.compressedSize;
  if (end > bytes.length) throw new ZipError(`entry ${e.name} is cut short (truncated file?)`);
  const data = bytes.subarray(start, end);
  if (e.method === 0) {
    if (data.length > limit) throw tooLarge(`${data.length} bytes stored`);
    return data;
  }
  if (e.method !== 8) throw new ZipError(`entry ${e.name} uses compression method ${e.method} (only stored and deflated entries are read)`);
  const parts: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > limit) throw tooLarge(`more than ${limit} bytes once inflated (declared ${e.size})`);
    parts.push(chunk);
  });
  try {
    for (let i = 0; i < data.length; i += STEP) inflater.push(data.subarray(i, Math.min(i + STEP, data.length)), i + STEP >= data.length);
    if (data.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof ZipError) throw err;
    throw new ZipError(`entry ${e.name} cannot be inflated: ${(err as Error).message}`);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}
