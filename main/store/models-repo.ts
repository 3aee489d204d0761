import type { Db } from './db';
import { fromJson, nowIso, toJson } from './json';
import { nameProblem } from './names';
import { StoreError, type ModelInput, type ModelRecord } from './types';
import { retryBusy } from './write';

interface ModelRow {
  id: number;
  path: string;
  sha256: string;
  file_size: number;
  architecture: string | null;
  parameter_count: number | null;
  quantization: string | null;
  context_length: number | null;
  chat_template: string | null;
  vocabulary: string | null;
  metadata: string;
  registered_at: string;
  chosen_template: string | null;
  chosen_template_family: string | null;
}

export interface ModelsRepo {
  /**
   * Registers a model file. A model is identified by its content (sha256): registering the same
   * file again (e.g. after it moved) updates path and metadata and returns the existing id.
   */
  register(model: ModelInput): number;
  get(id: number): ModelRecord | undefined;
  bySha(sha256: string): ModelRecord | undefined;
  list(): ModelRecord[];
  /**
   * Records the chat template chosen for a model (null clears it); false when there is no such model.
   * The text is stored as given: api/model-template.ts checks it renders before it comes here.
   */
  setTemplate(id: number, choice: { family: string | null; template: string } | null): boolean;

  // ---- housekeeping (issue 12 item 6); deletion is deletions-repo.ts (it deletes the model's runs with it) ----
  /** Sets the name the lists show (metadata.displayName; names.ts); returns the renamed record. */
  rename(id: number, name: string): ModelRecord;
}

function toRecord(r: ModelRow): ModelRecord {
  return {
    id: r.id,
    path: r.path,
    sha256: r.sha256,
    fileSize: r.file_size,
    architecture: r.architecture,
    parameterCount: r.parameter_count,
    quantization: r.quantization,
    contextLength: r.context_length,
    chatTemplate: r.chat_template,
    vocabulary: fromJson(r.vocabulary),
    metadata: JSON.parse(r.metadata),
    registeredAt: r.registered_at,
    templateChoice: r.chosen_template === null ? null : { family: r.chosen_template_family, template: r.chosen_template },
  };
}

export function modelsRepo(db: Db): ModelsRepo {
  const upsert = db.prepare(
    `INSERT INTO models (path, sha256, file_size, architecture, parameter_count, quantization,
       context_length, chat_template, vocabulary, metadata, registered_at)
     VALUES (@path, @sha256, @fileSize, @architecture, @parameterCount, @quantization,
       @contextLength, @chatTemplate, @vocabulary, @metadata, @registeredAt)
     ON CONFLICT (sha256) DO UPDATE SET
       path = excluded.path, file_size = excluded.file_size, architecture = excluded.architecture,
       parameter_count = excluded.parameter_count, quantization = excluded.quantization,
       context_length = excluded.context_length, chat_template = excluded.chat_template,
       vocabulary = excluded.vocabulary, metadata = excluded.metadata
     RETURNING id`,
  );
  const byId = db.prepare(`SELECT * FROM models WHERE id = ?`);
  const bySha = db.prepare(`SELECT * FROM models WHERE sha256 = ?`);
  const all = db.prepare(`SELECT * FROM models ORDER BY id`);
  const setChosen = db.prepare(`UPDATE models SET chosen_template = ?, chosen_template_family = ? WHERE id = ?`);
  const rename = db.prepare(`UPDATE models SET metadata = json_set(metadata, '$.displayName', ?) WHERE id = ?`);

  return {
    register(m) {
      if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) {
        throw new StoreError(`model ${m.path}: field "sha256" must be 64 lower-case hex digits`);
      }
      if (!Number.isInteger(m.fileSize) || m.fileSize < 0) {
        throw new StoreError(`model ${m.path}: field "fileSize" must be a non-negative integer`);
      }
      const row = retryBusy(db, 'model register', () => upsert.get({
        path: m.path,
        sha256: m.sha256,
        fileSize: m.fileSize,
        architecture: m.architecture ?? null,
        parameterCount: m.parameterCount ?? null,
        quantization: m.quantization ?? null,
        contextLength: m.contextLength ?? null,
        chatTemplate: m.chatTemplate ?? null,
        vocabulary: toJson(m.vocabulary),
        metadata: JSON.stringify(m.metadata ?? {}),
        registeredAt: nowIso(),
      })) as { id: number };
      return row.id;
    },
    get(id) {
      const r = byId.get(id) as ModelRow | undefined;
      return r && toRecord(r);
    },
    bySha(sha256) {
      const r = bySha.get(sha256) as ModelRow | undefined;
      return r && toRecord(r);
    },
    list: () => (all.all() as ModelRow[]).map(toRecord),
    setTemplate(id, choice) {
      if (choice !== null && (typeof choice.template !== 'string' || choice.template.length === 0)) {
        throw new StoreError(`model ${id}: field "template" must be a non-empty Jinja text`);
      }
      const r = retryBusy(db, 'model template', () => setChosen.run(choice?.template ?? null, choice?.family ?? null, id));
      return r.changes > 0;
    },
    // ---- housekeeping (issue 12 item 6) ----
    rename(id, name) {
      const problem = nameProblem(name);
      if (problem) throw new StoreError(`model ${id}: field "name" ${problem}`);
      if (retryBusy(db, 'model rename', () => rename.run(name.trim(), id).changes) === 0) throw new StoreError(`model ${id} does not exist`);
      return toRecord(byId.get(id) as ModelRow);
    },
  };
}
