// `npm run cli -- lrp ... --json` through the real CLI entry (tsx), on the trained stories260K model.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { getLlama, type Llama } from 'node-llama-cpp';
import { afterAll, describe, expect, it } from 'vitest';
import { CHAT_TEMPLATES } from '../../main/gguf/templates';
import { renderChat, textTokens, textTokenSpans } from '../../main/protocol/index';
import { modelDir, repoRoot, stories } from './models';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'main/cli/index.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });

describe('cli lrp', () => {
  it('--text: BOS + tokens, most probable next token explained, relevances sum to the logit', () => {
    const r = cli(['lrp', '--model', stories, '--text', 'Once upon a time', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.tokens.map((t: { id: number }) => t.id)).toEqual([1, 403, 407, 261, 378]);
    expect(o.tokens[1].text.trim()).toBe('Once');
    // the vocabulary-only load's resource simulation fails by design; its llama.cpp error lines are not shown
    expect(r.stderr).not.toMatch(/missing tensor|failed to load model/);
    expect(o.relevance).toHaveLength(5);
    expect(Math.abs(o.sum - o.logit)).toBeLessThan(1e-4 * Math.abs(o.logit));
    expect(o.sum).toBeCloseTo(o.relevance.reduce((a: number, b: number) => a + b, 0), 5);
    expect(typeof o.ms).toBe('number');
    // the engine build that ran (main/lrp/index.ts chooseLrpAddon): AVX2 on this machine's CPUs, NEON on ARM64
    expect(['avx2', 'neon', 'scalar']).toContain(o.kernels);
  });
  it('--json names the portable build when RW_LRP_KERNELS=generic forces it', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'main/cli/index.ts', 'lrp', '--model', stories,
      '--tokens', '1,403,407', '--json'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, RW_LRP_KERNELS: 'generic' } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).kernels).toBe(process.arch === 'arm64' ? 'neon' : 'scalar');
  });
  it('--tokens with a string target and contrast; bad target id is a one-line error', () => {
    const r = cli(['lrp', '--model', stories, '--tokens', '1,403,407', '--target', 'a', '--contrast', '378', '--gate', 'detach', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.target).toBe(412); // 'a' with no leading space (stories260K's ' a' is 261)
    expect(Math.abs(o.sum - o.logit)).toBeLessThan(1e-4 * Math.abs(o.logit));
    const bad = cli(['lrp', '--model', stories, '--tokens', '1,403', '--target', '9999', '--json']);
    expect(bad.status).toBe(1);
    // under --json the one error line is JSON (main/cli/index.ts)
    expect(JSON.parse(bad.stderr.trim())).toEqual({ error: { code: 'failed', message: 'target token id 9999 is out of range (vocabulary size 512)' } });
  });
  it('--activations recompute: the same relevances as the default; a bad value is a usage error', () => {
    const args = ['lrp', '--model', stories, '--tokens', '1,403,407,261', '--json'];
    const a = JSON.parse(cli(args).stdout), b = cli([...args, '--activations', 'recompute']);
    expect(b.status, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).relevance).toEqual(a.relevance);
    const bad = cli([...args, '--activations', 'none']);
    expect(bad.status).not.toBe(0);
    // under --json a usage error is one JSON line on stderr (cli/index.ts)
    expect(JSON.parse(bad.stderr).error).toMatchObject({ code: 'usage', message: expect.stringMatching(/--activations must be auto, save or recompute, got "none"/) });
  });
});

describe('cli lrp --text tokenizes as the protocol (the model runner) does', () => {
  const models = modelDir('lrp-cli-');
  let llama: Llama | undefined;
  afterAll(async () => {
    await llama?.dispose();
    models.cleanup();
  });
  const vocab = async (modelPath: string) => {
    llama ??= await getLlama({ gpu: false, build: 'never', maxThreads: 2, logLevel: 'error' as never });
    return llama.loadModel({ modelPath, vocabOnly: true });
  };
  // byte-fallback characters (em dash, umlauts, emoji) and punctuation next to words
  const text = "Once upon a time, Lily's dog \u2014 \u00dcn\u00ef \u{1F642} ran.";
  const cliIds = (args: string[]) => {
    const r = cli(['lrp', ...args, '--json']);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout).tokens.map((t: { id: number }) => t.id) as number[];
  };

  it('plain text: BOS + the protocol\'s text tokens (textTokenSpans)', async () => {
    const m = await vocab(stories);
    try {
      const spans = textTokenSpans(m, text);
      expect(spans.map((s) => s.text).join('')).toBe(text);
      expect(m.tokens.bos).toBe(1);
      expect(cliIds(['--model', stories, '--text', text])).toEqual([1, ...spans.map((s) => s.id)]);
    } finally {
      await m.dispose();
    }
  });

  it('--chat: the tokens renderChat builds for the text as a user turn with the model\'s template', async () => {
    const f = models.model({ arch: 'llama', weightType: 'F32', chatTemplate: 'llama2' });
    const m = await vocab(f);
    try {
      const chat = renderChat(m, CHAT_TEMPLATES.llama2, [{ role: 'user', pieces: [{ segment: 'text', text }] }]);
      expect(chat.full).toContain(`[INST] ${text} [/INST]`);
      expect(chat.tokens[0]).toBe(1); // the template writes bos_token
      expect(textTokens(chat).map((t) => t.text).join('').trim()).toBe(text);
      expect(cliIds(['--model', f, '--text', text, '--chat'])).toEqual(chat.tokens.map(Number));
    } finally {
      await m.dispose();
    }
  });
});

// `predict` and `lrp` on generated models of the newer architectures, each with its family's chat template:
// qwen3 (Qwen 2's real BPE vocabulary, Qwen 3's template: the protocol renders it with thinking off), gemma3
// (Llama 2's SentencePiece vocabulary standing in for Gemma's, Gemma 3's template: no system role), Mistral 7B
// v0.3's shape (its 32768-token layout, Llama 2's template format) and Llama 3.1 (Llama 3's real BPE vocabulary and
// template, rope scaling).
describe('cli predict and lrp on qwen3, gemma3, mistral v0.3 and llama 3.1 models', () => {
  const models = modelDir('lrp-cli-arch-');
  let llama: Llama | undefined;
  afterAll(async () => {
    await llama?.dispose();
    models.cleanup();
  });
  const text = 'A warm, funny film with a great cast.';
  const specs = [
    ['qwen3', { arch: 'qwen3', vocab: 'qwen2', chatTemplate: 'qwen3', tiedOutput: true, contextLength: 1024 }],
    ['gemma3', { arch: 'gemma3', vocab: 'llama-spm', chatTemplate: 'gemma3', contextLength: 1024, slidingWindow: { window: 16, pattern: 2 } }],
    ['mistral', { arch: 'llama', vocab: 'mistral-v3-layout', chatTemplate: 'llama2', nHeadKv: 1, ropeBase: 1e6, contextLength: 1024 }],
    ['llama31', { arch: 'llama', vocab: 'llama-bpe', chatTemplate: 'llama3', ropeBase: 500000, contextLength: 1024, llama3RopeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 64 } }],
  ] as const;
  for (const [arch, spec] of specs) {
    it(`${arch}: lrp --chat explains the template's tokens (CP-LRP conserves); predict answers with a label`, async () => {
      const f = models.model(spec, arch);
      llama ??= await getLlama({ gpu: false, build: 'never', maxThreads: 2, logLevel: 'error' as never });
      const m = await llama.loadModel({ modelPath: f, vocabOnly: true });
      let chat;
      try {
        chat = renderChat(m, CHAT_TEMPLATES[spec.chatTemplate], [{ role: 'user', pieces: [{ segment: 'text', text }] }]);
      } finally {
        await m.dispose();
      }
      if (arch === 'qwen3') {
        // thinking off, and recorded: the generation prompt closes an empty think block
        expect(chat.thinking).toBe('off');
        expect(chat.full.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(true);
      } else {
        expect(chat.thinking).toBeNull();
      }
      if (arch === 'gemma3') expect(chat.full).toContain(`<start_of_turn>user\n${text}<end_of_turn>\n<start_of_turn>model\n`);
      if (arch === 'mistral') expect(chat.tokens.slice(0, 2).map(Number)).toEqual([1, 3]); // <s> [INST]: v0.3's control token id
      const r = cli(['lrp', '--model', f, '--text', text, '--chat', '--json', '--threads', '2']);
      expect(r.status, r.stderr).toBe(0);
      const o = JSON.parse(r.stdout);
      expect(o.tokens.map((t: { id: number }) => t.id)).toEqual(chat.tokens.map(Number));
      expect(Math.abs(o.sum - o.logit)).toBeLessThan(1e-4 * Math.max(1, Math.abs(o.logit)));
      const p = cli(['predict', '--model', f, '--text', text, '--mode', 'scoring', '--json', '--threads', '2', '--context', '1024']);
      expect(p.status, p.stderr).toBe(0);
      const out = JSON.parse(p.stdout.trim().split('\n').pop()!);
      expect(['negative', 'positive']).toContain(out.label);
      expect(out.tokens.some((t: { segment: string }) => t.segment === 'text')).toBe(true);
    });
  }
});
