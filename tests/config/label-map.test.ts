// task.labelMap in the study configuration: a dataset label (exactly as written) -> one of the task's
// options or null; the targets are checked against the task's options, all problems at once.
import { describe, expect, it } from 'vitest';
import { parseStudyConfig } from '../../main/config/study-schema';

const base = { name: 's', dataset: { id: 1 }, models: [{ id: 1 }] };
const parse = (task: object) => parseStudyConfig({ ...base, task });

describe('study config: task.labelMap', () => {
  it('keeps a valid mapping exactly as written (null leaves examples out)', () => {
    const r = parse({ kind: 'forced-labour', indicator: 3, labelMap: { yes: 'yes', no: 'no', ' Unclear ': null } });
    expect(r.ok && r.config.task.labelMap).toEqual({ yes: 'yes', no: 'no', ' Unclear ': null });
    const s = parse({ kind: 'claim-verification', labelMap: { NEI: 'not-enough-info' } });
    expect(s.ok).toBe(true);
    const c = parse({ kind: 'custom', labels: ['spam', 'ham'], labelMap: { junk: 'spam' } });
    expect(c.ok).toBe(true);
  });

  it('is absent from the parsed config when not given', () => {
    const r = parse({ kind: 'sentiment' });
    expect(r.ok && 'labelMap' in r.config.task).toBe(false);
  });

  it('refuses targets that are not options of the task, naming each label and the options', () => {
    const r = parse({ kind: 'forced-labour', indicator: 3, labelMap: { yes: 'Yes', no: 'nein', '': 'no' } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      { path: 'task.labelMap.yes', message: 'maps to "Yes", which is not an option of forced-labour (yes, no, or null to leave those examples out)' },
      { path: 'task.labelMap.no', message: 'maps to "nein", which is not an option of forced-labour (yes, no, or null to leave those examples out)' },
      { path: 'task.labelMap', message: 'has a blank dataset label ""' },
    ]);
  });

  it("a custom task's options are its labels; other types are refused with the rest, at once", () => {
    const r = parse({ kind: 'custom', labels: ['spam', 'ham'], labelMap: { x: 'positive', y: 5 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(
      expect.arrayContaining([
        { path: 'task.labelMap.y', message: "expected one of the task's options (a string) or null, got number 5" },
        { path: 'task.labelMap.x', message: 'maps to "positive", which is not an option of custom (spam, ham, or null to leave those examples out)' },
      ]),
    );
    const s = parse({ kind: 'sentiment', labelMap: ['positive'] });
    expect(!s.ok && s.errors.map((e) => e.path)).toEqual(['task.labelMap']);
  });
});
