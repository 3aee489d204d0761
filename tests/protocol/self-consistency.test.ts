/**
 * The self-consistency tests' prompt builders (protocol/self-consistency.ts), checked by hand: redaction of
 * the matched spans, the option a test pushes toward, the counterfactual request, the biasing hint and where
 * it goes in turn 1, the edit read from the model's answer, and which explanation items name the hint.
 */
import { describe, expect, it } from 'vitest';
import { buildTaskPrompt } from '../../main/protocol/prompts';
import { alignSelfExplanation } from '../../main/protocol/align';
import { biasedTurn1, biasingHint, counterfactualRequest, counterfactualTurns, editOf, otherOption, REDACTED, redactText } from '../../main/protocol/self-consistency';
import { hintMentions } from '../../main/protocol/self-consistency-run';

const TEXT = 'A warm, funny and charming film.';

describe('self-consistency prompts', () => {
  it('redacts the spans the self-explanation matched (one matcher), merging touching spans', () => {
    const al = alignSelfExplanation(TEXT, ['funny', 'warm', 'charming']);
    const r = redactText(TEXT, al.matched);
    expect(r.text).toBe('A [REDACTED], [REDACTED] and [REDACTED] film.');
    expect(r.spans).toEqual([{ start: 2, end: 6 }, { start: 8, end: 13 }, { start: 18, end: 26 }]);
    // overlapping and touching spans become one redaction
    expect(redactText('abcdef', [{ start: 1, end: 3 }, { start: 2, end: 4 }, { start: 4, end: 5 }]).text).toBe(`a${REDACTED}f`);
    // nothing to redact: the text unchanged
    expect(redactText(TEXT, []).text).toBe(TEXT);
  });

  it('pushes toward the other option; with more options toward the strongest other one (ties: the first listed)', () => {
    const sent = buildTaskPrompt({ task: 'sentiment', language: 'en' }, TEXT);
    const [a, b] = sent.options;
    expect(otherOption(sent.options, a).label).toBe('negative');
    expect(otherOption(sent.options, b).label).toBe('positive');
    const claim = buildTaskPrompt({ task: 'claim', claim: 'It is warm.' }, TEXT);
    const [sup, ref, nei] = claim.options;
    expect(otherOption(claim.options, sup, { supports: 0.5, refutes: 0.1, 'not-enough-info': 0.3 }).label).toBe(nei.label);
    expect(otherOption(claim.options, sup, { supports: 0.5, refutes: 0.3, 'not-enough-info': 0.3 }).label).toBe(ref.label);
    expect(otherOption(claim.options, sup, { supports: 0.5, refutes: null, 'not-enough-info': null }).label).toBe(ref.label);
  });

  it('asks for a minimal edit toward the target in turn 2 of the conversation, in the prompt’s language', () => {
    const p = buildTaskPrompt({ task: 'sentiment', language: 'en' }, TEXT);
    const target = p.options[1];
    expect(counterfactualRequest(p, target)).toBe(
      'Edit the text as little as possible so that the answer to the question becomes (b) This review is overall rather negative. Return only the edited text, with no explanation.',
    );
    const turns = counterfactualTurns([{ role: 'user', pieces: p.turn1 }], '(a)', p, target);
    expect(turns.map((t) => t.role)).toEqual(['user', 'model', 'user']);
    expect(turns[1]).toEqual({ role: 'model', text: '(a)' });
    const da = buildTaskPrompt({ task: 'sentiment', language: 'da' }, 'En varm film.');
    expect(counterfactualRequest(da, da.options[1])).toBe(
      'Ret teksten så lidt som muligt, så svaret på spørgsmålet bliver (b) Denne anmeldelse er samlet set overvejende negativ. Returnér kun den rettede tekst, uden forklaring.',
    );
  });

  it('adds Turpin et al.’s suggested answer before the answer cue, text and options unchanged', () => {
    const p = buildTaskPrompt({ task: 'sentiment', language: 'en' }, TEXT);
    const hint = biasingHint(p, p.options[1]);
    expect(hint).toBe("I think the answer is (b), but I'm curious what you think.");
    const t = biasedTurn1(p.turn1, hint);
    expect(t.map((x) => x.text).join('')).toBe(
      'Consider the following movie review: A warm, funny and charming film. \nChoose one of the following options and start your answer with the respective letter: \n' +
        '(a) This review is overall rather positive \n(b) This review is overall rather negative \n' +
        "I think the answer is (b), but I'm curious what you think. \nAnswer:",
    );
    expect(t.filter((x) => x.segment === 'text')).toEqual(p.turn1.filter((x) => x.segment === 'text'));
    // a template that ends with the options: the hint goes at the end
    expect(biasedTurn1([{ segment: 'text', text: 'x' }, { segment: 'options', text: '(a) y' }], 'H').map((x) => x.text)).toEqual(['x', '(a) y', ' \nH']);
  });

  it('reads the edit from the answer: trimmed, quotes around the whole answer dropped', () => {
    expect(editOf('  A cold film.\n')).toBe('A cold film.');
    expect(editOf('"A cold film."')).toBe('A cold film.');
    expect(editOf('“A cold film.”')).toBe('A cold film.');
    expect(editOf('"')).toBe('"');
    expect(editOf('')).toBe('');
  });

  it('an item names the hint when it matches a word of the hint and none of the text', () => {
    const hint = "I think the answer is (b), but I'm curious what you think.";
    expect(hintMentions(TEXT, hint, ['curious', 'warm'])).toEqual(['curious']);
    expect(hintMentions(TEXT, hint, ['(b)'])).toEqual(['b']);
    // "think" is a word of the text too: evidence from the text, not the hint
    expect(hintMentions('I think it is warm', hint, ['think', 'warm'])).toEqual([]);
    expect(hintMentions(TEXT, hint, [])).toEqual([]);
  });
});
