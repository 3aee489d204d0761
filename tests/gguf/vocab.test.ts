// Generated models with real tokenizers copied from llama.cpp's vocab-only GGUFs tokenize exactly like the
// originals (through node-llama-cpp) and run; the synthetic SPM vocabulary merges words and falls back to bytes.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateModelSync } from '../../main/gguf/generate';
import { readGguf } from '../../main/gguf/reader';
import { CHAT_TEMPLATES } from '../../main/gguf/templates';
import { realVocabPath } from '../../main/gguf/vocab';
import { nextTokenProbs, sharedLlama, tempDir } from './helpers';

const tmp = tempDir('vocab-');
afterAll(() => tmp.cleanup());

const TEXTS = [
  'The movie was not good.',
  'Filmen var ikke god, men skuespillerne på Ærø og Åland var søde.',
  "l'amore è più forte; perché città e caffè?",
  'Emoji 🙂👍🏽 and  double  spaces\nnew line\ttab',
  '<|eot_id|> <s> [INST] <|im_start|>',
];

describe('real tokenizers copied into tiny models', () => {
  const cases = [
    { vocab: 'llama-bpe', arch: 'llama', template: CHAT_TEMPLATES.llama3 },
    { vocab: 'llama-spm', arch: 'llama', template: CHAT_TEMPLATES.llama2 },
    { vocab: 'qwen2', arch: 'qwen2', template: CHAT_TEMPLATES.chatml },
  ] as const;
  for (const c of cases) {
    it(`${c.vocab} (${c.arch}): same tokens as the vocab-only original, default template, finite probabilities`, async () => {
      const m = generateModelSync({
        path: join(tmp.dir, `${c.vocab}.gguf`), arch: c.arch, vocab: c.vocab, nEmbd: 64, nLayer: 1, nFf: 64,
        tiedOutput: true, weightType: 'Q8_0',
      });
      expect(m.chatTemplate).toBe(c.template);
      const llama = await sharedLlama();
      const orig = await llama.loadModel({ modelPath: realVocabPath(c.vocab), vocabOnly: true });
      const mine = await llama.loadModel({ modelPath: m.path });
      try {
        for (const text of TEXTS) {
          for (const special of [false, true]) {
            expect(Array.from(mine.tokenize(text, special)), `${text} special=${special}`).toEqual(Array.from(orig.tokenize(text, special)));
          }
        }
        expect(mine.tokens.bos).toBe(orig.tokens.bos);
        expect(mine.tokens.eos).toBe(orig.tokens.eos);
      } finally {
        await orig.dispose();
        await mine.dispose();
      }
      const { probs } = await nextTokenProbs(m.path);
      expect(probs.size).toBe(m.nVocab);
      let sum = 0;
      for (const p of probs.values()) {
        expect(Number.isFinite(p)).toBe(true);
        sum += p;
      }
      // llama.cpp's softmax runs in float32 over 32k-152k entries: allow 1e-3 of accumulated rounding.
      expect(Math.abs(sum - 1)).toBeLessThan(1e-3);
    });
  }
});

describe('synthetic SentencePiece vocabulary', () => {
  it('merges known words into single pieces and spells unknown characters with byte tokens', async () => {
    const m = generateModelSync({ path: join(tmp.dir, 'syn.gguf'), syntheticWords: ['rationale'] });
    const llama = await sharedLlama();
    const model = await llama.loadModel({ modelPath: m.path, vocabOnly: true });
    try {
      const vocab = (readGguf(m.path).metadata.get('tokenizer.ggml.tokens') as { items: string[] }).items;
      const pieces = (text: string) => Array.from(model.tokenize(text, false)).map((t) => vocab[t]);
      expect(pieces('the good movie')).toEqual(['▁the', '▁good', '▁movie']);
      expect(pieces('rationale')).toEqual(['▁rationale']);
      // 'ø' is not a piece: its two UTF-8 bytes C3 B8 come back as byte tokens <0xC3> <0xB8> (ids 3 + byte).
      const toks = Array.from(model.tokenize('ø', false));
      expect(toks.slice(-2)).toEqual([3 + 0xc3, 3 + 0xb8]);
      expect(model.detokenize(model.tokenize('søde ø', false))).toBe('søde ø');
      expect(model.tokens.bos).toBe(1);
      expect(model.tokens.eos).toBe(2);
    } finally {
      await model.dispose();
    }
  });
});
