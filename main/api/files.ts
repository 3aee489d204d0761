import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FileHandleInfo } from './catalogue';

/**
 * Opaque handles for files the user chose. The renderer never names a path: in Electron the shell's
 * file dialog registers the chosen path here, in browser mode the server stores the uploaded bytes
 * and registers that copy. The API only accepts handle ids, so a compromised renderer cannot make
 * the engine read an arbitrary file.
 */
export interface FileEntry {
  id: string;
  /** The file name the user saw (never used to open anything). */
  name: string;
  path: string;
  size: number;
  /** True for uploaded copies the registry owns and deletes on dispose. */
  owned: boolean;
}

export type { FileHandleInfo };

export class FileHandles {
  private readonly entries = new Map<string, FileEntry>();

  constructor(private readonly uploadDir: string) {}

  /** Registers a path chosen by the user in a native dialog. */
  registerPath(path: string): FileHandleInfo {
    const size = statSync(path).size;
    return this.add({ name: basename(path), path, size, owned: false });
  }

  /** Stores uploaded bytes under the upload directory, keeping the original name's extension only. */
  registerUpload(originalName: string, bytes: Uint8Array): FileHandleInfo {
    mkdirSync(this.uploadDir, { recursive: true });
    const id = randomBytes(16).toString('hex');
    // The user's name is shown, but the stored file name is ours: no path from the client reaches the disk.
    const safeName = sanitizeName(originalName);
    const dir = join(this.uploadDir, id);
    mkdirSync(dir);
    const path = join(dir, safeName);
    writeFileSync(path, bytes);
    return this.add({ name: safeName, path, size: bytes.byteLength, owned: true }, id);
  }

  get(handle: string): FileEntry | undefined {
    return this.entries.get(handle);
  }

  dispose(): void {
    for (const e of this.entries.values()) {
      if (e.owned) rmSync(join(this.uploadDir, e.id), { recursive: true, force: true });
    }
    this.entries.clear();
  }

  private add(e: Omit<FileEntry, 'id'>, id = randomBytes(16).toString('hex')): FileHandleInfo {
    this.entries.set(id, { ...e, id });
    return { handle: id, name: e.name, size: e.size };
  }
}

/** A file name without directories or control characters (importers derive a dataset name from it). */
export function sanitizeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f<>:"|?*]/g, '_').replace(/^\.+/, '').slice(0, 120);
  return clean || 'upload';
}
