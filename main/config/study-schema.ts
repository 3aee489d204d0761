import { BINARISATIONS, DEFAULT_EXPLANATIONS, DEFAULT_METRICS, DEFAULT_SEEDS, EXPLANATION_METHODS, METRICS, MODEL_MODES, SELF_CONSISTENCY_TESTS, TASK_KINDS, TOO_LONG_CHOICES } from '../api/vocabulary';
import { threadsProblem } from '../models/session-threads';
import { z } from 'zod';
import { placeholderProblem, TURN1_PLACEHOLDERS, type TaskSpec } from '../protocol/prompts';
import { BUILTIN_DEFINITION_NAMES, builtinDefinitions, DEFAULT_DEFINITIONS, definitionsSha256 } from '../protocol/indicator-definitions';
import { ILO_LIST, iloIndicator, indicatorNamed, indicatorsFromList, type IndicatorDefinitions, type IndicatorName } from '../protocol/indicators';
import { taskOptionLabels } from '../protocol/gold';

/**
 * The study configuration: what a study runs (task, data, models, seeds) and how it explains and
 * scores (explanation methods, binarisation, self-explanation protocol, metrics, limits).
 * Parsing fills every default, so a stored config is complete and a run never depends on the
 * defaults of the app version that reads it.
 */

// The vocabulary lists live in the API contract (the renderer's form shows them); re-exported for the engine's code.
export { BINARISATIONS, DEFAULT_EXPLANATIONS, DEFAULT_METRICS, DEFAULT_SEEDS, EXPLANATION_METHODS, METRICS, MODEL_MODES, TASK_KINDS };
// Placeholders of prompt templates are the protocol's (protocol/prompts.ts): turn 1 takes {text} and {options}
// (once each), turn 2 also {k} and {label}; both turns may add the task's own (TASK_PLACEHOLDERS: {indicator}
// {definition} for forced-labour, {claim} for claim-verification).
/** The protocol's prompt task of each task kind: its placeholders are the ones a template may use. */
const PROMPT_TASK: Record<(typeof TASK_KINDS)[number], TaskSpec['task']> = {
  sentiment: 'sentiment',
  'forced-labour': 'forced-labour',
  'claim-verification': 'claim',
  custom: 'custom',
};

/** Label vocabularies when the config gives none (custom tasks must give their own). */
export const DEFAULT_LABELS: Record<Exclude<(typeof TASK_KINDS)[number], 'custom'>, string[]> = {
  sentiment: ['positive', 'negative'],
  // Each forced-labour indicator is its own yes/no task (paper: indicators 1, 2, 5, 8).
  'forced-labour': ['yes', 'no'],
  // Climate-FEVER evidence labels.
  'claim-verification': ['SUPPORTS', 'REFUTES', 'NOT_ENOUGH_INFO'],
};

const GATED = new Set(['lrp-cp', 'lrp-contrast']);

// Not trimmed: names, paths and labels are kept exactly as written.
const nonEmpty = z.string().regex(/\S/, 'must not be blank');
const id = z.int().positive();

const unique = <T>(what: string) => (list: T[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  list.forEach((v, i) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate ${what} ${key}` });
    seen.add(key);
  });
};

/**
 * task.indicator: one of the 11 ILO indicators, by name (any case) or by the ILO's number (1..11, the
 * ILO's order: protocol/indicators.ts); stored as its name, which no other numbering can misread.
 */
const indicatorField = z.unknown().transform((v, ctx): IndicatorName => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return fail(`expected an ILO indicator number 1..11 or its name, got ${describe(v)}`);
    if (v < 1) return fail(`must be at least 1, got ${describe(v)}`);
    if (v > 11) return fail(`must be at most 11, got ${describe(v)}`);
    return iloIndicator(v)!;
  }
  if (typeof v === 'string') return indicatorNamed(v) ?? fail(`${JSON.stringify(v)} is not an ILO indicator; give its name or ILO number (${ILO_LIST})`);
  return fail(`expected an ILO indicator name or number 1..11, got ${describe(v)}`);
});

const DEFINITION_KEYS = new Set(['source', 'name', 'sha256', 'indicators']);

/**
 * task.definitions: the indicator definitions the study's prompts use. Given as a built-in name
 * ("ilo-indicators") or as the definitions text itself ({source, name, indicators}, what a study file's
 * path, `--definitions` or the study form's file choice is turned into where the file is chosen);
 * stored as the text, so a study's runs and re-runs use exactly the words it was saved with. A file
 * path is never read here: this schema also checks configurations that come from the GUI.
 */
const definitionsField = z.unknown().transform((v, ctx): IndicatorDefinitions => {
  const fail = (message: string, path: PropertyKey[] = []) => {
    ctx.addIssue({ code: 'custom', path, message });
    return z.NEVER;
  };
  const builtins = BUILTIN_DEFINITION_NAMES.join(', ');
  if (typeof v === 'string') {
    return (
      builtinDefinitions(v) ??
      fail(
        `${JSON.stringify(v)} is not built-in definitions (built-in: ${builtins}); a definitions file is read where it is chosen ` +
          '(a study file or --definitions on the command line, the study form\'s file choice in the app), never from a path in a configuration',
      )
    );
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    return fail(`expected a built-in definitions name (${builtins}) or the definitions text {source, name, indicators}, got ${describe(v)}`);
  }
  const o = v as Record<string, unknown>;
  // every problem of the object at once (each under its own field), then the text itself
  const problems: [string, PropertyKey[]][] = [];
  for (const k of Object.keys(o)) if (!DEFINITION_KEYS.has(k)) problems.push(['unknown field', [k]]);
  if (o.source !== 'builtin' && o.source !== 'file') problems.push([`expected one of builtin|file, got ${describe(o.source)}`, ['source']]);
  if (typeof o.name !== 'string' || !/\S/.test(o.name)) problems.push([`expected a non-blank string, got ${describe(o.name)}`, ['name']]);
  if (o.sha256 !== undefined && typeof o.sha256 !== 'string') problems.push([`expected string, got ${describe(o.sha256)}`, ['sha256']]);
  for (const [message, path] of problems) fail(message, path);
  let indicators;
  try {
    indicators = indicatorsFromList(o.indicators, 'indicators');
  } catch (e) {
    return fail((e as Error).message.replace(/^indicators: /, ''), ['indicators']);
  }
  const sha256 = definitionsSha256(indicators);
  if (typeof o.sha256 === 'string' && o.sha256 !== sha256) {
    return fail('does not match the definitions text (changed after it was recorded?); leave it out to record the text as it is now', ['sha256']);
  }
  if (problems.length) return z.NEVER;
  return { source: o.source as IndicatorDefinitions['source'], name: o.name as string, sha256, indicators };
});

/**
 * Each target of task.labelMap must be one of the task's options (exactly as the task spells them) or null.
 * Runs even when other task fields are invalid (all problems at once), so it reads the input defensively.
 */
function checkLabelMap(input: unknown, ctx: z.RefinementCtx) {
  const t = input as { kind?: unknown; labels?: unknown; labelMap?: unknown };
  if (!t.labelMap || typeof t.labelMap !== 'object' || Array.isArray(t.labelMap)) return;
  if (typeof t.kind !== 'string' || !(TASK_KINDS as readonly string[]).includes(t.kind)) return;
  // a custom task without valid labels is reported at task.labels
  const labels = Array.isArray(t.labels) && t.labels.every((l) => typeof l === 'string') ? (t.labels as string[]) : undefined;
  if (t.kind === 'custom' && !labels) return;
  const options = taskOptionLabels({ kind: t.kind as (typeof TASK_KINDS)[number], labels });
  for (const [from, to] of Object.entries(t.labelMap as Record<string, unknown>)) {
    if (from.trim() === '') ctx.addIssue({ code: 'custom', path: ['labelMap'], message: `has a blank dataset label ${JSON.stringify(from)}` });
    if (typeof to === 'string' && !options.includes(to)) {
      ctx.addIssue({ code: 'custom', path: ['labelMap', from], message: `maps to ${JSON.stringify(to)}, which is not an option of ${t.kind} (${options.join(', ')}, or null to leave those examples out)` });
    }
  }
}

const task = z
  .strictObject({
    kind: z.enum(TASK_KINDS),
    labels: z.array(nonEmpty).min(2).superRefine(unique('label')).optional(),
    indicator: indicatorField.optional(),
    // The forced-labour indicator definitions (default: the built-in "ilo-indicators").
    definitions: definitionsField.optional(),
    // Gold labels: dataset label (exactly as written) -> one of the task's options, or null to leave those
    // examples out (protocol/gold.ts). Checked against the dataset before any model runs.
    labelMap: z.record(z.string(), z.union([z.string(), z.null()], { error: 'expected one of the task\'s options (a string) or null' })).optional(),
  })
  .superRefine(checkLabelMap, { when: () => true })
  .superRefine((t, ctx) => {
    if (t.kind === 'custom' && !t.labels) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: 'required for a custom task (at least 2 labels)' });
    }
    if (t.kind === 'forced-labour' && t.indicator === undefined) {
      ctx.addIssue({ code: 'custom', path: ['indicator'], message: `required for forced-labour: an ILO indicator by name or number (${ILO_LIST})` });
    }
    if (t.kind !== 'forced-labour' && t.indicator !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['indicator'], message: `only allowed for forced-labour, not ${t.kind}` });
    }
    if (t.kind !== 'forced-labour' && t.definitions !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['definitions'], message: `only allowed for forced-labour, not ${t.kind}` });
    }
  })
  .transform((t) => ({
    kind: t.kind,
    labels: t.labels ?? DEFAULT_LABELS[t.kind as keyof typeof DEFAULT_LABELS],
    ...(t.indicator !== undefined ? { indicator: t.indicator } : {}),
    // a forced-labour study always records the definitions text it runs with
    ...(t.kind === 'forced-labour' ? { definitions: t.definitions ?? builtinDefinitions(DEFAULT_DEFINITIONS)! } : {}),
    ...(t.labelMap !== undefined ? { labelMap: t.labelMap } : {}),
  }));

const dataset = z
  .strictObject({ id: id.optional(), builtin: nonEmpty.optional() })
  .refine((d) => (d.id === undefined) !== (d.builtin === undefined), {
    message: 'give exactly one of "id" (a stored dataset) or "builtin" (a built-in dataset name)',
  });

const model = z
  .strictObject({
    path: nonEmpty.optional(),
    id: id.optional(),
    mode: z.enum(MODEL_MODES).default('paper'),
    // '_' (paper, Llama), 'unk' = the model's unknown token (paper, Mistral), or any literal string.
    filler: z.string().min(1).default('_'),
    // GPU offload for prediction, generation and masked evaluation (models/session.ts gpuPlan): 'auto', a
    // number of layers, or 0; absent = 0 (CPU only). The LRP engine runs on the CPU whatever this says.
    gpuLayers: z.union([z.literal('auto'), z.int().min(0).max(10_000)], { error: 'expected "auto" or a whole number of layers (0 = CPU only)' }).optional(),
  })
  .refine((m) => (m.path === undefined) !== (m.id === undefined), {
    message: 'give exactly one of "path" (a GGUF file) or "id" (a registered model)',
  });

/** Turn 1 must show the text and the options, each once; which other placeholders are allowed depends on the task (below). */
function checkRequired(template: string, once: readonly string[], ctx: z.RefinementCtx, field: string) {
  // Only {identifier} is a placeholder, so JSON in a template ({"rationales": [...]}) is left alone.
  const count = new Map<string, number>();
  for (const m of template.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) count.set(m[1], (count.get(m[1]) ?? 0) + 1);
  for (const r of once) {
    const n = count.get(r) ?? 0;
    if (n === 0) ctx.addIssue({ code: 'custom', path: [field], message: `must contain the placeholder {${r}}` });
    // the text is aligned to its tokens once; a second copy would have no place in masks and relevance
    if (n > 1) ctx.addIssue({ code: 'custom', path: [field], message: `must contain the placeholder {${r}} once, found ${n}` });
  }
}

const prompts = z
  .strictObject({ turn1: z.string().optional(), turn2: z.string().optional() })
  .superRefine((p, ctx) => {
    // turn 2's {k} is checked against selfExplanation.k, and every placeholder against the task, below
    if (p.turn1 !== undefined) checkRequired(p.turn1, TURN1_PLACEHOLDERS, ctx, 'turn1');
  });

/**
 * Every placeholder of the templates must be one the study's task provides. Runs even when other fields
 * are invalid (so all problems are reported at once), hence it reads the input defensively; a task kind
 * that is itself invalid is reported at task.kind and its templates are not checked against it.
 */
function checkPlaceholderNames(c: unknown, ctx: z.RefinementCtx) {
  const cfg = c as { task?: { kind?: unknown }; prompts?: { turn1?: unknown; turn2?: unknown } } | null;
  const kind = cfg?.task?.kind;
  if (typeof kind !== 'string' || !(TASK_KINDS as readonly string[]).includes(kind)) return;
  const task = PROMPT_TASK[kind as (typeof TASK_KINDS)[number]];
  for (const turn of [1, 2] as const) {
    const template = cfg?.prompts?.[`turn${turn}`];
    if (typeof template !== 'string') continue;
    const reported = new Set<string>();
    for (const m of template.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
      const problem = reported.has(m[1]) ? null : placeholderProblem(m[1], task, turn, { claim: 'claim-verification' });
      if (problem) ctx.addIssue({ code: 'custom', path: ['prompts', `turn${turn}`], message: problem });
      reported.add(m[1]);
    }
  }
}

const explanation = z.preprocess(
  (v) => (typeof v === 'string' ? { method: v } : v),
  z
    .strictObject({
      method: z.enum(EXPLANATION_METHODS),
      gate: z.enum(['half', 'detach']).optional(),
      contrast: z.enum(['other', 'strongest']).optional(),
    })
    .superRefine((e, ctx) => {
      if (e.gate !== undefined && !GATED.has(e.method)) {
        ctx.addIssue({ code: 'custom', path: ['gate'], message: `only for lrp-cp and lrp-contrast, not ${e.method}` });
      }
      if (e.contrast !== undefined && e.method !== 'lrp-contrast') {
        ctx.addIssue({ code: 'custom', path: ['contrast'], message: `only for lrp-contrast, not ${e.method}` });
      }
    })
    .transform((e) => ({
      method: e.method,
      // Paper: the gate x up product splits relevance 1/2-1/2 (Llama setting); 'detach' freezes the gate.
      ...(GATED.has(e.method) ? { gate: e.gate ?? ('half' as const) } : {}),
      // 'other': logit(answer) - logit(the other option); 'strongest': minus the strongest other option.
      ...(e.method === 'lrp-contrast' ? { contrast: e.contrast ?? ('other' as const) } : {}),
    })),
);

const binarisation = z.preprocess(
  (v) => (typeof v === 'string' ? { method: v } : v),
  z
    .strictObject({
      method: z.enum(BINARISATIONS),
      k: z.int().positive().optional(),
      p: z.number().gt(0).max(1).optional(),
      // token level: select among BOS / chat-format / instruction / option tokens too (metrics/levels.ts);
      // false (the default, as the study's authors do): among the text's tokens only
      includeStructural: z.boolean().optional(),
    })
    .superRefine((b, ctx) => {
      if (b.method === 'fixed-k' && b.k === undefined) ctx.addIssue({ code: 'custom', path: ['k'], message: 'required for fixed-k' });
      if (b.method !== 'fixed-k' && b.k !== undefined) ctx.addIssue({ code: 'custom', path: ['k'], message: `only for fixed-k, not ${b.method}` });
      if (b.method === 'top-p' && b.p === undefined) ctx.addIssue({ code: 'custom', path: ['p'], message: 'required for top-p' });
      if (b.method !== 'top-p' && b.p !== undefined) ctx.addIssue({ code: 'custom', path: ['p'], message: `only for top-p, not ${b.method}` });
    })
    .transform((b): Binarisation => {
      const base: Binarisation = b.method === 'fixed-k' ? { method: 'fixed-k', k: b.k! } : b.method === 'top-p' ? { method: 'top-p', p: b.p! } : { method: b.method };
      // recorded only when on: configurations stored before the option keep their exact form (studyIdFor compares them)
      return b.includeStructural ? { ...base, includeStructural: true } : base;
    }),
);

export type Binarisation = (
  | { method: 'top-k-human' }
  | { method: 'one-over-n' }
  | { method: 'fixed-k'; k: number }
  | { method: 'top-p'; p: number }
) & { includeStructural?: true };

const selfExplanation = z.strictObject({
  // 'human': k = the example's number of human rationale words (paper); 'free': no maximum asked.
  k: z.union([z.literal('human'), z.literal('free'), z.int().positive()], {
    error: 'expected "human", "free" or a positive integer',
  }).default('human'),
  extractive: z.boolean().default(true),
  // 'paper': lower-case, verbatim, first occurrence; 'robust': also splits comma-joined items and ignores accents.
  matching: z.enum(['paper', 'robust']).default('robust'),
  occurrences: z.enum(['first', 'all']).default('first'),
});

// k-greedy flipping (metrics/flipping.ts): tokens flipped per step; 'task' = the study's k for the task
// kind (FLIPPING_K_BY_TASK: 1 for sentiment, 3 for forced labour and claim verification).
const flipping = z.strictObject({
  k: z.union([z.literal('task'), z.int().positive()], { error: 'expected "task" or a positive integer' }).default('task'),
});

const limits = z.strictObject({
  maxExamples: z.int().positive().optional(),
  // Paper skipped prompts over 3,000 tokens; the workbench records every skip.
  maxContextTokens: z.int().positive().default(3000),
  maxNewTokens: z.int().positive().default(100),
  // A text too long for a model's context (runner/fit.ts): 'skip' it (stored as skipped, with the reason and
  // its token count) or 'truncate' it to fit on a word boundary (recorded with the result). No default: a
  // study with such texts and no choice is refused before it runs, the texts listed.
  tooLong: z.enum(TOO_LONG_CHOICES).optional(),
  // one rule for every command and study: 1..twice the machine's CPUs (models/session-threads.ts)
  threads: z.int().min(1).superRefine((n, ctx) => {
    const problem = n >= 1 ? threadsProblem(n) : null;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).default(2),
});

export const studyConfigSchema = z
  .strictObject({
    name: nonEmpty.max(200),
    description: z.string().optional(),
    task,
    language: z.string().regex(/^[a-z]{2,3}$/, 'expected an ISO 639 code such as en, da, it').default('en'),
    dataset,
    models: z.array(model).min(1),
    prompts: prompts.optional(),
    seeds: z.array(z.int().min(0).max(2 ** 32 - 1)).min(1).superRefine(unique('seed')).default(DEFAULT_SEEDS),
    explanations: z.array(explanation).min(1).superRefine(unique('explanation')).prefault([...DEFAULT_EXPLANATIONS]),
    binarisation: binarisation.prefault('top-k-human'),
    selfExplanation: selfExplanation.prefault({}),
    onlyCorrect: z.boolean().default(true),
    metrics: z.array(z.enum(METRICS)).min(1).superRefine(unique('metric')).default(DEFAULT_METRICS),
    // optional: absent = { k: 'task' } (metrics/flipping.ts flippingK)
    flipping: flipping.optional(),
    // self-consistency tests (protocol/self-consistency.ts): optional, absent = none
    selfConsistency: z.array(z.enum(SELF_CONSISTENCY_TESTS)).superRefine(unique('self-consistency test')).optional(),
    limits: limits.prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.prompts?.turn2 !== undefined && c.selfExplanation.k !== 'free' && !/\{k\}/.test(c.prompts.turn2)) {
      ctx.addIssue({
        code: 'custom',
        path: ['prompts', 'turn2'],
        message: `must contain the placeholder {k} (selfExplanation.k is ${JSON.stringify(c.selfExplanation.k)})`,
      });
    }
    if (c.prompts?.turn2 !== undefined && c.selfExplanation.k === 'free' && /\{k\}/.test(c.prompts.turn2)) {
      ctx.addIssue({ code: 'custom', path: ['prompts', 'turn2'], message: 'has {k}, but selfExplanation.k is "free": there is no number to fill in' });
    }
  })
  .superRefine((c, ctx) => {
    // redaction removes the words the model named: without a self-explanation there are none
    if (c.selfConsistency?.includes('redaction') && !c.explanations.some((e) => e.method === 'self')) {
      ctx.addIssue({ code: 'custom', path: ['selfConsistency'], message: 'redaction removes the words of the self-explanation: add "self" to explanations' });
    }
  })
  .superRefine(checkPlaceholderNames, { when: () => true });

export type StudyConfig = z.output<typeof studyConfigSchema>;
export type StudyConfigInput = z.input<typeof studyConfigSchema>;

export interface ConfigIssue {
  /** e.g. "models[0].mode"; "(config)" for the whole object. */
  path: string;
  message: string;
}

export class StudyConfigError extends Error {
  constructor(readonly errors: ConfigIssue[]) {
    super(`invalid study configuration: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    this.name = 'StudyConfigError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(config)';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

const bound = (origin: string, n: unknown, inclusive: boolean | undefined, dir: 'least' | 'most') => {
  const num = Number(n);
  if (origin === 'array') return `must have at ${dir} ${num} item${num === 1 ? '' : 's'}`;
  if (origin === 'string') return num === 1 && dir === 'least' ? 'must not be empty' : `must have at ${dir} ${num} characters`;
  return inclusive === false ? `must be ${dir === 'least' ? 'greater' : 'less'} than ${num}` : `must be at ${dir} ${num}`;
};

/** One readable message per zod issue, naming the field and what was expected. */
function toIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = formatPath(issue.path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'an integer' : issue.expected;
      if (input === undefined) return [{ path, message: `required (expected ${expected})` }];
      return [{ path, message: `expected ${expected}, got ${describe(input)}` }];
    }
    case 'invalid_value':
      return [{ path, message: `expected one of ${issue.values.map(String).join('|')}, got ${describe(input)}` }];
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: formatPath([...issue.path, k]), message: 'unknown field' }));
    case 'too_small':
      return [{ path, message: `${bound(issue.origin, issue.minimum, issue.inclusive, 'least')}, got ${describe(input)}` }];
    case 'too_big':
      return [{ path, message: `${bound(issue.origin, issue.maximum, issue.inclusive, 'most')}, got ${describe(input)}` }];
    default:
      return [{ path, message: input !== undefined && issue.code !== 'custom' ? `${issue.message}, got ${describe(input)}` : issue.message }];
  }
}

export function parseStudyConfig(
  input: unknown,
): { ok: true; config: StudyConfig } | { ok: false; errors: ConfigIssue[] } {
  const r = studyConfigSchema.safeParse(input, { reportInput: true });
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, errors: r.error.issues.flatMap(toIssues) };
}
