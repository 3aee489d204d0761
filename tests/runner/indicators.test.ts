/**
 * Forced-labour indicator definitions: the project ships its own (studies/data/ilo-indicators.json),
 * never a copy of ../shared data; a study (or `run --definitions`) can point at another file such as
 * RaFoLa's definitions.json, whose exact wording is read from ../shared here.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStudyConfig, type StudyConfig } from '../../main/config/study-schema';
import { RAFOLA_INDICATORS } from '../../main/datasets/rafola';
import { buildTaskPrompt, loadIndicators } from '../../main/protocol';
import { DEFAULT_INDICATOR_DEFINITIONS, REPO_ROOT, resolveStudies } from '../../main/runner/builtins';
import { taskFor } from '../../main/runner/example';
import { indicatorDefinitionsFor } from '../../main/runner/study';
import type { StoredExample } from '../../main/store';

const SHARED = resolve(REPO_ROOT, '../shared');
const RAFOLA_DEFS = join(SHARED, 'data/rafola/definitions.json');

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

const config = (indicator: number): StudyConfig => {
  const r = parseStudyConfig({ name: 'fl', task: { kind: 'forced-labour', indicator }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
};

describe('indicator definitions', () => {
  it('no file under studies/ is a copy of a file in ../shared/data', () => {
    const shared = new Set(files(join(SHARED, 'data')).filter((f) => statSync(f).size < 50e6).map(sha));
    const ours = files(join(REPO_ROOT, 'studies'));
    expect(ours.length).toBeGreaterThan(5);
    for (const f of ours) expect(shared.has(sha(f)), f).toBe(false);
  });

  it("the default is the project's own wording: RaFoLa's 11 labels in its order, no sentence copied", () => {
    const d = indicatorDefinitionsFor(config(5))!;
    expect(d.file).toBe(DEFAULT_INDICATOR_DEFINITIONS);
    expect(d.indicators.map((i) => i.label)).toEqual([...RAFOLA_INDICATORS]);
    expect(d.indicators.map((i) => i.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const rafola = loadIndicators(RAFOLA_DEFS);
    d.indicators.forEach((ind, i) => {
      expect(ind.definition.length).toBeGreaterThan(60);
      expect(ind.definition).not.toBe(rafola[i].definition);
      // own words: no run of 6 or more consecutive words in common with RaFoLa's definition
      expect(longestCommonRun(ind.definition, rafola[i].definition), ind.label).toBeLessThan(6);
    });
    // a sentiment study needs none
    const r = parseStudyConfig({ name: 's', task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment-en' }, models: [{ path: 'm.gguf' }] });
    expect(r.ok && indicatorDefinitionsFor(r.config)).toBeUndefined();
  });

  it('a study file can point at RaFoLa’s definitions; the prompt then carries RaFoLa’s exact wording', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-defs-'));
    const study = join(dir, 'fl.json');
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5 }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }], indicatorDefinitions: RAFOLA_DEFS }));
    const [s] = resolveStudies(study);
    expect(s.indicatorDefinitions).toBe(RAFOLA_DEFS);
    expect(s.config).not.toHaveProperty('indicatorDefinitions'); // the validated config stays schema-clean
    const r = parseStudyConfig(s.config);
    expect(r.ok).toBe(true);
    // the old top-level field is migrated into the schema's task.definitions, which the runner reads
    expect(r.ok && r.config.task).toEqual({ kind: 'forced-labour', labels: ['yes', 'no'], indicator: 5, definitions: RAFOLA_DEFS });
    expect(r.ok && indicatorDefinitionsFor(r.config)!.file).toBe(RAFOLA_DEFS);
    expect(r.ok && indicatorDefinitionsFor(r.config)!.indicators[4].definition).toBe(loadIndicators(RAFOLA_DEFS)[4].definition);
    const d = indicatorDefinitionsFor(config(5), s.indicatorDefinitions)!;
    const rafola = JSON.parse(readFileSync(RAFOLA_DEFS, 'utf8')) as { label: string }[];
    expect(rafola[4].label).toBe('Excessive overtime');
    const expected = loadIndicators(RAFOLA_DEFS)[4].definition;
    expect(d.indicators[4].definition).toBe(expected);
    const ex = { id: 1, text: 'Workers did 16-hour shifts.', language: 'en', labels: ['Excessive overtime'], words: [], rationaleSpans: [] } as unknown as StoredExample;
    const t = taskFor(config(5), ex, d.indicators);
    expect(t.gold).toBe('yes');
    const prompt = buildTaskPrompt(t.spec, ex.text).turn1.map((p) => p.text).join('');
    expect(prompt).toContain(`"Excessive overtime"? Definition: ${expected}`);
    // relative paths are relative to the study file
    writeFileSync(join(dir, 'defs.json'), readFileSync(DEFAULT_INDICATOR_DEFINITIONS));
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5 }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }], indicatorDefinitions: 'defs.json' }));
    expect(resolveStudies(study)[0].indicatorDefinitions).toBe(join(dir, 'defs.json'));
    // the new field: task.definitions, also relative to the study file, gives the same configuration
    const newStyle = join(dir, 'fl-new.json');
    writeFileSync(newStyle, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5, definitions: 'defs.json' }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] }));
    expect(resolveStudies(newStyle)[0].config).toEqual(resolveStudies(study)[0].config);
    expect((resolveStudies(newStyle)[0].config as { task: { definitions: string } }).task.definitions).toBe(join(dir, 'defs.json'));
  });

  it('refuses a definitions file with other labels or a missing one, naming file and entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-defs-'));
    const bad = join(dir, 'bad.json');
    const defs = JSON.parse(readFileSync(DEFAULT_INDICATOR_DEFINITIONS, 'utf8')) as { label: string; definition: string }[];
    [defs[2], defs[3]] = [defs[3], defs[2]];
    writeFileSync(bad, JSON.stringify(defs));
    expect(() => indicatorDefinitionsFor(config(1), bad)).toThrow(/bad\.json: entry 3: label "Deception", expected "Debt bondage"/);
    writeFileSync(bad, JSON.stringify(defs.slice(0, 4)));
    expect(() => indicatorDefinitionsFor(config(1), bad)).toThrow(/bad\.json: 4 indicators/);
    const study = join(dir, 'fl.json');
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5 }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }], indicatorDefinitions: 'nope.json' }));
    expect(() => resolveStudies(study)).toThrow(/fl\.json: field "indicatorDefinitions": .*nope\.json does not exist/);
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5, definitions: 'nope.json' }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] }));
    expect(() => resolveStudies(study)).toThrow(/fl\.json: field "task\.definitions": .*nope\.json does not exist/);
    writeFileSync(study, JSON.stringify({ name: 'fl', task: { kind: 'forced-labour', indicator: 5, definitions: 'a.json' }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }], indicatorDefinitions: 'b.json' }));
    expect(() => resolveStudies(study)).toThrow(/fl\.json: field "indicatorDefinitions": give the definitions file once, as "task\.definitions"/);
    // a stored configuration naming a missing file is refused with the field's name
    const r = parseStudyConfig({ name: 'fl', task: { kind: 'forced-labour', indicator: 5, definitions: join(dir, 'gone.json') }, dataset: { builtin: 'demo-news' }, models: [{ path: 'm.gguf' }] });
    expect(() => r.ok && indicatorDefinitionsFor(r.config)).toThrow(/task\.definitions: .*gone\.json do not exist/);
  });
});
