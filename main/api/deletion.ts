/**
 * Deleting through the API (issue 12 item 6): the consequences first, then the deletion with `confirm: true`.
 * What goes with what is the store's rule (main/store/deletions-repo.ts); here: the sentence that says it, and
 * what happens to a model's file.
 *
 * A model's file is deleted with its record only when the workbench made that copy: a file under
 * `<data dir>/models` (an upload moved there on registering, or a download) that no other model record uses.
 * A file the user chose in the dialog is registered where it is and is never deleted, nor is the generated
 * demo model (a cache under `<data dir>/demo-model` or `.cache/`, made again when needed).
 */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { DeletionImpact } from '../store/deletions-repo';

/** Where the workbench keeps the model files it made (uploads moved there, downloads). */
export const workbenchModelsDir = (dataDir: string) => join(dataDir, 'models');

export interface ModelFileFate {
  path: string;
  /** Whether deleting the model deletes this file (or did). */
  deleted: boolean;
  reason: string;
}

/** What deleting a model does to its file: see the module comment. `sharedWith`: other model records on the same path. */
export function modelFileFate(path: string, dataDir: string, sharedWith: number): ModelFileFate {
  const dir = resolve(workbenchModelsDir(dataDir)) + sep;
  if (!resolve(path).startsWith(dir)) return { path, deleted: false, reason: 'it is your file, registered where it is (the workbench made no copy)' };
  if (sharedWith > 0) return { path, deleted: false, reason: `${sharedWith} other model record(s) use it` };
  return { path, deleted: true, reason: "it is the workbench's own copy (an upload or a download under the data directory)" };
}

/** Deletes the file a fate says goes; a file already gone is fine. */
export function removeModelFile(fate: ModelFileFate): void {
  if (fate.deleted && existsSync(fate.path)) rmSync(fate.path, { force: true });
}

const n = (k: number) => k.toLocaleString('en-US');
const plural = (k: number, one: string, many = `${one}s`) => `${n(k)} ${k === 1 ? one : many}`;

/**
 * What the deletion takes along, in words: shown before the user confirms, and answered by the API. Whether it
 * is refused now (a run is running) is the impact's `refused`, shown apart.
 */
export function deletionSummary(i: DeletionImpact, file?: ModelFileFate): string {
  const runs = i.runs.length ? `${plural(i.runs.length, 'run')} with ${plural(i.results, 'result')}` : '';
  const parts: string[] = [];
  switch (i.kind) {
    case 'dataset': {
      const studies = i.studies.length ? plural(i.studies.length, 'study', 'studies') : '';
      const also = [studies, runs].filter(Boolean).join(' and ');
      parts.push(`Deleting dataset “${i.name}” (${plural(i.examples, 'example')}) ${also ? `also deletes ${also}` : 'deletes nothing else: no study or run uses it'}.`);
      break;
    }
    case 'study': {
      const versions = i.studies[0]?.versions.length ?? 1;
      const what = [versions > 1 ? `its ${plural(versions, 'version')}` : '', runs ? `its ${runs}` : ''].filter(Boolean).join(' and ');
      parts.push(`Deleting study “${i.name}” ${what ? `also deletes ${what}` : 'deletes nothing else: it has no runs'}.`);
      break;
    }
    case 'model':
      parts.push(`Deleting model “${i.name}” ${runs ? `also deletes its ${runs}` : 'deletes no run: none used it'}.`);
      if (i.keptStudies.length) {
        const one = i.keptStudies.length === 1;
        parts.push(`${plural(i.keptStudies.length, 'study', 'studies')} ${one ? 'names' : 'name'} it (${i.keptStudies.map((s) => `“${s.name}”`).join(', ')}): ${one ? 'it stays' : 'they stay'}, and ${one ? 'needs' : 'need'} another model before ${one ? 'it runs' : 'they run'} again.`);
      }
      if (file) parts.push(`The file ${file.path} ${file.deleted ? 'is deleted' : 'stays'}: ${file.reason}.`);
      break;
    case 'run':
      parts.push(`Deleting ${i.name === `run ${i.id}` ? i.name : `run ${i.id} “${i.name}”`} of study “${i.runs[0]?.studyName ?? '?'}” also deletes its ${plural(i.results, 'result')}.`);
      break;
  }
  return parts.join(' ');
}
