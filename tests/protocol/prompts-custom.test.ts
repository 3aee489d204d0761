/**
 * Study prompt templates (config.prompts) and custom label sets in the protocol's prompt builder: the
 * pieces a template gives, the turn-2 request it fills, and answers parsed to the study's own labels.
 */
import { describe, expect, it } from 'vitest';
import { parseStudyConfig } from '../../main/config/study-schema';
import { buildTaskPrompt, parseAnswer, type TaskSpec } from '../../main/protocol';
import { promptFor } from '../../main/runner/example';
import type { StoredExample } from '../../main/store';

const SENT: TaskSpec = { task: 'sentiment', language: 'en' };
const TEXT = 'A warm, funny film.';

describe('prompt templates', () => {
  it('turn 1: literal parts become instructions, {text} the text and {options} the lettered options', () => {
    const p = buildTaskPrompt(SENT, TEXT, { turn1: 'Review ->{text}<-\nPick: {options}\nLetter:' });
    expect(p.turn1).toEqual([
      { segment: 'instruction', text: 'Review ->' },
      { segment: 'text', text: TEXT },
      { segment: 'instruction', text: '<-\nPick: ' },
      { segment: 'options', text: '(a) This review is overall rather positive \n(b) This review is overall rather negative' },
      { segment: 'instruction', text: '\nLetter:' },
    ]);
    // the options and the turn-2 request stay the task's when only turn 1 is templated
    const builtin = buildTaskPrompt(SENT, TEXT);
    expect(p.options).toEqual(builtin.options);
    expect(p.explainRequest(p.options[0], 3)).toBe(builtin.explainRequest(builtin.options[0], 3));
  });

  it('turn 1 may start with the text and end with the options (no empty pieces)', () => {
    const p = buildTaskPrompt(SENT, TEXT, { turn1: '{text}{options}' });
    expect(p.turn1.map((x) => x.segment)).toEqual(['text', 'options']);
  });

  it('turn 2: fills {k}, {label}, {text}, {options} and leaves JSON braces alone', () => {
    const p = buildTaskPrompt(SENT, TEXT, { turn2: 'Give {k} words why it is {label}, as {"rationales": [...]}' });
    expect(p.explainRequest(p.options[1], 4)).toBe('Give 4 words why it is negative, as {"rationales": [...]}');
    expect(p.explainRequest(p.options[0], null)).toBe('Give  words why it is positive, as {"rationales": [...]}');
    const q = buildTaskPrompt({ task: 'sentiment', language: 'da' }, TEXT, { turn2: '[{text}] [{options}] {label}' });
    expect(q.explainRequest(q.options[0], 2)).toBe(`[${TEXT}] [(a) Denne anmeldelse er samlet set overvejende positiv \n(b) Denne anmeldelse er samlet set overvejende negativ] positiv`);
    // turn 1 stays built-in
    expect(q.turn1).toEqual(buildTaskPrompt({ task: 'sentiment', language: 'da' }, TEXT).turn1);
  });

  it('refuses a turn 1 without the text exactly once, or with a placeholder it cannot fill', () => {
    expect(() => buildTaskPrompt(SENT, TEXT, { turn1: '{options}' })).toThrow('must contain {text} exactly once, found 0');
    expect(() => buildTaskPrompt(SENT, TEXT, { turn1: '{text} {text} {options}' })).toThrow('must contain {text} exactly once, found 2');
    expect(() => buildTaskPrompt(SENT, TEXT, { turn1: '{text} {options} at most {k}' })).toThrow('unknown placeholder {k}');
    expect(() => buildTaskPrompt(SENT, TEXT, { turn2: '{why}' }).explainRequest(buildTaskPrompt(SENT, TEXT).options[0], 1)).toThrow('unknown placeholder {why}');
  });
});

describe('custom label sets', () => {
  const config = (extra: object = {}) => {
    const r = parseStudyConfig({ name: 'c', task: { kind: 'custom', labels: ['spam', 'ham', 'promo'] }, dataset: { id: 1 }, models: [{ id: 1 }], ...extra });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.config;
  };
  const ex: StoredExample = {
    id: 1, datasetId: 1, ordinal: 0, externalId: 'e1', language: 'en', text: 'Win a free cruise now!', labels: ['Spam'],
    rationaleSpans: [], words: [], meta: {},
  } as unknown as StoredExample;

  it('letters the labels (a), (b), (c) in the given order; gold is the example label', () => {
    const { prompt, gold } = promptFor(config(), ex);
    expect(gold).toBe('spam');
    expect(prompt.options.map((o) => [o.letter, o.label])).toEqual([['a', 'spam'], ['b', 'ham'], ['c', 'promo']]);
    expect(prompt.turn1.map((p) => p.text).join('')).toBe(
      'Consider the following text: Win a free cruise now! \nChoose one of the following options and start your answer with the respective letter: \n(a) spam \n(b) ham \n(c) promo \nAnswer:',
    );
  });

  it('uses the study templates through the same function the runner uses', () => {
    const { prompt } = promptFor(config({ prompts: { turn1: 'E-mail: {text}\nClass? {options}\nAnswer:' } }), ex);
    expect(prompt.turn1.map((p) => p.text).join('')).toBe('E-mail: Win a free cruise now!\nClass? (a) spam \n(b) ham \n(c) promo\nAnswer:');
  });

  it('parses answers to the study labels; anything else is invalid', () => {
    const { options } = promptFor(config(), ex).prompt;
    const label = (s: string) => {
      const r = parseAnswer(s, options);
      return r.status === 'ok' ? r.option.label : 'invalid';
    };
    expect(label('(c) promo')).toBe('promo');
    expect(label('b)')).toBe('ham');
    expect(label('Spam, clearly.')).toBe('spam');
    expect(label('I think this is promo.')).toBe('promo');
    expect(label('(d)')).toBe('invalid');
    expect(label('It is spam or ham.')).toBe('invalid');
    expect(label('No idea.')).toBe('invalid');
  });
});
