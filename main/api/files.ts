import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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

  /**
   * A new upload's handle id and file: a directory of its own under the upload directory, named by us.
   * The user's name is shown, but the stored file name is ours: no path from the client reaches the disk.
   */
  private uploadPlace(originalName: string): { id: string; safeName: string; path: string } {
    mkdirSync(this.uploadDir, { recursive: true });
    const id = randomBytes(16).toString('hex');
    const safeName = sanitizeName(originalName);
    const dir = join(this.uploadDir, id);
    mkdirSync(dir);
    return { id, safeName, path: join(dir, safeName) };
  }

  /** Stores uploaded bytes under the upload directory, keeping the original name's extension only. */
  registerUpload(originalName: string, bytes: Uint8Array): FileHandleInfo {
    const { id, safeName, path } = this.uploadPlace(originalName);
    writeFileSync(path, bytes);
    return this.add({ name: safeName, path, size: bytes.byteLength, owned: true }, id);
  }

  /**
   * Starts an upload that is streamed to disk chunk by chunk (browser mode): memory stays at one
   * chunk whatever the file's size. `commit` registers the file; `abort` removes what was written.
   */
  async beginUpload(originalName: string): Promise<UploadSink> {
    const { id, safeName, path } = this.uploadPlace(originalName);
    const fh = await open(path, 'wx');
    let size = 0;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await fh.close();
    };
    return {
      write: async (chunk) => {
        await fh.write(chunk);
        size += chunk.byteLength;
      },
      commit: async () => {
        await close();
        return this.add({ name: safeName, path, size, owned: true }, id);
      },
      abort: async () => {
        await close().catch(() => undefined);
        rmSync(dirname(path), { recursive: true, force: true });
      },
    };
  }

  /**
   * The file behind a handle was moved (an uploaded model renamed into the models directory): the
   * handle now names the new place, which the registry no longer owns (dispose must not delete it).
   */
  moved(handle: string, newPath: string): void {
    const e = this.entries.get(handle);
    if (!e || e.path === newPath) return;
    // Its upload folder is empty now; the file itself is the model's and stays.
    if (e.owned) rmSync(join(this.uploadDir, e.id), { recursive: true, force: true });
    this.entries.set(handle, { ...e, path: newPath, owned: false });
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

/** An upload being written to disk (FileHandles.beginUpload). */
export interface UploadSink {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<FileHandleInfo>;
  abort(): Promise<void>;
}

/** A file name without directories or control characters (importers derive a dataset name from it). */
export function sanitizeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f<>:"|?*]/g, '_').replace(/^\.+/, '').slice(0, 120);
  return clean || 'upload';
}
