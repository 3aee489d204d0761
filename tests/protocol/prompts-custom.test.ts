/**
 * Study prompt templates (config.prompts) and custom label sets in the protocol's prompt builder: the
 * pieces a template gives, the turn-2 request it fills, and answers parsed to the study's own labels.
 */
import { describe, expect, it } from 'vitest';
import { parseStudyConfig } from '../../main/config/study-schema';
import { buildTaskPrompt, parseAnswer, type TaskSpec } from '../../main/protocol';
import { promptFor } from '../../main/protocol/task';
import { indicatorDefinitionsFor } from '../../main/runner';
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

describe('task placeholders: {indicator} {definition} (forced-labour), {claim} (claim)', () => {
  const OVERTIME = {
    number: 5,
    label: 'Excessive overtime',
    definition: 'Workers are made to work far longer hours or more days than the law or their agreement allows, with no real choice to refuse, for example very long shifts without rest days.',
  };
  const FL: TaskSpec = { task: 'forced-labour', indicator: OVERTIME };
  const CLAIM: TaskSpec = { task: 'claim', claim: 'Sea levels are rising.' };
  const ARTICLE = 'They worked 16 hours a day, seven days a week.';

  it('forced-labour turn 1: {indicator} and {definition}, any number of times, as instruction text', () => {
    const p = buildTaskPrompt(FL, ARTICLE, { turn1: '[{indicator}] {definition}\nArticle: {text}\nIs "{indicator}" present? {options}\nAnswer ({indicator}):' });
    expect(p.turn1).toEqual([
      { segment: 'instruction', text: `[Excessive overtime] ${OVERTIME.definition}\nArticle: ` },
      { segment: 'text', text: ARTICLE },
      { segment: 'instruction', text: '\nIs "Excessive overtime" present? ' },
      { segment: 'options', text: '(a) Yes, it contains evidence \n(b) No, it does not contain evidence' },
      { segment: 'instruction', text: '\nAnswer (Excessive overtime):' },
    ]);
  });

  it('forced-labour turn 2: {indicator} and {definition} next to {k} and {label}', () => {
    const p = buildTaskPrompt(FL, ARTICLE, { turn2: 'Up to {k} parts showing {indicator} ({label}); recall: {definition} {"rationales": []} {indicator}' });
    expect(p.explainRequest(p.options[0], 3)).toBe(`Up to 3 parts showing Excessive overtime (yes); recall: ${OVERTIME.definition} {"rationales": []} Excessive overtime`);
    expect(p.explainRequest(p.options[1], null)).toBe(`Up to  parts showing Excessive overtime (no); recall: ${OVERTIME.definition} {"rationales": []} Excessive overtime`);
  });

  it('claim: {claim} in both turns', () => {
    const p = buildTaskPrompt(CLAIM, ARTICLE, { turn1: 'Claim: {claim}\nEvidence: {text}\n{options}\nDoes it bear on "{claim}"?', turn2: 'Give {k} words on {claim}: {label}' });
    expect(p.turn1).toEqual([
      { segment: 'instruction', text: 'Claim: Sea levels are rising.\nEvidence: ' },
      { segment: 'text', text: ARTICLE },
      { segment: 'instruction', text: '\n' },
      { segment: 'options', text: '(a) The evidence supports the claim \n(b) The evidence refutes the claim \n(c) There is not enough information' },
      { segment: 'instruction', text: '\nDoes it bear on "Sea levels are rising."?' },
    ]);
    expect(p.explainRequest(p.options[2], 4)).toBe('Give 4 words on Sea levels are rising.: not enough information');
  });

  it('templates that spell out the built-in wording give the built-in pieces exactly (placeholders are plain instruction text)', () => {
    const choose = 'Choose one of the following options and start your answer with the respective letter: ';
    const fl = buildTaskPrompt(FL, ARTICLE, {
      turn1: `Consider the following news article: {text} \nDoes the article contain evidence of the forced labour indicator "{indicator}"? Definition: {definition} \n${choose}\n{options} \nAnswer:`,
      turn2: 'Return a maximum of {k} parts of the text that show evidence for the indicator "{indicator}". Return them as a JSON list of objects, each with the field "rationales".',
    });
    const flBuiltin = buildTaskPrompt(FL, ARTICLE);
    expect(fl.turn1).toEqual(flBuiltin.turn1);
    expect(fl.explainRequest(fl.options[0], 2)).toBe(flBuiltin.explainRequest(flBuiltin.options[0], 2));
    const cl = buildTaskPrompt(CLAIM, ARTICLE, { turn1: `Consider the following claim: {claim} \nand the following evidence: {text} \n${choose}\n{options} \nAnswer:` });
    expect(cl.turn1).toEqual(buildTaskPrompt(CLAIM, ARTICLE).turn1);
  });

  it('a placeholder the task does not provide is an error naming it, the task and the allowed list (before any model runs)', () => {
    expect(() => buildTaskPrompt(SENT, TEXT, { turn1: 'About {claim}: {text} {options}' })).toThrow(
      'prompt template turn 1 (task sentiment): placeholder {claim} is not available for task sentiment (only for claim); allowed: {text} {options}',
    );
    expect(() => buildTaskPrompt(CLAIM, TEXT, { turn1: '{indicator}: {text} {options}' })).toThrow(
      'prompt template turn 1 (task claim): placeholder {indicator} is not available for task claim (only for forced-labour); allowed: {text} {options} {claim}',
    );
    // turn 2 is checked when the prompt is built, not when the request is first asked for
    expect(() => buildTaskPrompt(FL, TEXT, { turn2: '{k} words for {claim}' })).toThrow(
      'prompt template turn 2 (task forced-labour): placeholder {claim} is not available for task forced-labour (only for claim); allowed: {text} {options} {k} {label} {indicator} {definition}',
    );
    expect(() => buildTaskPrompt(FL, TEXT, { turn2: '{k} {evidence}' })).toThrow(
      'prompt template turn 2 (task forced-labour): unknown placeholder {evidence}; allowed: {text} {options} {k} {label} {indicator} {definition}',
    );
    const custom: TaskSpec = { task: 'custom', language: 'en', intro: 'Mail: ', options: [{ label: 'spam', description: 'spam' }, { label: 'ham', description: 'ham' }] };
    expect(() => buildTaskPrompt(custom, TEXT, { turn1: '{text} {options} {definition}' })).toThrow('placeholder {definition} is not available for task custom (only for forced-labour); allowed: {text} {options}');
  });

  it('{definition} without definition text (no definitions file loaded) is an error, not an empty string', () => {
    const bare: TaskSpec = { task: 'forced-labour', indicator: { number: 5, label: 'Excessive overtime', definition: '' } };
    expect(() => buildTaskPrompt(bare, TEXT, { turn1: '{definition} {text} {options}' })).toThrow('{definition}: indicator 5 (Excessive overtime) has no definition text');
    expect(() => buildTaskPrompt(bare, TEXT, { turn2: '{k} {definition}' })).toThrow('{definition}: indicator 5 (Excessive overtime) has no definition text');
    // {indicator} alone needs no definition
    expect(buildTaskPrompt(bare, TEXT, { turn1: '{indicator}: {text} {options}' }).turn1[0]).toEqual({ segment: 'instruction', text: 'Excessive overtime: ' });
  });

  it('through the runner: the indicator and definition come from the definitions file the study uses; the claim from the example', () => {
    const cfg = (task: object, prompts: object) => {
      const r = parseStudyConfig({ name: 't', task, dataset: { id: 1 }, models: [{ id: 1 }], prompts });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.config;
    };
    const ex = (text: string, meta: Record<string, unknown> = {}) =>
      ({ id: 1, datasetId: 1, ordinal: 0, externalId: 'e1', language: 'en', text, labels: [], rationaleSpans: [], words: [], meta }) as unknown as StoredExample;
    // studies/data/ilo-indicators.json, the project's own definitions (the runner's default); ILO number 7
    // is retention of identity documents (10 in RaFoLa's alphabetical order, which this test used before)
    const fl = cfg({ kind: 'forced-labour', indicator: 7 }, { turn1: '{indicator} means: {definition}\n{text}\n{options}' });
    // the config records its definitions: promptFor needs no separate list
    expect(promptFor(fl, ex(ARTICLE)).prompt.turn1).toEqual(promptFor(fl, ex(ARTICLE), indicatorDefinitionsFor(fl)!.indicators).prompt.turn1);
    const { prompt } = promptFor(fl, ex(ARTICLE), indicatorDefinitionsFor(fl)!.indicators);
    expect(prompt.turn1.map((p) => p.text).join('')).toBe(
      "Retention of identity documents means: The employer or recruiter keeps the worker's passport, identity card or other personal documents, so the worker cannot leave, change jobs or prove their identity.\n" +
        `${ARTICLE}\n(a) Yes, it contains evidence \n(b) No, it does not contain evidence`,
    );
    const cl = cfg({ kind: 'claim-verification' }, { turn1: 'Claim: {claim} | {text} | {options}' });
    expect(promptFor(cl, ex(ARTICLE, { claim: 'Glaciers are retreating.' })).prompt.turn1.map((p) => p.text).join('')).toBe(
      `Claim: Glaciers are retreating. | ${ARTICLE} | (a) The evidence supports the claim \n(b) The evidence refutes the claim \n(c) There is not enough information`,
    );
  });
});
