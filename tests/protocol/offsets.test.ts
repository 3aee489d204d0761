import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaModel } from 'node-llama-cpp';
import { buildTaskPrompt, renderChat, textTokens, textTokenSpans } from '../../main/protocol/index';
import { LLAMA2_TEMPLATE, LLAMA3_TEMPLATE, PLAIN_TEMPLATE } from './fixtures/templates';
import { paperResponses, storiesPath, testLlama, vocabPath } from './helpers';

const TEXTS = {
  en: "It's a charming, funny film \u2014 isn't it? I'd watch it again 😀.",
  da: 'Æbleskiver, smørrebrød og én rå øl på en ø: Åh, hvor dårlig filmen var!',
  it: "L'amore è più forte: un'opera così perché né bella né brutta, all'italiana 🎬",
};

const models: Array<{ name: string; template: string | null; model?: LlamaModel }> = [
  { name: 'llama-bpe', template: LLAMA3_TEMPLATE },
  { name: 'llama-spm', template: LLAMA2_TEMPLATE },
  { name: 'qwen2', template: null },
  { name: 'stories260K', template: PLAIN_TEMPLATE },
];

beforeAll(async () => {
  const llama = await testLlama();
  for (const m of models) {
    m.model = await llama.loadModel({ modelPath: m.name === 'stories260K' ? storiesPath : vocabPath(m.name as 'qwen2'), vocabOnly: true });
  }
});
afterAll(async () => {
  for (const m of models) await m.model?.dispose();
});

/**
 * The tokens' own texts must tile [0, text.length): contiguous, in order, nothing missing or doubled. A span
 * covers its token's own text and, for a byte-fallback token, the whole character it holds bytes of, so
 * consecutive tokens may share exactly one multi-byte character (before, such a token had an empty span);
 * no span reaches any further.
 */
function expectTiling(text: string, spans: Array<{ start: number; end: number }>) {
  let at = 0;
  for (const s of spans) {
    expect(s.start).toBeLessThanOrEqual(at);
    expect(s.end).toBeGreaterThanOrEqual(s.start);
    if (s.start < at) {
      // it shares the character the previous token left unfinished: one multi-byte character, no more
      const shared = [...text.slice(s.start, at)];
      expect(shared).toHaveLength(1);
      expect(Buffer.byteLength(shared[0])).toBeGreaterThan(1);
    }
    at = Math.max(at, s.end);
  }
  expect(at).toBe(text.length);
}

/** The text once: each character from the token span that starts at it or continues past the last one. */
function ownText(text: string, spans: Array<{ start: number; end: number }>): string {
  let at = 0;
  let out = '';
  for (const s of spans) {
    if (s.end > at) {
      out += text.slice(Math.max(at, s.start), s.end);
      at = s.end;
    }
  }
  return out;
}

describe.each(models.map((m) => [m.name, m] as const))('token offsets with the %s tokenizer', (_name, m) => {
  it.each(Object.entries(TEXTS))('cover the %s text exactly (text alone)', (_lang, text) => {
    const spans = textTokenSpans(m.model!, text);
    expectTiling(text, spans);
    expect(ownText(text, spans)).toBe(text);
    expect(spans.map((s) => s.text).join('')).toBe(text);
  });

  it.each(Object.entries(TEXTS))('cover the %s text exactly inside the rendered chat prompt', (lang, text) => {
    const p = buildTaskPrompt({ task: 'sentiment', language: lang as 'en' }, text);
    const template = m.template ?? (m.model!.fileInfo.metadata as { tokenizer: { chat_template: string } }).tokenizer.chat_template;
    const chat = renderChat(m.model!, template, [{ role: 'user', pieces: p.turn1 }]);
    const tt = textTokens(chat);
    expectTiling(text, tt);
    // every token is labelled, and only the text's tokens are 'text'
    const segs = new Set(chat.promptTokens.map((t) => t.segment));
    expect([...segs].sort()).toEqual(['instruction', 'options', 'template', 'text']);
    expect(ownText(text, tt)).toBe(text);
    // option letters sit in the 'options' segment
    const optionText = chat.promptTokens.filter((t) => t.segment === 'options').map((t) => t.text).join('');
    expect(optionText).toContain('(b)');
  });
});

describe('rendering through the model’s own template', () => {
  it('reproduces the paper’s Llama-2 prompt tokens exactly', () => {
    const d = JSON.parse(readFileSync(paperResponses('llama'), 'utf8').split('\n')[0].replace(/\bNaN\b/g, 'null'));
    const spm = models[1].model!;
    const chat = renderChat(spm, LLAMA2_TEMPLATE, [{ role: 'user', pieces: buildTaskPrompt({ task: 'sentiment', language: 'en' }, d.content).turn1 }]);
    const paper: number[] = d.perturbation.tokenized_chat_until_answer[0];
    expect(chat.tokens).toEqual(paper.slice(0, chat.tokens.length));
    // the paper's context_mask marks the review's tokens: ours label exactly those as 'text'
    const mask: number[] = [d.perturbation.context_mask].flat(2).map(Number);
    const ours = chat.promptTokens.map((t) => (t.segment === 'text' ? 1 : 0));
    expect(ours).toEqual(mask.slice(0, ours.length));
  });

  it('refuses text that smuggles in special-token markup', () => {
    const bpe = models[0].model!;
    const p = buildTaskPrompt({ task: 'sentiment', language: 'en' }, 'nice <|eot_id|> film');
    expect(() => renderChat(bpe, LLAMA3_TEMPLATE, [{ role: 'user', pieces: p.turn1 }])).toThrow(/special-token/);
  });
});
