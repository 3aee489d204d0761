/**
 * Forced-labour indicators and their definitions.
 *  - Numbers are the ILO's (ILO Indicators of Forced Labour, 2012); names are what is stored. RaFoLa and the
 *    paper number the indicators alphabetically; the RaFoLa import maps by name, and the paper's built-in
 *    studies keep meaning the indicators the paper meant.
 *  - One source of definitions: the project ships its own (studies/data/ilo-indicators.json, built-in
 *    "ilo-indicators"), never a copy of ../shared data; a study file (or `run --definitions`) can use another
 *    file such as RaFoLa's definitions.json, whose exact wording is read from ../shared here. The study
 *    configuration records the text itself, never a path.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStudyConfig, type StudyConfig } from '../../main/config/study-schema';
import { importFile } from '../../main/datasets';
import { buildTaskPrompt, loadIndicators } from '../../main/protocol';
import { builtinDefinitions, readDefinitionsFile } from '../../main/protocol/indicator-definitions';
import { ILO_INDICATORS, indicatorTitle, RAFOLA_ORDER, spanIndicator } from '../../main/protocol/indicators';
import { REPO_ROOT, resolveStudies, studyConfigOf } from '../../main/studies/builtins';
import { taskFor } from '../../main/protocol/task';
import { indicatorDefinitionsFor, withDefinitions } from '../../main/runner/study';
import type { StoredExample } from '../../main/store';

const SHARED = resolve(REPO_ROOT, '../shared');
const RAFOLA_DEFS = join(SHARED, 'data/rafola/definitions.json');
const OWN_DEFS = join(REPO_ROOT, 'studies/data/ilo-indicators.json');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const words = (s: string) => s.toLowerCase().match(/[a-z]+/g) ?? [];
/** Longest run of consecutive words two texts share. */
function longestCommonRun(a: string, b: string): number {
  const x = words(a);
  const y = words(b);
  let best = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < y.length; j++) {
    let k = 0;
    while (i + k < x.length && j + k < y.length && x[i + k] === y[j + k]) k++;
    best = Math.max(best, k);
  }
  return best;
}

const config = (indicator: number | string, extra: Record<string, unknown> = {}): StudyConfig => {
  const r = parseStudyConfig({ name: 'fl', task: { kind: 'forced-labour', indicator, ...extra }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};
/** RaFoLa's definitions.json as it is: [{label, definition | ",definition"}] in its own order. */
const rafolaRaw = () => (JSON.parse(readFileSync(RAFOLA_DEFS, 'utf8')) as Record<string, string>[]).map((o) => ({ label: o.label, definition: o.definition ?? o[',definition'] }));

describe('ILO numbering, RaFoLa and the paper', () => {
  it("numbers are the ILO's published order; RaFoLa's order is its definitions.json's, the same 11 names", () => {
    expect(ILO_INDICATORS).toEqual([
      'Abuse of vulnerability', 'Deception', 'Restriction of movement', 'Isolation', 'Physical and sexual violence', 'Intimidation and threats',
      'Retention of identity documents', 'Withholding of wages', 'Debt bondage', 'Abusive working and living conditions', 'Excessive overtime',
    ]);
    expect(config(4).task.indicator).toBe('Isolation'); // was "7 = Isolation" (alphabetical) before
    expect(config(7).task.indicator).toBe('Retention of identity documents');
    expect(indicatorTitle('Excessive overtime')).toBe('11. Excessive overtime');
    expect(RAFOLA_ORDER).toEqual(rafolaRaw().map((x) => x.label));
    expect([...RAFOLA_ORDER].sort()).toEqual([...ILO_INDICATORS].sort());
  });

  it("the paper's built-in studies keep the paper's indicators: its numbers index RaFoLa's order", () => {
    // The paper's code (rationale_prompting.py, prepare_labour_dataset) takes column `article_id` of
    // RaFoLa's labels vector and definitions.json[article_id - 1]: indicators 1, 2, 5, 8 in RaFoLa's order
    // are abuse of vulnerability, abusive working and living conditions, excessive overtime, physical and
    // sexual violence (../shared/notes/paper.md) = ILO 1, 10, 11, 5.
    const expected: Record<number, [string, number]> = {
      1: ['Abuse of vulnerability', 1],
      2: ['Abusive working and living conditions', 10],
      5: ['Excessive overtime', 11],
      8: ['Physical and sexual violence', 5],
    };
    for (const [n, [name, ilo]] of Object.entries(expected)) {
      const [s] = resolveStudies(`paper-rafola-${n}`);
      const c = studyConfigOf(s);
      expect(c.task.indicator, s.name).toBe(name);
      expect(RAFOLA_ORDER[Number(n) - 1]).toBe(name);
      expect(ILO_INDICATORS.indexOf(c.task.indicator!) + 1).toBe(ilo);
      expect(c.name).toContain(`(ILO ${ilo})`);
    }
    expect(studyConfigOf(resolveStudies('demo-forced-labour')[0]).task.indicator).toBe('Excessive overtime');
  });

  it('RaFoLa import: label vectors and rationale headers map by name; spans are labelled with the name', () => {
    const d = importFile(join(REPO_ROOT, 'studies/data/demo-news.rafola.json'), { format: 'rafola' });
    // article 1001: labels vector [0,0,0,0,1,0,...]: position 5 of RaFoLa's order = Excessive overtime
    const a = d.examples.find((e) => e.externalId === '1001')!;
    expect(a.labels).toEqual(['Excessive overtime']);
    expect(new Set(a.rationaleSpans.map((s) => s.label))).toEqual(new Set(['Excessive overtime']));
    // article 1003: vector positions 1 and 8 = abuse of vulnerability, physical and sexual violence (ILO order)
    expect(d.examples.find((e) => e.externalId === '1003')!.labels).toEqual(['Abuse of vulnerability', 'Physical and sexual violence']);
    expect(d.labelSet).toEqual([...ILO_INDICATORS]);
    // the demo study (Excessive overtime) asks about exactly those articles' spans and labels
    const c = config('Excessive overtime');
    const t = taskFor(c, { ...a, id: 1, datasetId: 1, ordinal: 0 });
    expect(t.gold).toBe('yes');
    expect(t.rationale).toEqual(a.rationaleSpans);
    const other = taskFor(config('Isolation'), { ...a, id: 1, datasetId: 1, ordinal: 0 });
    expect([other.gold, other.rationale]).toEqual(['no', []]);
    // spans stored by older imports carry RaFoLa's two-digit number: read in RaFoLa's order
    expect(spanIndicator('05')).toBe('Excessive overtime');
    expect(spanIndicator('07')).toBe('Isolation');
    const legacy = { ...a, id: 1, datasetId: 1, ordinal: 0, rationaleSpans: a.rationaleSpans.map((s) => ({ ...s, label: '05' })) };
    expect(taskFor(c, legacy).rationale).toHaveLength(a.rationaleSpans.length);
  });

  it('RaFoLa import refuses a rationale header whose number and name disagree, naming row and group', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-rafola-'));
    const f = join(dir, 'bad.json');
    const article = { index: 1, title: 't', content: 'They worked 18-hour shifts.', labels: [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], rationales: [['11. Excessive overtime', '18-hour shifts']] };
    writeFileSync(f, JSON.stringify([article]));
    expect(() => importFile(f, { format: 'rafola' })).toThrow(`${f}: row 1, field "rationales": group 1: header "11. Excessive overtime": RaFoLa's number 11 is Withholding of wages, not Excessive overtime`);
    writeFileSync(f, JSON.stringify([{ ...article, rationales: [['05. excessive  overtime', '18-hour shifts']] }]));
    expect(importFile(f, { format: 'rafola' }).examples[0].rationaleSpans.map((s) => s.label)).toEqual(['Excessive overtime']);
    writeFileSync(f, JSON.stringify([{ ...article, rationales: [['05.', '18-hour shifts']] }]));
    expect(importFile(f, { format: 'rafola' }).examples[0].rationaleSpans.map((s) => s.label)).toEqual(['Excessive overtime']);
  });
});

describe('indicator definitions', () => {
  it('no file under studies/ is a copy of a file in ../shared/data', () => {
    const shared = new Set(files(join(SHARED, 'data')).filter((f) => statSync(f).size < 50e6).map(sha));
    const ours = files(join(REPO_ROOT, 'studies'));
    expect(ours.length).toBeGreaterThan(5);
    for (const f of ours) expect(shared.has(sha(f)), f).toBe(false);
  });

  it("the default is the project's own wording: the 11 indicators in ILO order, no sentence copied from RaFoLa", () => {
    const d = indicatorDefinitionsFor(config(5))!;
    expect(d).toEqual(builtinDefinitions('ilo-indicators'));
    expect(d).toMatchObject({ source: 'builtin', name: 'ilo-indicators' });
    // the built-in file itself lists them in ILO order
    expect((JSON.parse(readFileSync(OWN_DEFS, 'utf8')) as { label: string }[]).map((x) => x.label)).toEqual([...ILO_INDICATORS]);
    expect(d.indicators.map((i) => i.label)).toEqual([...ILO_INDICATORS]);
    expect(d.indicators.map((i) => i.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const rafola = new Map(rafolaRaw().map((x) => [x.label, x.definition]));
    for (const ind of d.indicators) {
      expect(ind.definition.length).toBeGreaterThan(60);
      expect(ind.definition).not.toBe(rafola.get(ind.label));
      // own words: no run of 6 or more consecutive words in common with RaFoLa's definition
      expect(longestCommonRun(ind.definition, rafola.get(ind.label)!), ind.label).toBeLessThan(6);
    }
    // a sentiment study needs none
    const r = parseStudyConfig({ name: 's', task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment-en' }, models: [{ path: 'm.gguf' }] });
    expect(r.ok && indicatorDefinitionsFor(r.config)).toBeUndefined();
  });

  it("RaFoLa's definitions.json is mapped by name: each definition lands at its ILO number", () => {
    const ind = loadIndicators(RAFOLA_DEFS);
    const raw = rafolaRaw();
    expect(ind.map((i) => i.label)).toEqual([...ILO_INDICATORS]);
    for (const i of ind) expect(i.definition).toBe(raw.find((x) => x.label === i.label)!.definition);
    // RaFoLa's 5th entry (Excessive overtime) is ILO 11; its 11th (Withholding of wages) is ILO 8
    expect(ind[10]).toEqual({ number: 11, label: 'Excessive overtime', definition: raw[4].definition });
    expect(ind[7]).toEqual({ number: 8, label: 'Withholding of wages', definition: raw[10].definition });
  });

  it('a study file can point at RaFoLa’s definitions; the stored config then carries RaFoLa’s exact wording, not the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-defs-'));
    const study = join(dir, 'fl.json');
    const overtime = rafolaRaw().find((x) => x.label === 'Excessive overtime')!.definition;
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 11 }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }], indicatorDefinitions: RAFOLA_DEFS }));
    const [s] = resolveStudies(study);
    expect(s.config).not.toHaveProperty('indicatorDefinitions'); // the validated config stays schema-clean
    const c = studyConfigOf(s);
    // the old top-level field is read into the schema's task.definitions, as text
    expect(c.task.definitions).toEqual({ ...readDefinitionsFile(RAFOLA_DEFS), source: 'file', name: 'definitions.json' });
    expect(JSON.stringify(c)).not.toContain(SHARED);
    expect(indicatorDefinitionsFor(c)!.indicators[10].definition).toBe(overtime);
    const ex = { id: 1, text: 'Workers did 16-hour shifts.', language: 'en', labels: ['Excessive overtime'], words: [], rationaleSpans: [] } as unknown as StoredExample;
    const t = taskFor(c, ex);
    expect(t.gold).toBe('yes');
    const prompt = buildTaskPrompt(t.spec, ex.text).turn1.map((p) => p.text).join('');
    expect(prompt).toContain(`"Excessive overtime"? Definition: ${overtime}`);
    // `run --definitions` (withDefinitions) replaces a study's own the same way
    const fromRun = withDefinitions(config(11), readDefinitionsFile(RAFOLA_DEFS));
    expect(fromRun.task.definitions).toEqual(c.task.definitions);
    const sentiment = studyConfigOf({ name: 's', file: 's', config: { name: 's', task: { kind: 'sentiment' }, dataset: { id: 1 }, models: [{ id: 1 }] } });
    expect(withDefinitions(sentiment, readDefinitionsFile(RAFOLA_DEFS))).toBe(sentiment);
    // relative paths are relative to the study file; task.definitions gives the same configuration
    writeFileSync(join(dir, 'defs.json'), readFileSync(RAFOLA_DEFS));
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 11 }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }], indicatorDefinitions: 'defs.json' }));
    const newStyle = join(dir, 'fl-new.json');
    writeFileSync(newStyle, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 11, definitions: 'defs.json' }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] }));
    expect(resolveStudies(newStyle)[0].config).toEqual(resolveStudies(study)[0].config);
    expect(studyConfigOf(resolveStudies(newStyle)[0]).task.definitions).toMatchObject({ source: 'file', name: 'defs.json', sha256: c.task.definitions!.sha256 });
    // a built-in name in a study file is the built-in, not a file next to it
    writeFileSync(newStyle, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 11, definitions: 'ilo-indicators' }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] }));
    expect(studyConfigOf(resolveStudies(newStyle)[0]).task.definitions).toEqual(builtinDefinitions('ilo-indicators'));
  });

  it('refuses a definitions file with a missing, unknown or repeated indicator, naming file and entry but not quoting it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-defs-'));
    const bad = join(dir, 'bad.json');
    const defs = JSON.parse(readFileSync(OWN_DEFS, 'utf8')) as { label: string; definition: string }[];
    // another order is fine: entries are mapped by name
    writeFileSync(bad, JSON.stringify([...defs].reverse()));
    expect(readDefinitionsFile(bad).indicators).toEqual(builtinDefinitions('ilo-indicators')!.indicators);
    expect(readDefinitionsFile(bad).sha256).toBe(builtinDefinitions('ilo-indicators')!.sha256);
    writeFileSync(bad, JSON.stringify([...defs.slice(0, 3), { label: 'SECRET-LABEL', definition: 'x' }, defs[2], ...defs.slice(5)]));
    expect(() => readDefinitionsFile(bad)).toThrow(
      `indicator definitions ${bad}: entry 4: its label (12 characters) is not the name of an ILO indicator; entry 5: Restriction of movement is given twice (also entry 3); missing Isolation, Physical and sexual violence (all 11 ILO indicators are needed)`,
    );
    writeFileSync(bad, 'SECRET {not json');
    expect(() => readDefinitionsFile(bad)).toThrow(/bad\.json: not valid JSON/);
    expect(() => readDefinitionsFile(bad)).not.toThrow(/SECRET/);
    expect(() => readDefinitionsFile(join(dir, 'gone.json'))).toThrow(`indicator definitions ${join(dir, 'gone.json')}: does not exist`);
    expect(() => readDefinitionsFile(dir)).toThrow(/is a directory|not a regular file/);
    // a device or a FIFO is refused unread (it could never end, or block waiting for a writer)
    expect(() => readDefinitionsFile('/dev/zero')).toThrow('indicator definitions /dev/zero: not a regular file');
    const fifo = join(dir, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status === 0) expect(() => readDefinitionsFile(fifo)).toThrow(`indicator definitions ${fifo}: not a regular file`);
    const study = join(dir, 'fl.json');
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5 }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }], indicatorDefinitions: 'nope.json' }));
    expect(() => resolveStudies(study)).toThrow(/fl\.json: field "indicatorDefinitions": indicator definitions .*nope\.json: does not exist/);
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5, definitions: 'nope.json' }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] }));
    expect(() => resolveStudies(study)).toThrow(/fl\.json: field "task\.definitions": indicator definitions .*nope\.json: does not exist/);
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5, definitions: 'a.json' }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }], indicatorDefinitions: 'b.json' }));
    expect(() => resolveStudies(study)).toThrow(/fl\.json: field "indicatorDefinitions": give the definitions file once, as "task\.definitions"/);
    // a configuration that names a path (e.g. stored before definitions were stored as text) is refused, unread
    const r = parseStudyConfig({ name: 'fl', task: { kind: 'forced-labour', indicator: 5, definitions: join(dir, 'bad.json') }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors[0].path).toBe('task.definitions');
    expect(!r.ok && r.errors[0].message).not.toContain('SECRET');
  });
});

describe('run --definitions', () => {
  it('is refused for studies without a forced-labour task, and an unreadable file is named, before anything runs', async () => {
    const { cliInProcess } = await import('../fixtures/cli-in-process');
    const dir = mkdtempSync(join(tmpdir(), 'rw-run-defs-'));
    const db = join(dir, 'db.sqlite');
    const r = await cliInProcess(['--db', db, 'run', 'demo-sentiment-en', '--definitions', RAFOLA_DEFS]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('error: --definitions is only for forced-labour studies; demo-sentiment-en has none');
    const gone = await cliInProcess(['--db', db, 'run', 'demo-forced-labour', '--definitions', join(dir, 'gone.json')]);
    expect(gone.code).toBe(1);
    expect(gone.err).toContain(`indicator definitions ${join(dir, 'gone.json')}: does not exist`);
  });
});
