// Gold labels under a task (main/protocol/gold.ts): which option an example's dataset label stands for,
// the refusal of labels that stand for none, and correctness decided by option (classify.isCorrect).
import { describe, expect, it } from 'vitest';
import { RAFOLA_ORDER } from '../../main/protocol/indicators';
import { isCorrect } from '../../main/protocol/classify';
import { checkGoldLabels, describeLabelCheck, goldLabel, goldRule, taskOptionLabels, type GoldTask } from '../../main/protocol/gold';
import { buildTaskPrompt } from '../../main/protocol/prompts';

const fl = (labelMap?: GoldTask['labelMap']): GoldTask => ({ kind: 'forced-labour', indicator: 'Debt bondage', ...(labelMap ? { labelMap } : {}) });
const gold = (labels: string[], task: GoldTask) => goldLabel(labels, goldRule(task));

describe('the task options are the protocol prompt options', () => {
  it('reads them from the prompt builder, not from a second list', () => {
    expect(taskOptionLabels({ kind: 'sentiment' })).toEqual(buildTaskPrompt({ task: 'sentiment', language: 'da' }, 'x').options.map((o) => o.label));
    expect(taskOptionLabels({ kind: 'forced-labour' })).toEqual(['yes', 'no']);
    expect(taskOptionLabels({ kind: 'claim-verification' })).toEqual(['supports', 'refutes', 'not-enough-info']);
    expect(taskOptionLabels({ kind: 'custom', labels: ['spam', 'ham'] })).toEqual(['spam', 'ham']);
  });
});

describe('gold labels without a mapping', () => {
  it('sentiment and claims: the option named, case-insensitively, with _ - and space alike', () => {
    expect(gold(['Positive'], { kind: 'sentiment' })).toEqual({ status: 'ok', label: 'positive' });
    // Climate-FEVER's own spelling of the third class
    expect(gold(['NOT_ENOUGH_INFO'], { kind: 'claim-verification' })).toEqual({ status: 'ok', label: 'not-enough-info' });
    expect(gold(['SUPPORTS'], { kind: 'claim-verification' })).toEqual({ status: 'ok', label: 'supports' });
    expect(gold(['Spam'], { kind: 'custom', labels: ['spam', 'ham'] })).toEqual({ status: 'ok', label: 'spam' });
  });

  it('refuses what names no option: other words, no label, several labels for a one-label task', () => {
    expect(gold(['neutral'], { kind: 'sentiment' })).toMatchObject({ status: 'unmapped', value: 'neutral' });
    expect(gold(['1'], { kind: 'sentiment' })).toMatchObject({ status: 'unmapped', value: '1' });
    expect(gold([], { kind: 'sentiment' })).toMatchObject({ status: 'unmapped', value: '' });
    expect(gold(['positive', 'negative'], { kind: 'sentiment' })).toMatchObject({ status: 'unmapped', value: 'positive|negative' });
  });

  it("forced-labour follows RaFoLa: the indicators' names present; none present is no", () => {
    expect(RAFOLA_ORDER[2]).toBe('Debt bondage');
    expect(gold(['Debt bondage', 'Deception'], fl())).toEqual({ status: 'ok', label: 'yes' });
    expect(gold(['debt BONDAGE'], fl())).toEqual({ status: 'ok', label: 'yes' });
    expect(gold(['Deception'], fl())).toEqual({ status: 'ok', label: 'no' });
    expect(gold([], fl())).toEqual({ status: 'ok', label: 'no' });
  });

  it('forced-labour refuses a bare yes/no (it does not say which indicator) and unknown names', () => {
    const yes = gold(['yes'], fl());
    expect(yes).toMatchObject({ status: 'unmapped', value: 'yes' });
    expect(yes.status === 'unmapped' && yes.reason).toContain('which indicator');
    expect(yes.status === 'unmapped' && yes.reason).toContain('Debt bondage');
    expect(gold(['Forced overtime'], fl())).toMatchObject({ status: 'unmapped', value: 'Forced overtime' });
  });
});

describe('gold labels with the study mapping (task.labelMap)', () => {
  it('maps exactly as written, and wins over the default rule', () => {
    expect(gold(['yes'], fl({ yes: 'yes', no: 'no' }))).toEqual({ status: 'ok', label: 'yes' });
    expect(gold(['no'], fl({ yes: 'yes', no: 'no' }))).toEqual({ status: 'ok', label: 'no' });
    expect(gold(['pos'], { kind: 'sentiment', labelMap: { pos: 'positive' } })).toEqual({ status: 'ok', label: 'positive' });
    // other labels still follow the default rule
    expect(gold(['negative'], { kind: 'sentiment', labelMap: { pos: 'positive' } })).toEqual({ status: 'ok', label: 'negative' });
    // keys are exact: "Pos" is not "pos"
    expect(gold(['Pos'], { kind: 'sentiment', labelMap: { pos: 'positive' } })).toMatchObject({ status: 'unmapped' });
    // an inverted mapping is honoured (the user's statement), not second-guessed
    expect(gold(['positive'], { kind: 'sentiment', labelMap: { positive: 'negative' } })).toEqual({ status: 'ok', label: 'negative' });
  });

  it('null leaves the examples out', () => {
    expect(gold(['neutral'], { kind: 'sentiment', labelMap: { neutral: null } })).toEqual({ status: 'excluded', value: 'neutral' });
    expect(gold(['unclear'], fl({ unclear: null }))).toEqual({ status: 'excluded', value: 'unclear' });
  });

  it('refuses contradictions in one example', () => {
    expect(gold(['yes', 'no'], fl({ yes: 'yes', no: 'no' }))).toMatchObject({ status: 'unmapped', value: 'yes|no' });
    expect(gold(['Debt bondage', 'none'], fl({ none: 'no' }))).toMatchObject({ status: 'unmapped', value: 'Debt bondage|none' });
  });
});

describe('the check of a dataset', () => {
  const examples = Array.from({ length: 30 }, (_, i) => ({ id: 100 + i, externalId: `r${i + 1}`, ordinal: i, labels: [i % 3 === 0 ? 'neutral' : i % 3 === 1 ? 'positive' : 'meh'] }));

  it('lists every value that does not map, with its count and first examples (capped), all at once', () => {
    const c = checkGoldLabels(examples, goldRule({ kind: 'sentiment' }), 4);
    expect(c.ok).toBe(false);
    expect(c.checked).toBe(30);
    expect(c.count).toBe(20);
    expect(c.unmapped.map((v) => [v.value, v.count])).toEqual([['neutral', 10], ['meh', 10]]);
    expect(c.unmapped[0].examples).toEqual([
      { exampleId: 100, externalId: 'r1', position: 1 },
      { exampleId: 103, externalId: 'r4', position: 4 },
      { exampleId: 106, externalId: 'r7', position: 7 },
      { exampleId: 109, externalId: 'r10', position: 10 },
    ]);
    const msg = describeLabelCheck(c, { id: 7, name: 'reviews' });
    expect(msg).toContain('dataset "reviews" (id 7): 20 of 30 examples');
    expect(msg).toContain('"neutral" is not an option of the task nor mapped: 10 examples, 1 (id r1), 4 (id r4), 7 (id r7), 10 (id r10) and 6 more');
    expect(msg).toContain('"meh"');
    expect(msg).toContain('task.labelMap');
  });

  it('passes once every value is mapped, counting the examples left out', () => {
    const c = checkGoldLabels(examples, goldRule({ kind: 'sentiment', labelMap: { neutral: null, meh: 'negative' } }));
    expect(c).toMatchObject({ ok: true, count: 0, excluded: 10, unmapped: [] });
  });
});

describe('correctness is decided by option', () => {
  const options = buildTaskPrompt({ task: 'forced-labour', indicator: { number: 3, label: 'Debt bondage', definition: 'd' } }, 'x').options;
  const [yes, no] = options;

  it('an unmapped or excluded gold label is never correct, whatever the answer', () => {
    for (const answer of [yes, no, null]) {
      expect(isCorrect(answer, { status: 'unmapped', value: 'yes', reason: 'r' })).toBe(false);
      expect(isCorrect(answer, { status: 'excluded', value: 'yes' })).toBe(false);
    }
  });

  it('the answered option against the gold option', () => {
    expect(isCorrect(yes, gold(['yes'], fl({ yes: 'yes', no: 'no' })))).toBe(true);
    expect(isCorrect(no, gold(['yes'], fl({ yes: 'yes', no: 'no' })))).toBe(false);
    expect(isCorrect(no, gold(['no'], fl({ yes: 'yes', no: 'no' })))).toBe(true);
    expect(isCorrect(null, gold(['no'], fl({ yes: 'yes', no: 'no' })))).toBe(false);
  });
});
