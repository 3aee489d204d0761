import { RAFOLA_ORDER } from '../protocol/indicators';
import type { Db } from './db';
import { retryBusy } from './write';

/**
 * Forward-only schema migrations. The schema version lives in `PRAGMA user_version`.
 * Migration N takes a database at version N-1 to version N. Never edit a migration that has
 * shipped: add a new one. Tables are STRICT so a wrong type is refused instead of coerced.
 */
export interface Migration {
  version: number;
  name: string;
  up: (db: Db) => void;
}

const v1CoreTables: Migration = {
  version: 1,
  name: 'datasets, examples, models, studies',
  up(db) {
    db.exec(`
      CREATE TABLE datasets (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        format        TEXT NOT NULL,
        source_path   TEXT NOT NULL,
        source_sha256 TEXT NOT NULL,
        language      TEXT,
        label_set     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(label_set)),
        created_at    TEXT NOT NULL
      ) STRICT;

      CREATE TABLE examples (
        id              INTEGER PRIMARY KEY,
        dataset_id      INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        ordinal         INTEGER NOT NULL CHECK (ordinal >= 0),
        external_id     TEXT NOT NULL,
        text            TEXT NOT NULL,
        language        TEXT NOT NULL,
        labels          TEXT NOT NULL CHECK (json_valid(labels)),
        words           TEXT NOT NULL CHECK (json_valid(words)),
        -- 0/1 per word as JSON array; NULL = the example has no human rationale
        rationale_mask  TEXT CHECK (rationale_mask IS NULL OR json_valid(rationale_mask)),
        rationale_spans TEXT NOT NULL CHECK (json_valid(rationale_spans)),
        annotators      TEXT CHECK (annotators IS NULL OR json_valid(annotators)),
        meta            TEXT CHECK (meta IS NULL OR json_valid(meta)),
        UNIQUE (dataset_id, ordinal)
      ) STRICT;
      CREATE INDEX examples_external ON examples(dataset_id, external_id);

      CREATE TABLE models (
        id              INTEGER PRIMARY KEY,
        path            TEXT NOT NULL,
        sha256          TEXT NOT NULL UNIQUE,
        file_size       INTEGER NOT NULL CHECK (file_size >= 0),
        architecture    TEXT,
        parameter_count INTEGER,
        quantization    TEXT,
        context_length  INTEGER,
        chat_template   TEXT,
        vocabulary      TEXT CHECK (vocabulary IS NULL OR json_valid(vocabulary)),
        metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
        registered_at   TEXT NOT NULL
      ) STRICT;

      -- Each row is one version of a study. root_id groups the versions (the root has root_id = id).
      CREATE TABLE studies (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        config     TEXT NOT NULL CHECK (json_valid(config)),
        version    INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
        parent_id  INTEGER REFERENCES studies(id),
        root_id    INTEGER REFERENCES studies(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (root_id, version)
      ) STRICT;
    `);
  },
};

const v2RunsAndResults: Migration = {
  version: 2,
  name: 'runs, results, relevance, metrics',
  up(db) {
    db.exec(`
      CREATE TABLE runs (
        id             INTEGER PRIMARY KEY,
        study_id       INTEGER NOT NULL REFERENCES studies(id),
        model_id       INTEGER NOT NULL REFERENCES models(id),
        dataset_id     INTEGER NOT NULL REFERENCES datasets(id),
        seed           INTEGER NOT NULL,
        status         TEXT NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued','running','paused','stopped','failed','done')),
        progress_done  INTEGER NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
        progress_total INTEGER NOT NULL DEFAULT 0 CHECK (progress_total >= 0),
        app_version    TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        started_at     TEXT,
        finished_at    TEXT,
        timings        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(timings)),
        error          TEXT
      ) STRICT;
      CREATE INDEX runs_study ON runs(study_id);
      CREATE INDEX runs_dataset ON runs(dataset_id);

      CREATE TABLE results (
        id               INTEGER PRIMARY KEY,
        run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        example_id       INTEGER NOT NULL REFERENCES examples(id),
        raw_outputs      TEXT NOT NULL CHECK (json_valid(raw_outputs)),
        label            TEXT,          -- parsed label, 'invalid' when unparseable, NULL when skipped
        correct          INTEGER CHECK (correct IN (0, 1)),
        answer_token     TEXT,
        answer_prob      REAL,
        option_probs     TEXT CHECK (option_probs IS NULL OR json_valid(option_probs)),
        self_explanation TEXT CHECK (self_explanation IS NULL OR json_valid(self_explanation)),
        alignment        TEXT CHECK (alignment IS NULL OR json_valid(alignment)),
        tokens           TEXT CHECK (tokens IS NULL OR json_valid(tokens)),
        masks            TEXT CHECK (masks IS NULL OR json_valid(masks)),
        skipped_reason   TEXT,
        created_at       TEXT NOT NULL,
        CHECK (label IS NOT NULL OR skipped_reason IS NOT NULL),
        UNIQUE (run_id, example_id)
      ) STRICT;

      CREATE TABLE result_relevance (
        id              INTEGER PRIMARY KEY,
        result_id       INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        method          TEXT NOT NULL,
        relevance       BLOB NOT NULL CHECK (length(relevance) % 4 = 0),
        explained_value REAL,
        meta            TEXT CHECK (meta IS NULL OR json_valid(meta)),
        UNIQUE (result_id, method)
      ) STRICT;

      CREATE TABLE metrics (
        id      INTEGER PRIMARY KEY,
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        scope   TEXT NOT NULL CHECK (json_valid(scope)),
        name    TEXT NOT NULL,
        value   REAL,
        ci_low  REAL,
        ci_high REAL,
        n       INTEGER
      ) STRICT;
      CREATE INDEX metrics_run ON metrics(run_id);

      -- Defence in depth for "a study that has run is never edited in place".
      CREATE TRIGGER studies_frozen_after_run
      BEFORE UPDATE OF name, config ON studies
      WHEN EXISTS (SELECT 1 FROM runs WHERE study_id = OLD.id)
      BEGIN
        SELECT RAISE(ABORT, 'study has runs and cannot be edited in place; create a new version');
      END;
    `);
  },
};

const v3LeasesAndStagedImports: Migration = {
  version: 3,
  name: 'leases (run and import ownership), staged dataset imports',
  up(db) {
    db.exec(`
      -- Which process works on a run / writes a pending import (main/store/leases.ts holds the rules).
      CREATE TABLE leases (
        kind         TEXT NOT NULL CHECK (kind IN ('run', 'import')),
        target_id    INTEGER NOT NULL,
        owner        TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL,
        acquired_ms  INTEGER NOT NULL,
        heartbeat_ms INTEGER NOT NULL,
        expires_ms   INTEGER NOT NULL,
        PRIMARY KEY (kind, target_id)
      ) STRICT;
      -- Runs left 'running' by an app without leases: no process can still be running them for us to see, so
      -- they get an ended lease and show as interrupted (resumable) instead of running forever.
      INSERT INTO leases (kind, target_id, owner, pid, host, acquired_ms, heartbeat_ms, expires_ms)
        SELECT 'run', id, 'before-leases', 0, '', 0, 0, 0 FROM runs WHERE status = 'running';

      -- An import writes its examples in chunks while the dataset is 'pending' (invisible); one short
      -- transaction makes it 'ready'. A pending dataset whose import lease is over is deleted at open.
      ALTER TABLE datasets ADD COLUMN state TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('pending', 'ready'));
    `);
  },
};

/**
 * Forced-labour studies stored before indicators were named gave task.indicator as a number in RaFoLa's
 * (alphabetical) order; numbers now mean the ILO's order, so such a study would silently ask about another
 * indicator. Each is rewritten to the name it meant (5 -> "Excessive overtime"), and its runs' metric
 * scopes ("indicator": "5") with it. Definitions stored as a path are left as they are: the path is not
 * read here, and the configuration check refuses it with its field named.
 */
const v4IndicatorNames: Migration = {
  version: 4,
  name: 'forced-labour indicators by name (RaFoLa numbers)',
  up(db) {
    // Studies that have runs are frozen by a trigger; it is lifted for this rewrite and put back as it was.
    const trigger = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'studies_frozen_after_run'`).pluck().get() as string | undefined;
    if (trigger) db.exec('DROP TRIGGER studies_frozen_after_run');
    const setConfig = db.prepare('UPDATE studies SET config = ? WHERE id = ?');
    const setScopes = db.prepare(
      `UPDATE metrics SET scope = json_set(scope, '$.indicator', ?)
       WHERE run_id IN (SELECT id FROM runs WHERE study_id = ?) AND json_extract(scope, '$.indicator') = ?`,
    );
    for (const row of db.prepare('SELECT id, config FROM studies').all() as { id: number; config: string }[]) {
      let config: { task?: { kind?: unknown; indicator?: unknown } };
      try {
        config = JSON.parse(row.config);
      } catch {
        continue;
      }
      const n = config?.task?.indicator;
      if (config?.task?.kind !== 'forced-labour' || typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 11) continue;
      const name = RAFOLA_ORDER[n - 1];
      setConfig.run(JSON.stringify({ ...config, task: { ...config.task, indicator: name } }), row.id);
      setScopes.run(name, row.id, String(n));
    }
    if (trigger) db.exec(trigger);
  },
};

/**
 * A chat template chosen for a registered model whose GGUF has none (Models screen): the Jinja text as chosen
 * (a family's text is recorded, not only its name, so a later app version's family text changes no run) and
 * the family's id, NULL for a custom text. Re-registering the file keeps the choice.
 */
const v5ChosenChatTemplates: Migration = {
  version: 5,
  name: 'chat templates chosen for models',
  up(db) {
    db.exec(`
      ALTER TABLE models ADD COLUMN chosen_template TEXT;
      ALTER TABLE models ADD COLUMN chosen_template_family TEXT;
    `);
  },
};

/**
 * Housekeeping (issue 12 item 6): a run can be given a name (runs.name, NULL = "run <id>"), and datasets are
 * looked up by their content hash (source_sha256, the SHA-256 of the imported file, stored since v1) to warn
 * about a duplicate import.
 */
const v6Housekeeping: Migration = {
  version: 6,
  name: 'run names, dataset content-hash index',
  up(db) {
    db.exec(`
      ALTER TABLE runs ADD COLUMN name TEXT CHECK (name IS NULL OR length(trim(name)) > 0);
      CREATE INDEX datasets_sha256 ON datasets(source_sha256);
    `);
  },
};

/**
 * A dataset's label mapping, chosen in the import form (dataset label -> a canonical label, or null to leave
 * those examples out). The examples keep their labels as written; a study's task.labelMap starts from it.
 */
const v7DatasetLabelMap: Migration = {
  version: 7,
  name: 'dataset label mapping',
  up(db) {
    db.exec(`ALTER TABLE datasets ADD COLUMN label_map TEXT CHECK (label_map IS NULL OR json_valid(label_map))`);
  },
};

/**
 * v8: studies shared over machines on a job queue (issue 15, main/queue/). queue_runs: a run whose examples
 * are computed by queue workers, with the random part of its job ids (kept, so an owner restarted finds its
 * jobs again instead of enqueuing them twice), the queue (its URL without the password) and the model's
 * hash; `note` says why it waits (no live worker has the model). queue_workers: per (run, worker) what the
 * worker did for it (the Run monitor's per-worker progress) or that it lacks the run's model.
 */
const v8QueueRuns: Migration = {
  version: 8,
  name: 'queue runs and workers',
  up(db) {
    db.exec(`
      CREATE TABLE queue_runs (
        run_id        INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        queue         TEXT NOT NULL,
        job_prefix    TEXT NOT NULL,
        model_sha256  TEXT NOT NULL,
        note          TEXT,
        updated_at    TEXT NOT NULL
      );
      CREATE TABLE queue_workers (
        run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        worker        TEXT NOT NULL,
        host          TEXT NOT NULL,
        has_model     INTEGER NOT NULL CHECK (has_model IN (0, 1)),
        done          INTEGER NOT NULL DEFAULT 0,
        failed        INTEGER NOT NULL DEFAULT 0,
        busy_ms       REAL NOT NULL DEFAULT 0,
        last_seen_at  TEXT NOT NULL,
        PRIMARY KEY (run_id, worker)
      );
    `);
  },
};

export const MIGRATIONS: readonly Migration[] = [v1CoreTables, v2RunsAndResults, v3LeasesAndStagedImports, v4IndicatorNames, v5ChosenChatTemplates, v6Housekeeping, v7DatasetLabelMap, v8QueueRuns];
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export class SchemaVersionError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `${file}: database schema version ${found} is newer than this app supports (${supported}); ` +
        `open it with a newer Rationale Workbench (the file was not modified)`,
    );
    this.name = 'SchemaVersionError';
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Throws SchemaVersionError if the file was written by a newer app; returns its version. */
export function assertSupported(db: Db, file: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const found = schemaVersion(db);
  if (found > migrations.length) throw new SchemaVersionError(file, found, migrations.length);
  return found;
}

/**
 * Applies the pending migrations, each in its own transaction together with its user_version bump,
 * so a crash leaves the file at the last fully applied version. Returns the versions before and after.
 * `migrations` is a parameter so tests can build a database at any earlier version.
 */
export function migrate(
  db: Db,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order at index ${i} (version ${m.version})`);
  });
  const from = assertSupported(db, file, migrations);
  for (const m of migrations.slice(from)) {
    // retried while another process holds the lock (it may be migrating the same file: then skip what it did)
    retryBusy(db, `${file}: migration ${m.version}`, () =>
      db.transaction(() => {
        if (schemaVersion(db) >= m.version) return;
        m.up(db);
        // PRAGMA does not take bound parameters; the version is our own integer.
        db.pragma(`user_version = ${m.version}`);
      }).immediate(),
    );
  }
  return { from, to: schemaVersion(db) };
}
