/**
 * One example through the whole pipeline: prediction (turn 1), self-explanation (turn 2) and alignment,
 * LRP (cp / attn / contrastive), occlusion, a seeded random baseline, and faithfulness through the
 * masked-input primitive. Produces the ResultInput the store keeps (layout documented in metrics/run-metrics.ts).
 * Phase times are added to ctx.timings: prediction, self-explanation, lrp, occlusion, faithfulness.
 */
import type { Token } from 'node-llama-cpp';
import type { StudyConfig } from '../config/study-schema';
import type { LrpModel } from '../lrp';
import { aopc, comprehensiveness, flippingK, flippingOfRelevances, hashSeed, levelMasks, mulberry32, structuralPositions, sufficiency } from '../metrics';
import { accentFoldNote, alignSelfExplanation } from '../protocol/align';
import { rationaleMasks } from '../protocol/rationale-mask';
import { isCorrect } from '../protocol/classify';
import {
  classify,
  defaultSampling,
  selfExplain,
  selfExplanationTurns,
  humanK,
  maskedAnswerProb,
  positionsKey,
  promptFor,
  renderChat,
  textTokens,
  type ChatTurn,
  type Indicator,
  type ProtocolRuntime,
} from '../protocol';
import type { RelevanceInput, ResultInput, StoredExample, TokenInfo } from '../store';
import type { ExampleContext, ProcessExample } from './loop';
import { exampleFit, TOO_LONG_REASON, truncateToFit, type Truncation } from './fit';
import { runSelfConsistency } from '../protocol/self-consistency-run';
import type { Alignment } from '../protocol/align';

export interface PipelineDeps {
  rt: ProtocolRuntime;
  /** null when the study asks for no LRP method. */
  lrp: LrpModel | null;
  filler: Token;
  config: StudyConfig;
  seed: number;
  mode: 'paper' | 'constrained' | 'scoring';
  indicators?: Indicator[];
  /**
   * A masked set read once for an example is not evaluated again (default true): faithfulness, AOPC and
   * flipping ask for some sets twice (nothing masked, the whole text, nested top-k sets), and a readout is a
   * function of the masked tokens alone (protocol/infer.ts), so reusing it changes no value. false: every
   * request evaluates (bench/study-parts/7b.ts reports the difference).
   */
  reuseMaskedReadouts?: boolean;
}

const time = async <T>(t: Record<string, number>, phase: string, f: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    t[phase] = (t[phase] ?? 0) + (performance.now() - t0);
  }
};

export function makeProcessor(deps: PipelineDeps): ProcessExample {
  const { rt, config } = deps;
  const methods = new Set(config.explanations.map((e) => e.method));
  const fitRt = { model: rt.model, template: rt.template, contextSize: rt.sequence.contextSize };
  return async (stored: StoredExample, ctx: ExampleContext): Promise<ResultInput> => {
    const tm = ctx.timings;
    let ex = stored;
    {
      const { goldLabel: g } = promptFor(config, ex, deps.indicators);
      // left out by the study's labelMap: stored as skipped, never run or scored
      if (g.status === 'excluded') return { rawOutputs: { goldLabels: ex.labels }, label: null, skippedReason: 'excluded-label' };
      // the study's label check (runner/study.ts) refuses these before a run starts; never scored
      if (g.status === 'unmapped') throw new Error(`example ${ex.externalId}: gold label: ${g.reason}`);
    }
    // A text too long for the context (runner/fit.ts, the rule the study form's fit check counts by): skipped
    // with its figures, or cut to fit as the study chose. Decided before anything is evaluated.
    let truncated: Truncation | null = null;
    const fit = exampleFit(fitRt, config, ex, deps.indicators);
    if (!fit.fits) {
      const tooLong = { promptTokens: fit.promptTokens, need: fit.need, context: fit.context, maxContextTokens: config.limits.maxContextTokens };
      const cut = config.limits.tooLong === 'truncate' ? truncateToFit(fitRt, config, ex, deps.indicators) : null;
      if (!cut) {
        const why = config.limits.tooLong === 'truncate' ? '; not even its first word fits after the instructions' : '';
        return { rawOutputs: { reason: `${TOO_LONG_REASON}: it needs ${fit.need} tokens, the context holds ${fit.context}${why}`, tooLong }, label: null, skippedReason: 'context-overflow' };
      }
      ex = cut.example;
      truncated = cut.truncation;
    }
    const { goldLabel: gold, rationale, prompt } = promptFor(config, ex, deps.indicators);
    // the same labels as checked above (a cut example keeps its labels)
    if (gold.status !== 'ok') throw new Error(`example ${ex.externalId}: gold label changed while it was cut`);
    const turns: ChatTurn[] = [{ role: 'user', pieces: prompt.turn1 }];
    const sampling = { ...defaultSampling, seed: deps.seed };
    const base: ResultInput = { rawOutputs: truncated ? { truncated } : {}, label: null };
    // turn 1
    const chat = renderChat(rt.model, rt.template, turns);
    const cls = await time(tm, 'prediction', () =>
      classify(rt, chat, turns, prompt, { mode: deps.mode, sampling, maxNewTokens: config.limits.maxNewTokens, signal: ctx.signal }),
    );
    const tt = textTokens(chat);
    const byIndex = new Map(tt.map((t) => [t.index, t]));
    // stored token offsets: into the example text for text tokens, into the prompt otherwise
    const tokens: TokenInfo[] = chat.promptTokens.map((t, i) => {
      const inText = byIndex.get(i);
      return { id: t.id, text: t.text, start: inText ? inText.start : t.start, end: inText ? inText.end : t.end, segment: t.segment };
    });
    // gold: the option the example's gold label maps to (protocol/gold.ts), what `correct` is decided against
    const rawOutputs: Record<string, unknown> = { turn1: cls.responseText, mode: cls.mode, stop: cls.stop ?? null, gold: gold.label, ...(truncated ? { truncated } : {}) };
    if (cls.status === 'skipped') return { ...base, rawOutputs: { ...rawOutputs, reason: cls.reason }, skippedReason: 'context-overflow' };
    if (cls.status === 'invalid' || !cls.option || !cls.answer) {
      return { ...base, rawOutputs: { ...rawOutputs, reason: cls.reason ?? null }, label: 'invalid', correct: false, tokens, skippedReason: 'invalid-answer' };
    }
    const label = cls.label!;
    const correct = isCorrect(cls.option, gold);
    const common: ResultInput = {
      rawOutputs,
      label,
      correct,
      answerToken: cls.answer.text,
      answerProb: cls.answer.prob,
      optionProbs: Object.fromEntries(Object.entries(cls.optionProbs).filter(([, v]) => v !== null)) as Record<string, number>,
      tokens,
    };
    if (config.onlyCorrect && !correct) return { ...common, skippedReason: 'wrong-answer' };

    // human masks: the same rule as the self-explanation's (protocol/rationale-mask.ts)
    const words = ex.words;
    const tokenSpans = tokens.map((t) => (t.segment === 'text' ? { start: t.start, end: t.end } : { start: -1, end: -1 }));
    const textPos = tokens.flatMap((t, i) => (t.segment === 'text' ? [i] : []));
    const masks: Record<string, number[]> = {};
    const hasHuman = rationale.length > 0;
    if (hasHuman) {
      const human = rationaleMasks(ex.text, words, rationale, tokenSpans);
      masks['human/word'] = human.word;
      masks['human/token'] = human.token;
    }

    // turn 2: self-explanation
    let selfExplanation: string[] | null = null;
    let alignment: unknown = null;
    if (methods.has('self')) {
      const kCfg = config.selfExplanation.k;
      const k = kCfg === 'free' ? null : kCfg === 'human' ? humanK(ex.text, rationale) : kCfg;
      if (k === 0) return { ...common, masks, skippedReason: 'empty-human-rationale' };
      const turns2 = selfExplanationTurns(turns, cls.responseText, prompt, cls.option, k);
      const exr = await time(tm, 'self-explanation', () =>
        selfExplain(rt, turns2, ex.text, prompt.explainUnit, { k, shape: 'paper-list', extractive: config.selfExplanation.extractive, sampling, signal: ctx.signal }),
      );
      rawOutputs.turn2 = exr.raw;
      rawOutputs.turn2Status = exr.status;
      rawOutputs.turn2Budget = exr.budget;
      // why turn 2 gave no items (budget or context reached, unparsable): kept with the skip
      if (exr.error) rawOutputs.turn2Error = exr.error;
      selfExplanation = exr.items;
      // the study's matching rule: 'robust' (the workbench's) or 'paper' (the published study's)
      const al = alignSelfExplanation(ex.text, exr.items, { rule: config.selfExplanation.matching, occurrences: config.selfExplanation.occurrences });
      alignment = al;
      const foldNote = accentFoldNote(al);
      if (foldNote) rawOutputs.matchNote = foldNote;
      if (exr.status !== 'ok') return { ...common, rawOutputs, selfExplanation, alignment, masks, skippedReason: 'unparsable-self-explanation' };
      if (al.matched.length === 0) return { ...common, rawOutputs, selfExplanation, alignment, masks, skippedReason: 'unmatched-self-explanation' };
      const self = rationaleMasks(ex.text, words, al.matched, tokenSpans);
      masks['self/word'] = self.word;
      masks['self/token'] = self.token;
    }

    // continuous scores -> masks, binarised at each level over that level's units (metrics/levels.ts)
    const count = (m: number[] | undefined) => m?.reduce((a, b) => a + b, 0) ?? 0;
    const humanSize = { token: count(masks['human/token']), word: count(masks['human/word']) };
    const units = { tokens: tokenSpans, textPositions: textPos, words, structuralPositions: structuralPositions(tokens) };
    const setMasks = (method: string, scores: number[]) => {
      const lm = levelMasks(scores, units, config.binarisation, humanSize);
      masks[`${method}/token`] = lm.token;
      masks[`${method}/word`] = lm.word;
    };
    const relevance: RelevanceInput[] = [];
    const context = cls.contextBeforeAnswer as number[];
    const promptLen = tokens.length;
    // relevance over the prompt tokens only (the answer's preceding generated text, if any, is cut off)
    const keep = (r: Float32Array) => Array.from(r.subarray(0, promptLen));

    // LRP
    if (deps.lrp && (methods.has('lrp-cp') || methods.has('lrp-attn') || methods.has('lrp-contrast'))) {
      const lrp = deps.lrp;
      const target = cls.answer.id;
      await time(tm, 'lrp', async () => {
        for (const e of config.explanations) {
          if (!e.method.startsWith('lrp')) continue;
          let contrast: number | undefined;
          if (e.method === 'lrp-contrast') {
            const others = prompt.options.filter((o) => o !== cls.option);
            const other = e.contrast === 'strongest' ? others.sort((a, b) => (cls.optionProbs[b.label] ?? 0) - (cls.optionProbs[a.label] ?? 0))[0] : others[0];
            const txt = cls.answer!.text.replace(cls.option!.letter, other.letter);
            const ids = rt.model.tokenize(txt, false, 'trimLeadingSpace');
            if (ids.length !== 1 || txt === cls.answer!.text) {
              rawOutputs.lrpContrastNote = `no single contrast token for option (${other.letter})`;
              continue;
            }
            contrast = ids[0];
          }
          const r = await lrp.attribute({ tokens: context, target, contrast, rule: e.method === 'lrp-attn' ? 'attn' : 'cp', gate: e.method === 'lrp-attn' ? undefined : e.gate, signal: ctx.signal });
          const vals = keep(r.relevance);
          // the relevance on the answer's generated prefix (e.g. "("), cut off above, is kept as its sum: the
          // stored values plus it are the explained value (conservation stays checkable from the store)
          const cut = context.length > promptLen ? Array.from(r.relevance.subarray(promptLen)).reduce((a, b) => a + b, 0) : null;
          relevance.push({ method: e.method, values: vals, explainedValue: r.value, meta: { target, contrast: contrast ?? null, ms: r.timings.totalMs, ...(cut !== null ? { answerPrefixRelevance: cut } : {}) } });
          setMasks(e.method, vals);
        }
      });
    }

    // Every masked readout, by its positions (positionsKey): exports carry them, so each faithfulness
    // value and the occlusion relevance can be recomputed without the model (the readout is deterministic,
    // so a set read twice has one value).
    const maskedProbs: Record<string, number> = {};
    const probAfter = async (positions: number[]) => {
      const key = positionsKey(positions);
      if (deps.reuseMaskedReadouts !== false && key in maskedProbs) return maskedProbs[key];
      const p = await maskedAnswerProb(rt.sequence, cls.contextBeforeAnswer, positions, deps.filler, cls.answer!.id as Token);
      maskedProbs[key] = p;
      return p;
    };

    // occlusion: leave-one-token-out probability drop of the answer token
    if (methods.has('occlusion') && textPos.length) {
      await time(tm, 'occlusion', async () => {
        const p0 = cls.answer!.prob;
        const vals = tokens.map(() => 0);
        // rounded to float32 as stored, so the mask, AOPC and AUPRC all use the stored values
        for (const p of textPos) vals[p] = Math.fround(p0 - (await probAfter([p])));
        relevance.push({ method: 'occlusion', values: vals, explainedValue: p0 });
        setMasks('occlusion', vals);
      });
    }

    // random baseline, seeded by study seed and example
    if (methods.has('random') && textPos.length) {
      const rand = mulberry32(hashSeed(`random:${ex.id}`, deps.seed));
      // float32 as stored (see occlusion)
      const vals = tokens.map((t) => (t.segment === 'text' ? Math.fround(rand()) : 0));
      relevance.push({ method: 'random', values: vals });
      setMasks('random', vals);
    }

    // faithfulness: the paper's masking test and ERASER comprehensiveness / sufficiency
    if (textPos.length && config.metrics.some((m) => ['prob-drop', 'comprehensiveness', 'sufficiency', 'aopc-comprehensiveness', 'aopc-sufficiency'].includes(m))) {
      await time(tm, 'faithfulness', async () => {
        const p0 = await probAfter([]);
        const sets: Record<string, number> = {};
        const comp: Record<string, number> = {};
        const suff: Record<string, number> = {};
        const aopcC: Record<string, number> = {};
        const aopcS: Record<string, number> = {};
        const named: [string, number[] | undefined][] = [
          ['human', masks['human/token']],
          ['self', masks['self/token']],
          ['lrp-cp', masks['lrp-cp/token']],
          ['lrp-contrast', masks['lrp-contrast/token']],
          ['random', masks['random/token']],
        ];
        const sel = (m: number[]) => m.flatMap((v, i) => (v === 1 ? [i] : []));
        for (const [name, m] of named) {
          if (!m) continue;
          sets[name] = await probAfter(sel(m));
          if (config.metrics.includes('comprehensiveness')) comp[name] = await comprehensiveness(m, probAfter, p0);
          if (config.metrics.includes('sufficiency')) suff[name] = await sufficiency(m, textPos, probAfter, p0);
        }
        sets['whole-text'] = await probAfter(textPos);
        for (const rel of relevance) {
          if (!['lrp-cp', 'occlusion', 'random'].includes(rel.method)) continue;
          const scores = Array.from(rel.values);
          if (config.metrics.includes('aopc-comprehensiveness')) aopcC[rel.method] = (await aopc('comprehensiveness', scores, textPos, probAfter, { p0 })).aopc;
          if (config.metrics.includes('aopc-sufficiency')) aopcS[rel.method] = (await aopc('sufficiency', scores, textPos, probAfter, { p0 })).aopc;
        }
        rawOutputs.faithfulness = { p0, sets, comprehensiveness: comp, sufficiency: suff, aopcComprehensiveness: aopcC, aopcSufficiency: aopcS };
      });
    }
    // k-greedy flipping of each relevance (metrics/flipping.ts): stored under rawOutputs.flipping
    if (textPos.length && relevance.length && config.metrics.includes('k-greedy-flipping')) {
      const k = flippingK(config.task.kind, config.flipping?.k);
      rawOutputs.flipping = await time(tm, 'flipping', () => flippingOfRelevances(relevance, textPos, k, probAfter));
    }
    // self-consistency tests (protocol/self-consistency-run.ts): stored under rawOutputs.selfConsistency
    if (config.selfConsistency?.length) {
      const kCfg = config.selfExplanation.k;
      rawOutputs.selfConsistency = await time(tm, 'self-consistency', () =>
        runSelfConsistency(rt, {
          tests: config.selfConsistency!, config, example: ex, indicators: deps.indicators, prompt, turns, cls,
          matched: (alignment as Alignment | null)?.matched ?? null,
          k: kCfg === 'free' ? null : kCfg === 'human' ? humanK(ex.text, rationale) : kCfg,
          mode: deps.mode, sampling, maxNewTokens: config.limits.maxNewTokens, signal: ctx.signal,
        }),
      );
    }
    if (Object.keys(maskedProbs).length) rawOutputs.maskedProbs = maskedProbs;
    return { ...common, rawOutputs, selfExplanation, alignment, masks, relevance };
  };
}
