/**
 * The models a worker has: every .gguf file under its --models-dir, known by its SHA-256. A job names its
 * model by hash only; the worker opens the file it found here, never a path from a job. Files are hashed
 * once per process (a file changed since is hashed again: size and mtime are checked).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sha256File } from '../models/registry';

export interface LocalModel {
  sha256: string;
  file: string;
  name: string;
}

const known = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

function ggufFiles(dir: string, depth = 0): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && depth < 3) out.push(...ggufFiles(p, depth + 1));
    else if (e.isFile() && e.name.toLowerCase().endsWith('.gguf')) out.push(p);
  }
  return out.sort();
}

/** The models under `dir`, by hash (the first file of a hash wins when the same model is there twice). */
export async function scanModels(dir: string): Promise<Map<string, LocalModel>> {
  const byHash = new Map<string, LocalModel>();
  for (const file of ggufFiles(dir)) {
    const st = statSync(file);
    let k = known.get(file);
    if (!k || k.size !== st.size || k.mtimeMs !== st.mtimeMs) {
      k = { size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(file) };
      known.set(file, k);
    }
    if (!byHash.has(k.sha256)) byHash.set(k.sha256, { sha256: k.sha256, file, name: basename(file) });
  }
  return byHash;
}
