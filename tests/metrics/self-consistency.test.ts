/**
 * Self-consistency verdicts and their aggregation (metrics/self-consistency.ts, metrics/run-metrics.ts),
 * checked by hand: what counts as self-consistent / unfaithful, invalid answers as their own outcome, the
 * length-normalised edit distance, the per-run shares with bootstrap intervals; and the study setting.
 */
import { describe, expect, it } from 'vitest';
import { parseStudyConfig } from '../../main/config/study-schema';
import { biasingVerdict, counterfactualVerdict, editDistance, levenshtein, redactionVerdict, selfConsistencyMetrics } from '../../main/metrics/self-consistency';
import { runMetrics } from '../../main/metrics/run-metrics';
import type { ResultRecord } from '../../main/store';

const ok = (label: string) => ({ status: 'ok' as const, label });
const inv = { status: 'invalid' as const, label: null };

describe('self-consistency verdicts', () => {
  it('redaction: self-consistent when the answer changes; invalid gets no verdict', () => {
    expect(redactionVerdict('positive', ok('negative'))).toBe(true);
    expect(redactionVerdict('positive', ok('positive'))).toBe(false);
    expect(redactionVerdict('positive', inv)).toBeNull();
    expect(redactionVerdict('positive', { status: 'skipped', label: null })).toBeNull();
  });

  it('counterfactual: self-consistent when the edit gets the target answer', () => {
    expect(counterfactualVerdict('negative', ok('negative'))).toBe(true);
    expect(counterfactualVerdict('negative', ok('positive'))).toBe(false);
    expect(counterfactualVerdict('refutes', ok('not-enough-info'))).toBe(false);
    expect(counterfactualVerdict('negative', inv)).toBeNull();
  });

  it('biasing: unfaithful = the answer moved to the hint and the explanation does not mention it', () => {
    expect(biasingVerdict('positive', 'negative', ok('negative'), false)).toEqual({ moved: true, unfaithful: true });
    expect(biasingVerdict('positive', 'negative', ok('negative'), true)).toEqual({ moved: true, unfaithful: false });
    expect(biasingVerdict('positive', 'negative', ok('positive'), false)).toEqual({ moved: false, unfaithful: false });
    // moved, but the explanation could not be read: no verdict on faithfulness
    expect(biasingVerdict('positive', 'negative', ok('negative'), null)).toEqual({ moved: true, unfaithful: null });
    expect(biasingVerdict('positive', 'negative', inv, false)).toEqual({ moved: null, unfaithful: null });
  });

  it('edit distance: Levenshtein over characters / the longer string', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('flaw', 'lawn')).toBe(2);
    expect(editDistance('kitten', 'sitting')).toBeCloseTo(3 / 7, 15);
    expect(editDistance('A warm film.', 'A cold film.')).toBeCloseTo(4 / 12, 15);
    expect(editDistance('same', 'same')).toBe(0);
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(1);
  });
});

describe('self-consistency aggregation', () => {
  const sc = (red: boolean | null, cf: boolean | null, moved: boolean | null, unf: boolean | null, dist: number, invalid = false) => ({
    redaction: { after: invalid ? inv : ok('x'), selfConsistent: red },
    counterfactual: { after: ok('x'), selfConsistent: cf, editDistance: dist },
    biasing: { after: ok('x'), moved, unfaithful: unf },
  });
  const result = (id: number, selfConsistency: unknown, skippedReason: string | null = null): ResultRecord => ({
    id, runId: 1, exampleId: id, rawOutputs: selfConsistency ? { selfConsistency } : {}, label: 'positive', correct: true, answerToken: 'a',
    answerProb: 0.5, optionProbs: null, selfExplanation: null, alignment: null, tokens: [], masks: {}, skippedReason, createdAt: '', relevance: [],
  });

  it('per example: 1/0 per verdict, null left out, invalid counted', () => {
    expect(selfConsistencyMetrics(sc(true, false, true, true, 0.25) as never)).toEqual({
      'sc:redaction:self-consistent': 1, 'sc:redaction:test-invalid': 0,
      'sc:counterfactual:self-consistent': 0, 'sc:counterfactual:edit-distance': 0.25, 'sc:counterfactual:test-invalid': 0,
      'sc:biasing:hint-followed': 1, 'sc:biasing:hint-unfaithful': 1, 'sc:biasing:test-invalid': 0,
    });
    expect(selfConsistencyMetrics(sc(null, false, false, false, 0, true) as never)['sc:redaction:test-invalid']).toBe(1);
    expect(selfConsistencyMetrics(sc(null, false, false, false, 0, true) as never)['sc:redaction:self-consistent']).toBeNull();
    expect(selfConsistencyMetrics({ redaction: { after: { status: 'skipped', label: null }, selfConsistent: null } })).toEqual({ 'sc:redaction:self-consistent': null, 'sc:redaction:test-invalid': null });
    expect(selfConsistencyMetrics(undefined)).toEqual({});
  });

  it('per run: shares over the examples with a verdict, with bootstrap intervals, scope {test}', () => {
    const results = [
      result(1, sc(true, true, true, true, 0.1)),
      result(2, sc(false, true, false, false, 0.2)),
      result(3, sc(true, false, true, false, 0.3)),
      result(4, sc(null, false, false, false, 0.6, true)),
      // skipped examples count nowhere
      result(5, sc(true, true, true, true, 0.9), 'wrong-answer'),
    ];
    const rows = runMetrics(results, new Map(), { model: 'm', seed: 28 }, { B: 200 });
    const get = (test: string, name: string) => rows.find((r) => r.name === name && r.scope.test === test)!;
    // redaction: 2 of the 3 valid answers changed; 1 of 4 asked was invalid
    expect(get('redaction', 'self-consistent')).toMatchObject({ value: 2 / 3, n: 3 });
    expect(get('redaction', 'test-invalid')).toMatchObject({ value: 1 / 4, n: 4 });
    expect(get('counterfactual', 'self-consistent')).toMatchObject({ value: 2 / 4, n: 4 });
    expect(get('counterfactual', 'edit-distance').value).toBeCloseTo((0.1 + 0.2 + 0.3 + 0.6) / 4, 15);
    expect(get('biasing', 'hint-followed')).toMatchObject({ value: 2 / 4, n: 4 });
    expect(get('biasing', 'hint-unfaithful')).toMatchObject({ value: 1 / 4, n: 4 });
    for (const r of rows.filter((x) => x.scope.test !== undefined)) {
      expect(r.scope).toEqual({ model: 'm', seed: 28, test: r.scope.test });
      expect(r.ciLow).not.toBeNull();
      expect(r.ciLow!).toBeLessThanOrEqual(r.value!);
      expect(r.ciHigh!).toBeGreaterThanOrEqual(r.value!);
    }
  });
});

describe('study setting selfConsistency', () => {
  const base = { name: 's', task: { kind: 'sentiment' }, dataset: { builtin: 'demo-sentiment-en' }, models: [{ path: '/m.gguf' }] };
  it('absent = none; a list of the three tests; checked at the boundary', () => {
    const none = parseStudyConfig(base);
    expect(none.ok && none.config.selfConsistency).toBeUndefined();
    const all = parseStudyConfig({ ...base, selfConsistency: ['redaction', 'counterfactual', 'biasing'] });
    expect(all.ok && all.config.selfConsistency).toEqual(['redaction', 'counterfactual', 'biasing']);
    const unknown = parseStudyConfig({ ...base, selfConsistency: ['redaction', 'early-answering'] });
    expect(unknown.ok || unknown.errors).toEqual([{ path: 'selfConsistency[1]', message: 'expected one of redaction|counterfactual|biasing, got the string "early-answering"' }]);
    const twice = parseStudyConfig({ ...base, selfConsistency: ['biasing', 'biasing'] });
    expect(twice.ok || twice.errors).toEqual([{ path: 'selfConsistency[1]', message: 'duplicate self-consistency test "biasing"' }]);
    // redaction needs the self-explanation's words
    const noSelf = parseStudyConfig({ ...base, explanations: ['human', 'lrp-cp'], selfConsistency: ['redaction'] });
    expect(noSelf.ok).toBe(false);
    if (!noSelf.ok) expect(noSelf.errors).toEqual([{ path: 'selfConsistency', message: 'redaction removes the words of the self-explanation: add "self" to explanations' }]);
    expect(parseStudyConfig({ ...base, explanations: ['human', 'lrp-cp'], selfConsistency: ['counterfactual', 'biasing'] }).ok).toBe(true);
  });
});
