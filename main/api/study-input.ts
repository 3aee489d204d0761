/**
 * A study configuration as the API accepts it (validateStudyConfig, saveStudy, previewPrompt; browser
 * mode and Electron IPC alike). The renderer never names a file: a field that could make the engine
 * read one takes a registered id, a built-in name or a file handle instead.
 *   - models[i]: a registered model by id; `path` is refused (the CLI, which the user types, may use paths).
 *   - dataset: a stored dataset by id or a built-in dataset by catalogue name (never looked up as a path).
 *   - task.definitions: a built-in definitions name, the definitions text itself (as a stored study
 *     carries it), or `{"handle": "<id>"}`, a file the user chose in the dialog or uploaded; the handle's
 *     file is read here, with the one loader, and replaced by its text. A path string is refused by the
 *     schema, unread.
 * Errors name the field and never quote a file's content.
 */
import { readDefinitionsFile } from '../protocol/indicator-definitions';
import { ApiError } from './errors';
import type { FileHandles } from './files';

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A study saved from the GUI names registered models by id: a model path would let the renderer point the engine at any file. */
function rejectModelPaths(config: unknown): void {
  const models = isObject(config) ? config.models : undefined;
  if (!Array.isArray(models)) return;
  const fields: Record<string, string> = {};
  models.forEach((m, i) => {
    if (isObject(m) && 'path' in m) fields[`models[${i}].path`] = 'choose a registered model (by id); file paths are not accepted here';
  });
  if (Object.keys(fields).length) throw new ApiError('invalid', `study: ${Object.values(fields)[0]}`, fields);
}

/** task.definitions {"handle": id} → the chosen file's definitions text; anything else is left to the schema. */
function resolveDefinitionsHandle(config: unknown, files: FileHandles): unknown {
  const task = isObject(config) ? config.task : undefined;
  if (!isObject(task) || !isObject(task.definitions) || !('handle' in task.definitions)) return config;
  const field = 'task.definitions';
  const given = task.definitions;
  const extra = Object.keys(given).filter((k) => k !== 'handle');
  if (extra.length) throw new ApiError('invalid', `${field}: a file handle comes alone, without ${extra.join(', ')}`, { [field]: `a file handle comes alone, without ${extra.join(', ')}` });
  const entry = typeof given.handle === 'string' ? files.get(given.handle) : undefined;
  if (!entry) throw new ApiError('not_found', `${field}: no such file handle (choose or upload the definitions file again)`, { [field]: 'no such file handle' });
  let definitions;
  try {
    // named by the file name the user saw: neither our upload copy's path nor anything inside the file
    definitions = readDefinitionsFile(entry.path, entry.name);
  } catch (e) {
    throw new ApiError('invalid', `${field}: ${(e as Error).message}`, { [field]: (e as Error).message });
  }
  return { ...(config as Record<string, unknown>), task: { ...task, definitions } };
}

/** The configuration to validate, store or preview: paths refused, a definitions handle read into text. */
export function apiStudyConfig(config: unknown, files: FileHandles): unknown {
  rejectModelPaths(config);
  return resolveDefinitionsHandle(config, files);
}
