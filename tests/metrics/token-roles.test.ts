import { describe, it, expect } from 'vitest';
import { relevanceShare, tokenRoles } from '../../main/metrics';
import { exampleMetrics } from '../../main/metrics/run-metrics';
import type { ResultRecord } from '../../main/store';

// A Llama-2-shaped prompt as the runner stores it: token text and prompt segment.
const T = (text: string, segment: string) => ({ text, segment });
const PROMPT = [
  T('<s>', 'template'), T(' [INST]', 'template'),
  T(' Consider', 'instruction'), T(':', 'instruction'),
  T(' great', 'text'), T(' film', 'text'),
  T(' \n', 'instruction'),
  T('(', 'options'), T('a', 'options'), T(')', 'options'), T(' positive', 'options'), T(' \n', 'options'),
  T('b', 'options'), T(')', 'options'), T(' negative', 'options'),
  T(' [/INST]', 'template'),
];

describe('token roles (the special-token mask)', () => {
  it('BOS, chat format, instruction, option letters and labels, text', () => {
    expect(tokenRoles(PROMPT)).toEqual([
      'bos', 'chat-format',
      'instruction', 'instruction',
      'text', 'text',
      'instruction',
      'option-letter', 'option-letter', 'option-letter', 'option-label', 'option-label',
      'option-letter', 'option-letter', 'option-label',
      'chat-format',
    ]);
  });
  it('a first template token that is not BOS is chat format (a template without BOS)', () => {
    expect(tokenRoles([T('<|im_start|>', 'template'), T('hi', 'text')])).toEqual(['chat-format', 'text']);
  });
});

describe('where relevance lands: shares of |R| and of positive R', () => {
  it('hand-computed', () => {
    // |R| total 1+2+3+0.5 = 6.5; positive total 1+3+0.5 = 4.5
    const r = relevanceShare([1, -2, 3, 0.5], ['bos', 'text', 'text', 'chat-format']);
    expect(r.bos.abs).toBeCloseTo(1 / 6.5, 12);
    expect(r.bos.positive).toBeCloseTo(1 / 4.5, 12);
    expect(r.text.abs).toBeCloseTo(5 / 6.5, 12);
    expect(r.text.positive).toBeCloseTo(3 / 4.5, 12);
    expect(r['chat-format'].positive).toBeCloseTo(0.5 / 4.5, 12);
    expect(relevanceShare([-1, 0], ['bos', 'text']).bos.positive).toBeNaN();
  });
  it('per example, by role, for each LRP method', () => {
    const values = [4, 1, 0.5, 0, 2, -1, 0, 1, 0.5, 0, 0, 0, 0.5, 0, -1, 1.5];
    const r = {
      id: 1, runId: 1, exampleId: 1, rawOutputs: {}, label: 'positive', correct: true, answerToken: 'a', answerProb: 0.9, optionProbs: {},
      selfExplanation: null, alignment: null, masks: {}, skippedReason: null, createdAt: '',
      tokens: PROMPT.map((t, i) => ({ id: i, text: t.text, start: 0, end: 0, segment: t.segment })),
      relevance: [{ method: 'lrp-cp', values: Float32Array.from(values), explainedValue: null, meta: null }],
    } as unknown as ResultRecord;
    const m = exampleMetrics(r, undefined);
    // |R| total = 4+1+0.5+2+1+1+0.5+0.5+1+1.5 = 13; positive total = 4+1+0.5+2+1+0.5+0.5+1.5 = 11
    expect(m['share:lrp-cp:bos']).toBeCloseTo(4 / 13, 6);
    expect(m['share+:lrp-cp:bos']).toBeCloseTo(4 / 11, 6);
    expect(m['share:lrp-cp:text']).toBeCloseTo(3 / 13, 6);
    expect(m['share+:lrp-cp:text']).toBeCloseTo(2 / 11, 6);
    // option letters (a) and b): 1 + 0.5 + 0 + 0.5 + 0 = 2 (|R|), positive the same
    expect(m['share:lrp-cp:option-letter']).toBeCloseTo(2 / 13, 6);
    // chat format: [INST] 1 and [/INST] 1.5
    expect(m['share:lrp-cp:chat-format']).toBeCloseTo(2.5 / 13, 6);
  });
});
