import { CliUsageError, parseFlags, withStore, type CliContext } from '../context';
import { readFileSync } from 'node:fs';
import { estimateFit, inspectModel, registerModel, type ModelInfo } from '../../models/registry';
import { choiceOf, renderTemplateChat } from '../../api/model-template';
import { TEMPLATE_FAMILY_IDS } from '../../protocol/template-families';

export const summary = 'inspect, register and list GGUF models';
export const usage = `models inspect <gguf> | models register <gguf> [--copy-to DIR] | models list | models template <id> (--family ${TEMPLATE_FAMILY_IDS.join('|')} | --template FILE)`;

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function describe(info: ModelInfo): string[] {
  const h = info.hparams;
  const q = info.quantization;
  return [
    `file          ${info.path} (${mb(info.fileSize)})`,
    `sha256        ${info.sha256}`,
    `architecture  ${info.architecture}${h.nExpert ? ` (${h.nExpert} experts, ${h.nExpertUsed} used)` : ''}${info.name ? `  name: ${info.name}` : ''}`,
    `parameters    ${info.parameterCount.toLocaleString('en-US')}`,
    `quantization  ${q.dominant}${q.fileTypeName ? ` (${q.fileTypeName})` : ''}; tensors: ${Object.entries(q.tensorsByType).map(([t, n]) => `${t} ${n}`).join(', ')}`,
    `layers        ${h.nLayer} x (embd ${h.nEmbd}, ff ${h.nFf ?? '-'}, heads ${h.nHead}/${h.nHeadKv} kv, head dim ${h.headDim})`,
    `context       ${info.contextLength ?? '-'}`,
    `vocabulary    ${info.vocabulary.model ?? '-'}${info.vocabulary.pre ? `/${info.vocabulary.pre}` : ''}, ${info.vocabulary.size} tokens, bos ${info.vocabulary.bos ?? '-'}, eos ${info.vocabulary.eos ?? '-'}`,
    `chat template ${info.chatTemplate ? `${info.chatTemplate.length} chars` : 'none'}`,
  ];
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'inspect') {
    const { positional } = parseFlags(rest, {});
    if (positional.length !== 1) throw new CliUsageError(`usage: ${usage}`);
    const info = await inspectModel(positional[0]);
    const fit = await estimateFit(info);
    if (ctx.json) ctx.out(JSON.stringify({ ...info, fit }));
    else {
      for (const line of describe(info)) ctx.out(line);
      ctx.out(`fits          ${fit.fitsFree ? 'yes' : fit.fitsTotal ? 'only with more free memory' : 'no'}: needs ~${mb(fit.requiredBytes)} at context ${fit.contextSize}, ${mb(fit.freeBytes)} free of ${mb(fit.totalBytes)} (${fit.source} estimate)`);
    }
    return 0;
  }
  if (sub === 'register') {
    const { positional, flags } = parseFlags(rest, { 'copy-to': 'string' });
    if (positional.length !== 1) throw new CliUsageError(`usage: ${usage}`);
    const copyTo = flags['copy-to'] as string | undefined;
    const { id, info } = await withStore(ctx, (store) => registerModel(store, positional[0], { copyTo }));
    if (ctx.json) ctx.out(JSON.stringify({ id, ...info }));
    else ctx.out(`registered model ${id}: ${info.path} (${info.architecture}, ${info.quantization.dominant}, sha256 ${info.sha256.slice(0, 12)}) in ${ctx.dbPath}`);
    return 0;
  }
  if (sub === 'list') {
    parseFlags(rest, {});
    const list = await withStore(ctx, (store) => store.models.list());
    if (ctx.json) {
      ctx.out(JSON.stringify(list));
      return 0;
    }
    if (list.length === 0) {
      ctx.out(`no models in ${ctx.dbPath} (add one with: models register <gguf>)`);
      return 0;
    }
    const rows = [['id', 'architecture', 'params', 'quant', 'context', 'sha256', 'path']];
    for (const m of list) {
      rows.push([String(m.id), m.architecture ?? '-', String(m.parameterCount ?? '-'), m.quantization ?? '-', String(m.contextLength ?? '-'), m.sha256.slice(0, 12), m.path]);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) ctx.out(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
    return 0;
  }
  if (sub === 'template') {
    // the chat template a registered model without a usable one renders with (as the Models screen chooses it)
    const { positional, flags } = parseFlags(rest, { family: 'string', template: 'string' });
    const id = Number(positional[0]);
    if (positional.length !== 1 || !Number.isInteger(id) || id < 1) throw new CliUsageError(`usage: ${usage}`);
    if ((flags.family === undefined) === (flags.template === undefined)) throw new CliUsageError(`give exactly one of --family NAME or --template FILE; usage: ${usage}`);
    const arg = flags.family !== undefined ? { family: flags.family as string } : { template: readFileSync(flags.template as string, 'utf8') };
    const choice = choiceOf(arg);
    return withStore(ctx, async (store) => {
      const model = store.models.get(id);
      if (!model) throw new Error(`model ${id} is not registered in ${ctx.dbPath}`);
      // stored only once it renders a two-turn chat with the model's own vocabulary
      const r = await renderTemplateChat({ path: model.path, template: choice.template, field: flags.family !== undefined ? 'family' : 'template' });
      store.models.setTemplate(id, choice);
      if (ctx.json) ctx.out(JSON.stringify({ id, family: choice.family, rendered: r.rendered, tokenCount: r.tokenCount }));
      else ctx.out(`model ${id}: chat template ${choice.family ?? `from ${flags.template}`}; a two-turn chat renders as:\n${r.rendered}`);
      return 0;
    });
  }
  throw new CliUsageError(`usage: ${usage}`);
}
