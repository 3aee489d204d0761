/**
 * Protocol benchmark (npm run --silent bench:protocol), on a generated ~20M-parameter llama model with the
 * Llama-2 vocabulary and chat template (main/gguf SIZE_PRESETS['20M'], cached under .cache/bench/):
 *
 * 1. examples per minute for the whole per-example protocol (turn 1, answer/option probabilities, turn-2
 *    self-explanation, alignment, and the masked evaluations of the faithfulness sets) in each mode, on the
 *    first BENCH_N (default 6) English SST sentences of the paper's release with their human rationales;
 * 2. the masked-input primitive, per mask set and overall, on the same SST sentences (scoring-mode answer)
 *    and on one ~300-word news paragraph (forced-labour task), four ways in the same run:
 *      full re-evaluation (cache cleared) vs prefix reuse (cache holding the unmasked context, as after
 *      classification), each reading the answer probability from the full distribution (the previous
 *      primitive) or through the single-token readout (nextTokenProb, the default now);
 * 3. all sets of one example in a row: one call per set in the runner's order vs maskedAnswerProbs (sorted
 *    for prefix sharing).
 *
 * Every figure is a ratio against a baseline measured in the same run (per-set medians over BENCH_REPS, default 3,
 * repetitions with the four ways interleaved); the machine is shared, so run it twice and compare.
 * ERASER top-k sets use a seeded random ranking (there is no LRP in this bench): what matters for speed is
 * where the masked positions fall, and a random ranking spreads them over the text as relevance does.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { getLlama, type LlamaContextSequence, type Token } from 'node-llama-cpp';
import { generateModel, SIZE_PRESETS } from '../main/gguf/generate';
import { physicalCoreCount } from '../main/models/session-threads';
import { chatTemplateOf, loadIndicators, runExample, spansToMask, type ClassifyMode, type ProtocolRuntime, type TaskSpec } from '../main/protocol/index';
import type { ProbReadout } from '../main/protocol/infer';
import { fillerToken, maskedAnswerProb, maskedAnswerProbFull, maskedAnswerProbs, type MaskReadout } from '../main/protocol/mask';
import { mulberry32 } from '../main/metrics/bootstrap';

const N = Number(process.env.BENCH_N ?? 6);
/** Repetitions of the masked-evaluation comparison (SST; the news paragraph gets max(1, REPS - 1)). */
const REPS = Number(process.env.BENCH_REPS ?? 3);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const shared = path.resolve(root, '../shared');
const dataFile = path.join(shared, 'data/paper-responses/sst/llama/oracle/28/llama_rationales_seed_28_sparsity_oracle.jsonl');

interface Example {
  text: string;
  spans: { start: number; end: number }[];
}
const sst: Example[] = readFileSync(dataFile, 'utf8').split('\n').filter((l) => l.trim()).slice(0, N).map((l) => {
  const d = JSON.parse(l.replace(/\bNaN\b/g, 'null'));
  const words = [...(d.content as string).matchAll(/\S+/gu)];
  const spans = words.filter((_, i) => d.gold_label_rationales[i] === 1).map((m) => ({ start: m.index!, end: m.index! + m[0].length }));
  return { text: d.content as string, spans };
});

// Written for this bench (the RaFoLa corpus is not in ../shared): a news paragraph of ~300 words in the
// corpus's style, with the evidence a human annotator would mark as the rationale.
const NEWS = [
  'Dozens of workers recruited from Nepal and Bangladesh to build a stadium complex on the outskirts of the city',
  'say they have not been paid for five months and cannot leave the country. In interviews this week, eleven of',
  'the men told reporters that their passports were taken by the recruitment agency on arrival and locked in the',
  "site manager's office, and that requests to have them returned were refused. Several said they had paid fees of",
  'up to 3,000 dollars to agents in their home villages, borrowing the money from relatives and local lenders at',
  'high interest, and that the debts have grown while their wages went unpaid. The workers live in a camp of',
  'prefabricated cabins about forty minutes by bus from the site, where up to twelve men share a room. They',
  'described shifts of fourteen hours in summer heat, six days a week, and said supervisors threatened to report',
  'them to the police as absconders if they stopped working or spoke to journalists. One worker, who asked not to',
  'be named for fear of reprisals, said a colleague who complained about the food was moved to another site and',
  'has not been heard from since. The construction company, a subcontractor of the main developer, said in a',
  'statement that salary delays were caused by late payments from its client and that passports are kept only',
  'for safekeeping at the request of the workers. It said all employees are free to resign. The labour ministry',
  'said it had opened an inquiry and sent inspectors to the camp on Monday. A spokesperson for the developer said',
  'it expects its contractors to comply with national law and international standards and would review the',
  'contract. Rights groups have long warned that the sponsorship system ties migrant workers to a single employer,',
  'leaving them unable to change jobs or leave without permission, and have called for the fees charged by',
  'recruiters to be paid by employers instead of workers.',
].join(' ');
const NEWS_EVIDENCE = ['their passports were taken by the recruitment agency', 'have not been paid for five months', 'cannot leave the country', 'threatened to report them to the police'];
const news: Example = {
  text: NEWS,
  spans: NEWS_EVIDENCE.map((e) => {
    const start = NEWS.indexOf(e);
    if (start < 0) throw new Error(`evidence "${e}" not in the paragraph`);
    return { start, end: start + e.length };
  }),
};

/** The generated model, cached on disk: same options and generator source -> same file name. */
async function benchModel(): Promise<{ path: string; nParams: number; nVocab: number }> {
  const opts = { seed: 7, ...SIZE_PRESETS['20M'], chatTemplate: 'llama2' as const, contextLength: 2048 };
  const key = createHash('sha256').update(JSON.stringify(opts)).update(readFileSync(path.join(root, 'main/gguf/generate.ts'))).digest('hex').slice(0, 16);
  const dir = path.join(root, '.cache/bench');
  const file = path.join(dir, `m20-${key}.gguf`);
  const meta = `${file}.json`;
  if (!existsSync(file) || !existsSync(meta)) {
    mkdirSync(dir, { recursive: true });
    const g = await generateModel({ ...opts, path: `${file}.tmp` });
    renameSync(`${file}.tmp`, file);
    writeFileSync(meta, JSON.stringify({ nParams: g.nParams, nVocab: g.nVocab }));
  }
  return { path: file, ...(JSON.parse(readFileSync(meta, 'utf8')) as { nParams: number; nVocab: number }) };
}

const gen = await benchModel();
const threads = physicalCoreCount();
const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads });
const model = await llama.loadModel({ modelPath: gen.path });
const context = await model.createContext({ contextSize: 2048, threads });
const seq = context.getSequence();
const rt: ProtocolRuntime = { llama, model, sequence: seq, template: chatTemplateOf(model) };
const filler = fillerToken(model, 'underscore');
console.log(`model: ${(gen.nParams / 1e6).toFixed(1)}M parameters, vocab ${gen.nVocab}, threads ${threads}, ${sst.length} SST sentences + 1 news paragraph (${NEWS.split(/\s+/).length} words); ${gen.path}`);

// ---- 1. whole protocol ------------------------------------------------------------------------------
type SetList = [string, number[]][];
/** The faithfulness sets of one example (token positions in the prompt), as the runner builds them. */
function maskSets(units: { index: number; start: number; end: number }[], human: Example['spans'], self: Example['spans'] | null, seed: number): SetList {
  const pos = (m: number[]) => units.filter((_, i) => m[i]).map((u) => u.index);
  const rand = mulberry32(seed);
  const ranking = units.map((u) => ({ u, r: rand() })).sort((a, b) => b.r - a.r).map((x) => x.u.index);
  const humanSet = pos(spansToMask(units, human));
  const randomSet = [...ranking].reverse().slice(0, humanSet.length).sort((a, b) => a - b);
  const sets: SetList = [['human', humanSet]];
  if (self) sets.push(['self', pos(spansToMask(units, self))]);
  sets.push(['random', randomSet], ['whole text', units.map((u) => u.index)], ['last text token', [units[units.length - 1].index]]);
  for (const pct of [1, 5, 10, 20, 50]) {
    const k = Math.max(1, Math.round((units.length * pct) / 100));
    sets.push([`top-${pct}%`, ranking.slice(0, k).sort((a, b) => a - b)]);
  }
  return sets.filter(([, p]) => p.length > 0);
}

for (const mode of ['scoring', 'constrained', 'paper'] as ClassifyMode[]) {
  let valid = 0;
  let explained = 0;
  let masked = 0;
  const t0 = performance.now();
  for (const [i, ex] of sst.entries()) {
    const r = await runExample(rt, { text: ex.text, humanRationale: ex.spans }, {
      task: { task: 'sentiment', language: 'en' }, mode, sampling: { seed: 28, temperature: 0.6, topP: 0.9 },
      maxNewTokens: 100, selfExplanation: { k: 'human', shape: 'paper-list' },
    });
    if (r.classification.status !== 'ok') continue;
    valid++;
    if (r.explanation) explained++;
    const c = r.classification;
    for (const [, positions] of maskSets(r.textTokens, ex.spans, r.explanation?.alignment.matched ?? null, i)) {
      await maskedAnswerProb(seq, c.contextBeforeAnswer, positions, filler, c.answer!.id as Token);
      masked++;
    }
  }
  const min = (performance.now() - t0) / 60000;
  console.log(`${mode.padEnd(11)} ${(sst.length / min).toFixed(1)} examples/min (whole protocol incl. ${masked} masked evaluations; ${valid}/${sst.length} valid answers, ${explained} self-explanations)`);
}

// ---- 2. masked evaluation, four ways -----------------------------------------------------------------
interface Way {
  name: string;
  reuse: boolean;
  readout: MaskReadout;
}
const WAYS: Way[] = [
  { name: 'full+dist', reuse: false, readout: 'distribution' },
  { name: 'full+answer', reuse: false, readout: 'answer' },
  { name: 'reuse+dist', reuse: true, readout: 'distribution' },
  { name: 'reuse+answer', reuse: true, readout: 'answer' },
];
interface Case {
  label: string;
  ctx: Token[];
  answer: Token;
  sets: SetList;
  textStart: number;
}
async function prepare(label: string, ex: Example, task: TaskSpec, self: boolean, seed: number): Promise<Case> {
  const r = await runExample(rt, { text: ex.text, humanRationale: ex.spans }, {
    task, mode: 'scoring', selfExplanation: self ? { k: 'human', shape: 'paper-list' } : false,
  });
  const c = r.classification;
  if (c.status !== 'ok') throw new Error(`${label}: scoring gave no answer`);
  return { label, ctx: c.contextBeforeAnswer, answer: c.answer!.id as Token, sets: maskSets(r.textTokens, ex.spans, r.explanation?.alignment.matched ?? null, seed), textStart: r.textTokens[0].index };
}

/** Restore the cache to the unmasked context (as classification leaves it); not timed. */
async function unmasked(s: LlamaContextSequence, c: Case) {
  await maskedAnswerProb(s, c.ctx, [], filler, c.answer);
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(cases: Case[], title: string, reps: number) {
  // set name -> way -> samples (ms); medians, because other jobs on the shared cores add spikes
  const ms = new Map<string, number[][]>();
  let maxRel = 0;
  let firstMaskedSum = 0;
  let evals = 0;
  let tries = 0;
  let answered = 0;
  for (let rep = 0; rep < reps; rep++) {
    for (const c of cases) {
      for (const [name, positions] of c.sets) {
        const t = ms.get(name) ?? WAYS.map(() => [] as number[]);
        const ps: number[] = [];
        // rotate the order of the ways, so no way always runs first after a restore
        for (let w0 = 0; w0 < WAYS.length; w0++) {
          const w = (w0 + rep + evals) % WAYS.length;
          const way = WAYS[w];
          await unmasked(seq, c);
          const info: ProbReadout = { method: 'bias', tries: 0 };
          const a = performance.now();
          ps[w] = way.reuse
            ? await maskedAnswerProb(seq, c.ctx, positions, filler, c.answer, way.readout, info)
            : await maskedAnswerProbFull(seq, c.ctx, positions, filler, c.answer, way.readout);
          t[w].push(performance.now() - a);
          if (way.reuse && way.readout === 'answer') {
            tries += info.tries;
            answered++;
          }
        }
        ms.set(name, t);
        for (const p of ps) maxRel = Math.max(maxRel, Math.abs(p - ps[0]) / Math.max(ps[0], 1e-12));
        firstMaskedSum += positions[0] / c.ctx.length;
        evals++;
      }
    }
  }
  const ctxLen = cases.reduce((a, c) => a + c.ctx.length, 0) / cases.length;
  const textStart = cases.reduce((a, c) => a + c.textStart, 0) / cases.length;
  console.log(`\n${title}: context ${ctxLen.toFixed(0)} tokens (text from token ${textStart.toFixed(0)}), ${reps} rep(s); median ms per masked evaluation (speed-up vs full+dist)`);
  console.log(`  ${'set'.padEnd(16)} ${'n'.padStart(3)} ${WAYS.map((w) => w.name.padStart(15)).join('')}   reuse/full with the same readout (dist, answer)`);
  const tot = WAYS.map(() => 0);
  for (const [name, t] of ms) {
    const m = t.map(median);
    // overall: sum of the per-set medians, i.e. one evaluation of every set
    m.forEach((v, i) => (tot[i] += v));
    const cells = m.map((v) => `${v.toFixed(1)} (${(m[0] / v).toFixed(2)}x)`.padStart(15));
    console.log(`  ${name.padEnd(16)} ${String(t[0].length).padStart(3)} ${cells.join('')}   ${(m[0] / m[2]).toFixed(2)}x, ${(m[1] / m[3]).toFixed(2)}x`);
  }
  console.log(`  ${'all sets'.padEnd(16)} ${String(evals).padStart(3)} ${tot.map((v) => `${v.toFixed(1)} (${(tot[0] / v).toFixed(2)}x)`.padStart(15)).join('')}   ${(tot[0] / tot[2]).toFixed(2)}x, ${(tot[1] / tot[3]).toFixed(2)}x   (sum of medians)`);
  console.log(`  first masked position at ${((100 * firstMaskedSum) / evals).toFixed(0)}% of the context on average; single-token readout: ${(tries / answered).toFixed(2)} evaluations of the last token per call; max relative difference between the four ways ${maxRel.toExponential(1)}`);
  console.log(`  => prefix reuse alone (same readout): ${(tot[0] / tot[2]).toFixed(2)}x; new primitive (reuse+answer) vs previous (reuse+dist): ${(tot[2] / tot[3]).toFixed(2)}x; vs full re-evaluation with the full distribution: ${(tot[0] / tot[3]).toFixed(2)}x`);

  // 3. all sets in a row
  const row = { each: 0, sorted: 0 };
  let maxRelSorted = 0;
  for (let rep = 0; rep < reps; rep++) {
    for (const c of cases) {
      const sets = c.sets.map(([, p]) => p);
      await unmasked(seq, c);
      let a = performance.now();
      const each: number[] = [];
      for (const p of sets) each.push(await maskedAnswerProb(seq, c.ctx, p, filler, c.answer));
      row.each += performance.now() - a;
      await unmasked(seq, c);
      a = performance.now();
      const sorted = await maskedAnswerProbs(seq, c.ctx, sets, filler, c.answer);
      row.sorted += performance.now() - a;
      each.forEach((p, i) => {
        maxRelSorted = Math.max(maxRelSorted, Math.abs(sorted[i] - p) / p);
      });
    }
  }
  console.log(`  all sets of an example in a row (mean of ${reps * cases.length}): one call per set ${(row.each / reps / cases.length).toFixed(0)} ms; maskedAnswerProbs sorted ${(row.sorted / reps / cases.length).toFixed(0)} ms (${(row.each / row.sorted).toFixed(2)}x, max rel. diff ${maxRelSorted.toExponential(1)})`);
}

const sstCases: Case[] = [];
for (const [i, ex] of sst.entries()) sstCases.push(await prepare(`sst ${i}`, ex, { task: 'sentiment', language: 'en' }, true, i));
await measure(sstCases, `SST sentences (${sst.length})`, REPS);
const indicator = loadIndicators(path.join(shared, 'data/rafola/definitions.json'))[0];
const newsCase = await prepare('news', news, { task: 'forced-labour', indicator }, false, 99);
await measure([newsCase], `news paragraph (forced-labour indicator "${indicator.label}")`, Math.max(1, REPS - 1));

await context.dispose();
await model.dispose();
