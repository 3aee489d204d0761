import { splitWords } from './words';

/**
 * How long a text is in tokens, estimated before any model is chosen (the import report): the larger of
 * characters / 4 and words × 4 / 3, the usual rates of English text under Llama-, Mistral- and Qwen-style
 * vocabularies (Danish and Italian run longer per word, which the word rate covers better). An estimate,
 * and said to be one: the study form counts each example exactly with the chosen models' own tokenizers.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(Math.max(text.length / 4, (splitWords(text).length * 4) / 3));
}

/** Context sizes that many models have, which the import report checks texts against. */
export const COMMON_CONTEXTS = [2048, 4096] as const;

/** Ids named per warning (the rest counted). */
export const LONG_TEXT_ID_CAP = 10;

export interface LongTexts {
  /** The context size checked against (tokens). */
  context: number;
  /** Examples whose estimated tokens exceed it. */
  count: number;
  /** Their ids, the first LONG_TEXT_ID_CAP. */
  ids: string[];
}

/** Counts texts longer than each common context as they come (a streamed file is never held whole). */
export class LongTextCounter {
  private readonly found = COMMON_CONTEXTS.map((context) => ({ context, count: 0, ids: [] as string[] }));
  add(e: { externalId: string; text: string }): void {
    const n = estimateTokens(e.text);
    for (const f of this.found) {
      if (n <= f.context) continue;
      f.count++;
      if (f.ids.length < LONG_TEXT_ID_CAP) f.ids.push(e.externalId);
    }
  }
  /** Only the contexts some text exceeds. */
  result(): LongTexts[] {
    return this.found.filter((f) => f.count > 0).map((f) => ({ ...f, ids: [...f.ids] }));
  }
}

/** Texts whose estimated length exceeds each common context (only the contexts some text exceeds). */
export function longTexts(examples: Iterable<{ externalId: string; text: string }>): LongTexts[] {
  const c = new LongTextCounter();
  for (const e of examples) c.add(e);
  return c.result();
}

/** The import report's warning for one context. */
export function longTextWarning(l: LongTexts, total: number): string {
  const more = l.count - l.ids.length;
  const one = l.count === 1;
  return (
    `${l.count} of ${total} text${total === 1 ? '' : 's'} ${one ? 'is' : 'are'} longer than about ${l.context.toLocaleString('en')} tokens ` +
    `(an estimate from characters and words; the exact count depends on the model): ${l.ids.join(', ')}${more > 0 ? ` and ${more} more` : ''}. ` +
    `A model with a ${l.context.toLocaleString('en')}-token context cannot read ${one ? 'it' : 'them'} whole: the study form counts exactly and offers to skip or truncate ${one ? 'it' : 'them'}.`
  );
}
