// `lrp`: per-token LRP relevance for one next-token logit (or a contrast) of a GGUF model.
import type { LlamaModel, Token } from 'node-llama-cpp';
import { inspectHeader } from '../../models/registry';
import { loadVocabOnly } from '../../models/session';
import { checkThreads } from '../../models/session-threads';
import { LRP_PRECISIONS, lrpKernels, openLrpModel, type LrpGate, type LrpPrecision, type LrpRule } from '../../lrp/index';
import { chatTemplateOf, renderChat, textTokenSpans } from '../../protocol/index';
import { CliUsageError, parseFlags, type CliContext } from '../context';

export const summary = 'LRP relevance of each input token for a next-token logit (native engine)';
export const usage =
  'lrp --model <gguf> (--tokens 1,2,3 | --text "..." [--chat]) [--target id|string] [--contrast id|string] [--rule cp|attn] [--gate half|detach] [--activations auto|save|recompute] [--precision f32|int8] [--threads N] [--json]';

/**
 * The tokens `--text` explains, built by the protocol's own code so they are the model runner's: the text
 * tokenized as the protocol tokenizes a text (textTokenSpans: no special-token parsing, refused when it does
 * not round-trip) after the model's BOS when its tokenizer adds one; with `chat`, the text as one user turn
 * rendered with the model's chat template (renderChat, BOS as the template writes it).
 */
export function textInputTokens(model: LlamaModel, text: string, chat = false): number[] {
  if (chat) return renderChat(model, chatTemplateOf(model), [{ role: 'user', pieces: [{ segment: 'text', text }] }]).tokens.map(Number);
  const ids = textTokenSpans(model, text).map((s) => s.id);
  const bos = model.tokens.bos;
  return bos !== null && model.tokens.shouldPrependBosToken ? [bos, ...ids] : ids;
}

/**
 * A --target/--contrast that reads as a number is a token id, never the text "-1": negative or fractional
 * numbers are refused here, before any model loads (ids past the vocabulary are refused by the engine,
 * naming the vocabulary size). Returns the id, or undefined for a text to tokenize.
 */
function tokenIdOf(spec: string | undefined, name: string): number | undefined {
  if (spec === undefined || !/^\s*[-+]?\d+(\.\d+)?\s*$/.test(spec)) return undefined;
  const id = Number(spec);
  if (!Number.isInteger(id) || id < 0) {
    throw new CliUsageError(`--${name} ${spec.trim()}: a token id is a whole number from 0 (a text that reads as a number is not taken as text)`);
  }
  return id;
}

// a token id, or a string that must tokenize (without BOS) to one token, or its first token with a note
function resolveToken(spec: string | undefined, name: string, model: LlamaModel, ctx: CliContext): number | undefined {
  if (spec === undefined) return undefined;
  const id = tokenIdOf(spec, name);
  if (id !== undefined) return id;
  if (!spec.trim()) throw new CliUsageError(`--${name} is empty: give a token id or a token's text`);
  const ids = model.tokenize(spec, false, 'trimLeadingSpace');
  if (ids.length === 0) throw new CliUsageError(`--${name} "${spec}" tokenizes to nothing`);
  if (ids.length > 1) ctx.err(`note: --${name} "${spec}" is ${ids.length} tokens; explaining its first token ${ids[0]}`);
  return ids[0];
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { flags, positional } = parseFlags(args, {
    model: 'string', tokens: 'string', text: 'string', target: 'string', contrast: 'string',
    rule: 'string', gate: 'string', activations: 'string', precision: 'string', threads: 'integer', chat: 'boolean',
  });
  if (positional.length) throw new CliUsageError(`unexpected argument "${positional[0]}"; usage: ${usage}`);
  const modelPath = flags.model as string | undefined;
  if (!modelPath) throw new CliUsageError(`--model is required; usage: ${usage}`);
  if ((flags.tokens === undefined) === (flags.text === undefined)) throw new CliUsageError('give exactly one of --tokens or --text');
  if (flags.chat && flags.text === undefined) throw new CliUsageError('--chat goes with --text');
  if (flags.text !== undefined && !String(flags.text).trim()) throw new CliUsageError('--text is empty (only white space): give the text to explain');
  const rule = (flags.rule ?? 'cp') as LrpRule;
  if (rule !== 'cp' && rule !== 'attn') throw new CliUsageError(`--rule must be cp or attn, got "${rule}"`);
  // the gate is a CP-LRP choice: AttnLRP has no gate to set, so the flag would be silently ignored
  if (flags.gate !== undefined && rule === 'attn') throw new CliUsageError('--gate applies to --rule cp only (AttnLRP has no gate option)');
  const gate = (flags.gate ?? 'half') as LrpGate;
  if (gate !== 'half' && gate !== 'detach') throw new CliUsageError(`--gate must be half or detach, got "${gate}"`);
  const activations = (flags.activations ?? 'auto') as 'auto' | 'save' | 'recompute';
  if (!['auto', 'save', 'recompute'].includes(activations)) {
    throw new CliUsageError(`--activations must be auto, save or recompute, got "${activations}"`);
  }
  const precision = (flags.precision ?? 'f32') as LrpPrecision;
  if (!LRP_PRECISIONS.includes(precision)) throw new CliUsageError(`--precision must be f32 or int8, got "${precision}"`);
  const threads = checkThreads((flags.threads as number | undefined) ?? 2, '--threads', (m) => new CliUsageError(m));
  tokenIdOf(flags.target as string | undefined, 'target');
  tokenIdOf(flags.contrast as string | undefined, 'contrast');

  // the native engine and llama.cpp trust the header: a malformed one is refused with its problems first
  inspectHeader(modelPath);
  const lrp = openLrpModel(modelPath, { threads });
  const tok = await loadVocabOnly(modelPath);
  try {
    let tokens: number[];
    if (flags.tokens !== undefined) {
      const parts = String(flags.tokens).split(',').map((s) => s.trim());
      if (parts.some((p) => !/^\d+$/.test(p))) throw new CliUsageError(`--tokens must be comma-separated token ids, got "${flags.tokens}"`);
      tokens = parts.map(Number);
    } else {
      tokens = textInputTokens(tok, String(flags.text), flags.chat === true);
    }
    const target = resolveToken(flags.target as string | undefined, 'target', tok, ctx);
    const contrast = resolveToken(flags.contrast as string | undefined, 'contrast', tok, ctx);
    const t0 = performance.now();
    const r = await lrp.attribute({ tokens, target, contrast, rule, gate, activations, precision });
    const ms = performance.now() - t0;
    const text = (id: number) => tok.detokenize([id as Token], true);
    const sum = r.relevance.reduce((a, b) => a + b, 0);
    const out = {
      tokens: tokens.map((id) => ({ id, text: text(id) })),
      target: r.target,
      ...(contrast !== undefined ? { contrast } : {}),
      relevance: Array.from(r.relevance),
      logit: r.value,
      sum,
      ms: Math.round(ms * 10) / 10,
      kernels: lrpKernels().kernels,  // the engine build that ran (avx2 | neon | scalar)
    };
    if (ctx.json) ctx.out(JSON.stringify(out));
    else {
      ctx.out(`target ${r.target} ${JSON.stringify(text(r.target))}${contrast !== undefined ? ` - ${contrast} ${JSON.stringify(text(contrast))}` : ''}: ${rule}${rule === 'cp' ? `/${gate}` : ''}${precision === 'int8' ? ' int8' : ''} value ${r.value.toFixed(4)}, sum of relevances ${sum.toFixed(4)}, ${out.ms} ms, ${out.kernels} kernels${r.recomputed ? ' (layers recomputed in the backward)' : ''}`);
      for (let i = 0; i < tokens.length; i++) ctx.out(`${String(i).padStart(4)} ${String(tokens[i]).padStart(6)} ${r.relevance[i].toFixed(5).padStart(11)}  ${JSON.stringify(text(tokens[i]))}`);
    }
    return 0;
  } finally {
    lrp.close();
    await tok.dispose();
  }
}
