import { describe, expect, it } from 'vitest';
import type { PlainResult } from '../../main/api/catalogue';
import { modelSaid, skipReasonText } from '../../renderer/src/lib/result-notes';
import { resultsAction, statusText } from '../../renderer/src/lib/run-view';

/**
 * What the Run monitor's "Results" button opens (issue 12 item 7), and what the Inspector says of a skipped
 * example and of what the model said (item 4), without a browser (tests/gui/journey-runs.test.ts shows them).
 */
describe('Run monitor: the Results button', () => {
  it('opens Results for a finished run, the stored examples of a partial one, nothing for a run with none', () => {
    expect(resultsAction({ status: 'done', progress: { done: 10, total: 10 } })).toBe('results');
    for (const status of ['running', 'queued', 'paused', 'stopped', 'failed', 'interrupted'] as const) {
      expect(resultsAction({ status, progress: { done: 3, total: 10 } })).toBe('so-far');
      expect(resultsAction({ status, progress: { done: 0, total: 10 } })).toBeNull();
    }
    expect(statusText({ status: 'interrupted' })).toBe('interrupted — resume');
    expect(statusText({ status: 'failed' })).toBe('failed');
  });
});

const result = (over: Partial<PlainResult>): Pick<PlainResult, 'skippedReason' | 'rawOutputs'> => ({ skippedReason: null, rawOutputs: {}, ...over });

describe('Inspector: skip reasons in words, what the model said', () => {
  it('says why each kind of skip happened, with what the runner stored', () => {
    expect(skipReasonText(result({}))).toBeNull();
    expect(skipReasonText(result({ skippedReason: 'context-overflow', rawOutputs: { promptTokens: 1468, limit: 300 } }))).toBe(
      "context overflow: the prompt has 1468 tokens, more than the study's context limit of 300; the example was not run",
    );
    expect(skipReasonText(result({ skippedReason: 'context-overflow', rawOutputs: { reason: 'generation reached the context size' } }))).toBe(
      "context overflow: the prompt does not fit the model's context (generation reached the context size)",
    );
    expect(skipReasonText(result({ skippedReason: 'invalid-answer', rawOutputs: { reason: 'no option letter' } }))).toBe(
      "invalid answer: the model's answer names none of the task's options (no option letter); counted wrong, not scored for plausibility",
    );
    expect(skipReasonText(result({ skippedReason: 'excluded-label' }))).toBe("label left out: the study's label mapping leaves this example's gold label out; it was not run");
    expect(skipReasonText(result({ skippedReason: 'wrong-answer' }))).toBe('wrong answer: the study explains correct answers only, so no explanation was asked for');
    expect(skipReasonText(result({ skippedReason: 'unparsable-self-explanation', rawOutputs: { turn2Error: 'budget reached' } }))).toBe(
      'the self-explanation could not be read as a list of words (budget reached)',
    );
    expect(skipReasonText(result({ skippedReason: 'unmatched-self-explanation' }))).toBe("none of the self-explanation's words were found in the text");
    expect(skipReasonText(result({ skippedReason: 'empty-human-rationale' }))).toMatch(/^no human rationale/);
    // an importer's own reason is shown as it is
    expect(skipReasonText(result({ skippedReason: 'self-explanation: too-short' }))).toBe('self-explanation: too-short');
    expect(skipReasonText(result({ skippedReason: 'not-run' }))).toBe('not run');
  });

  it('shows the answer and the self-explanation as the model wrote them, empty ones included', () => {
    expect(modelSaid(result({ rawOutputs: { turn1: ' f\tL overt', turn2: 'film, good', mode: 'paper' } }))).toEqual([
      { turn: 'Answer', text: ' f\tL overt' },
      { turn: 'Self-explanation', text: 'film, good' },
    ]);
    expect(modelSaid(result({ rawOutputs: { turn1: '' } }))).toEqual([{ turn: 'Answer', text: '' }]);
    expect(modelSaid(result({ rawOutputs: { promptTokens: 5 } }))).toEqual([]);
  });
});
