import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildTaskPrompt, extractJson, itemsOf, parseAnswer, splitItems } from '../../main/protocol/index';
import { loadIndicators } from '../../main/protocol/indicator-definitions';
import { paperResponses, shared } from './helpers';
import path from 'node:path';

const en = buildTaskPrompt({ task: 'sentiment', language: 'en' }, 'x').options;

function responses(model: string) {
  return readFileSync(paperResponses(model), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const d = JSON.parse(l.replace(/\bNaN\b/g, 'null'));
      const key = Object.keys(d).find((k) => /^response_\d+$/.test(k))!;
      return { response: d[key] as string, reference: d[`normalized_${key}`] as number, truth: Number(d.true_label), raw: d.rationales as string, checked: d.rationales_checked as string | undefined };
    });
}

describe('parseAnswer', () => {
  it('reads leading letters, leading label words and consistent markers', () => {
    expect(parseAnswer('(a) This review is overall rather positive.', en)).toMatchObject({ status: 'ok', option: { label: 'positive' } });
    expect(parseAnswer('**(b)** rather negative', en)).toMatchObject({ status: 'ok', option: { label: 'negative' } });
    expect(parseAnswer('b) negative', en)).toMatchObject({ status: 'ok', option: { label: 'negative' } });
    expect(parseAnswer('Negative.', en)).toMatchObject({ status: 'ok', option: { label: 'negative' } });
    expect(parseAnswer('Sure! I would choose option (b) This review is overall rather negative.', en)).toMatchObject({ status: 'ok', option: { label: 'negative' } });
  });

  // The reference code's always-true branch made every unparsed answer the negative class.
  it('never turns an unparseable answer into a class', () => {
    for (const r of ['', 'I cannot answer that.', 'Sure! Here is my answer:', '(c) neither', 'The review is mixed.']) {
      const p = parseAnswer(r, en);
      expect(p.status, r).toBe('invalid');
      expect(p.option).toBeNull();
    }
  });

  it('calls an answer naming both options invalid', () => {
    expect(parseAnswer('It is not (a); the answer is (b).', en)).toMatchObject({ status: 'invalid', reason: expect.stringContaining('several') });
  });

  it('reads the real Llama-2 answers the reference code mislabelled as negative', () => {
    // Llama-2 seed 28: "I would say that the review is overall rather positive. Here's why: (a) The review ..."
    // was stored as 0 (negative) by the reference parser.
    const rows = responses('llama');
    // ... and then listed its reasons as "(a) ...", "(b) ...": the "(b)" bullet made it negative.
    const misread = rows.filter((r) => r.reference === 0 && /overall rather positive/.test(r.response) && !/rather negative/.test(r.response));
    expect(misread.length).toBe(27);
    for (const r of misread) expect(parseAnswer(r.response, en)).toMatchObject({ status: 'ok', option: { label: 'positive' } });
    // Every answer is either a class that agrees with what the text says, or invalid; none silently negative.
    let invalid = 0;
    for (const r of rows) {
      const p = parseAnswer(r.response, en);
      if (p.status === 'invalid') invalid++;
      else if (p.option.label === 'negative') expect(/negative|\(b\)/i.test(r.response), r.response.slice(0, 80)).toBe(true);
    }
    expect(invalid).toBeLessThan(rows.length / 10);
  });

  it('agrees with the clean Llama-3 and Mistral answers', () => {
    for (const m of ['llama3', 'mistral']) {
      for (const r of responses(m)) {
        expect(parseAnswer(r.response, en)).toMatchObject({ status: 'ok', option: { label: r.reference === 1 ? 'positive' : 'negative' } });
      }
    }
  });

  it('parses Danish, Italian and forced-labour answers', () => {
    const da = buildTaskPrompt({ task: 'sentiment', language: 'da' }, 'x').options;
    const it_ = buildTaskPrompt({ task: 'sentiment', language: 'it' }, 'x').options;
    expect(parseAnswer('Anmeldelsen er overvejende negativ.', da)).toMatchObject({ status: 'ok', option: { label: 'negative' } });
    expect(parseAnswer('La recensione è piuttosto positiva.', it_)).toMatchObject({ status: 'ok', option: { label: 'positive' } });
    const ind = loadIndicators(path.join(shared, 'data/rafola/definitions.json'));
    const fl = buildTaskPrompt({ task: 'forced-labour', indicator: ind[0] }, 'x').options;
    expect(parseAnswer('No, it does not contain evidence.', fl)).toMatchObject({ status: 'ok', option: { label: 'no' } });
    expect(parseAnswer('Yes.', fl)).toMatchObject({ status: 'ok', option: { label: 'yes' } });
    expect(parseAnswer('The article does not contain evidence of this.', fl)).toMatchObject({ status: 'ok', option: { label: 'no' } });
  });
});

describe('self-explanation JSON without a second model', () => {
  // The reference code sent non-JSON self-explanations to a second LLM for repair (almost all of Llama-2's).
  it('extracts every Llama-2 self-explanation that the reference repaired, with the same items', () => {
    const rows = responses('llama').filter((r) => r.raw && r.checked);
    expect(rows.length).toBeGreaterThan(100);
    let same = 0;
    let compared = 0;
    for (const r of rows) {
      const ours = extractJson(r.raw);
      expect(ours, r.raw.slice(0, 80)).not.toBeNull();
      let checked: unknown;
      try {
        checked = JSON.parse(r.checked!);
      } catch {
        continue; // the reference's own repaired JSON does not parse for a few rows
      }
      // The repair model sometimes joined items into one string, or invented words ("beautiful, amazing"):
      // compare the split item lists.
      const want = splitItems(itemsOf(checked)).map((s) => s.toLowerCase());
      compared++;
      if (JSON.stringify(splitItems(itemsOf(ours)).map((s) => s.toLowerCase())) === JSON.stringify(want)) same++;
    }
    expect(compared).toBeGreaterThan(100);
    // Measured: 111 of 143 (77.6 %) identical. In the rest the repair model changed the answer (joined
    // items, added words the model never wrote); ours are always the raw answer's own items:
    expect(same / compared).toBeGreaterThan(0.75);
    for (const r of rows) {
      for (const item of itemsOf(extractJson(r.raw))) expect(r.raw.toLowerCase()).toContain(item.toLowerCase());
    }
  });
});

describe('indicator definitions', () => {
  it('reads all 11 RaFoLa indicators, including the ",definition" key of its entries 9-11, in ILO order', () => {
    const ind = loadIndicators(path.join(shared, 'data/rafola/definitions.json'));
    expect(ind).toHaveLength(11);
    // numbered by the ILO (RaFoLa's 8th entry, physical and sexual violence, is ILO indicator 5)
    expect(ind[4]).toMatchObject({ number: 5, label: 'Physical and sexual violence' });
    // RaFoLa's 11th entry (",definition" key), withholding of wages, is ILO indicator 8
    expect(ind[7]).toMatchObject({ number: 8, label: 'Withholding of wages' });
    expect(ind[7].definition).toMatch(/^Workers may be obliged/);
    const p = buildTaskPrompt({ task: 'forced-labour', indicator: ind[0] }, 'TEXT');
    expect(p.turn1.map((x) => x.text).join('')).toContain(ind[0].definition);
  });
});
