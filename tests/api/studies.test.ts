import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { StudyValidation } from '../../main/api/catalogue';
import type { StudyRecord } from '../../main/store/types';
import { ok, tempWorkbench } from './helpers';

describe('API: study configuration', () => {
  const t = tempWorkbench();
  afterAll(() => t.cleanup());

  it('reports each invalid field by its path', async () => {
    const v = ok(
      await t.wb.call('validateStudyConfig', {
        config: { name: 'x', task: { kind: 'custom' }, dataset: { id: 1 }, models: [], seeds: [1, 1], language: 'English' },
      }),
    ) as StudyValidation;
    expect(v.ok).toBe(false);
    expect(Object.keys(v.fields).sort()).toEqual(['language', 'models', 'seeds[1]', 'task.labels'].sort());
    expect(v.fields['models']).toMatch(/at least 1/);
    expect(v.fields['seeds[1]']).toMatch(/duplicate/);
  });

  it('accepts a valid config, filling defaults, and saves it as a study', async () => {
    const config = { name: 'demo', task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment' }, models: [{ id: 1 }] };
    const v = ok(await t.wb.call('validateStudyConfig', { config })) as StudyValidation;
    expect(v.ok).toBe(true);
    expect((v.config as { seeds: number[] }).seeds).toEqual([28, 79, 96]);
    const saved = ok(await t.wb.call('saveStudy', { name: 'My study', config })) as { study: StudyRecord };
    expect(saved.study.name).toBe('My study');
    const got = ok(await t.wb.call('getStudy', { studyId: saved.study.id })) as StudyRecord;
    expect((got.config as { task: { labels: string[] } }).task.labels).toEqual(['positive', 'negative']);
    const bad = await t.wb.call('saveStudy', { name: 'bad', config: { ...config, models: [] } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.fields?.models).toMatch(/at least 1/);
  });

  // The store keeps validated configurations and does not parse them (store/studies-repo.ts): the API,
  // where a study comes in, is the level that refuses an invalid one, with the field named (this was the
  // store's own test, "refuses an invalid config with the field named", before the store stopped parsing).
  it('saveStudy refuses an invalid config with the field named; nothing is stored', async () => {
    const before = ok(await t.wb.call('listStudies', {})) as StudyRecord[];
    const config = { task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment' }, models: [{ id: 1, mode: 'fast' }] };
    const r = await t.wb.call('saveStudy', { name: 'x', config });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid');
    expect(r.error.fields).toEqual({ 'models[0].mode': 'expected one of paper|constrained|scoring, got the string "fast"' });
    expect(r.error.message).toBe('invalid study configuration: models[0].mode: expected one of paper|constrained|scoring, got the string "fast"');
    expect(ok(await t.wb.call('listStudies', {}))).toEqual(before);
  });

  it('saveStudy of a stored study validates the new config; the stored one is unchanged', async () => {
    const config = { task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment' }, models: [{ id: 1 }] };
    const saved = (ok(await t.wb.call('saveStudy', { name: 's', config })) as { study: StudyRecord }).study;
    const r = await t.wb.call('saveStudy', { studyId: saved.id, name: 's', config: { ...config, seeds: [] } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.fields?.seeds).toMatch(/must have at least 1 item/);
    expect(ok(await t.wb.call('getStudy', { studyId: saved.id }))).toEqual(saved);
  });

  it('startRun of a stored config that no longer fits (an older database): refused at once, fields named, no run', async () => {
    const config = { task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment' }, models: [{ id: 1 }] };
    const saved = (ok(await t.wb.call('saveStudy', { name: 'old', config })) as { study: StudyRecord }).study;
    // what an older version could have stored: the store keeps configurations unparsed, so this reaches the run
    const db = new Database(t.wb.options.dbFile);
    db.prepare('UPDATE studies SET config = ? WHERE id = ?').run(JSON.stringify({ ...(saved.config as object), seeds: [], models: [{ id: 1, mode: 'fast' }] }), saved.id);
    db.close();
    const r = await t.wb.call('startRun', { studyId: saved.id });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid');
    expect(r.error.message).toMatch(new RegExp(`^study ${saved.id} was not run: its stored configuration no longer fits`));
    expect(r.error.fields).toEqual({ seeds: 'must have at least 1 item, got a list of 0 items', 'models[0].mode': 'expected one of paper|constrained|scoring, got the string "fast"' });
    expect(ok(await t.wb.call('listRuns', { studyId: saved.id }))).toEqual([]);
  });
});
