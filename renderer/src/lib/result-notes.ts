import type { PlainResult } from '../../../main/api/catalogue';

/**
 * What the Inspector says about one stored result besides its heatmaps: whether the answer was invalid,
 * and how its self-explanation was matched to the text. Read from the fields the runner and the importers
 * store (main/runner/example.ts, main/importers/*): `label` 'invalid' with skip reason 'invalid-answer',
 * `rawOutputs.reason`, `rawOutputs.paperConvention`, `selfExplanation`, `alignment`, `rawOutputs.matchNote`.
 */

/** An answer that names none of the task's options: never correct, its self-explanation not scored. */
export const isInvalid = (r: Pick<PlainResult, 'label' | 'skippedReason'>): boolean => r.label === 'invalid' || r.skippedReason === 'invalid-answer';

export const INVALID_NOTE = 'invalid answer — not scored for plausibility';

/**
 * The results the Inspector pages through: every evaluated one, and the invalid answers (they were
 * answered, and a user must be able to see why they count as wrong). Other skips (context overflow,
 * wrong answer under "correct only", ...) have nothing to inspect and are counted instead.
 */
export const shownInInspector = (r: Pick<PlainResult, 'label' | 'skippedReason'>): boolean => !r.skippedReason || isInvalid(r);

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Why the answer is invalid (the parser's reason), and how the paper's own convention read it, when stored. */
export function invalidDetails(r: PlainResult): { reason: string | null; paperConvention: string | null } {
  return { reason: str(r.rawOutputs?.reason), paperConvention: str(r.rawOutputs?.paperConvention) };
}

export interface SelfExplanationView {
  items: string[];
  /** Items found nowhere in the text (kept, not in the mask). */
  unmatched: string[];
  /** Items matched only with accents ignored (the robust rule's fallback). */
  accentFolded: string[];
  /** The accent-folding note (protocol/align.ts accentFoldNote), when an item matched only with accents ignored. */
  matchNote: string | null;
  /** The matching rule ('robust' or 'paper'), when the alignment is stored. */
  rule: string | null;
}

/** The self-explanation as stored, or null when the result has none. */
export function selfExplanationView(r: PlainResult): SelfExplanationView | null {
  const items = strings(r.selfExplanation);
  const al = (r.alignment && typeof r.alignment === 'object' ? r.alignment : {}) as Record<string, unknown>;
  const matchNote = str(r.rawOutputs?.matchNote);
  if (r.selfExplanation === null && !matchNote) return null;
  return { items, unmatched: strings(al.unmatched), accentFolded: strings(al.accentFolded), matchNote, rule: str(al.rule) };
}

/**
 * Why an example was not evaluated, in words, from the skip reason the runner or an importer stored
 * (main/runner/example.ts, main/importers/*) and what it kept with it (rawOutputs).
 */
export function skipReasonText(r: Pick<PlainResult, 'skippedReason' | 'rawOutputs'>): string | null {
  const why = r.skippedReason;
  if (!why) return null;
  const raw = r.rawOutputs ?? {};
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  switch (why) {
    case 'context-overflow': {
      const tokens = n(raw.promptTokens);
      const limit = n(raw.limit);
      if (tokens !== null && limit !== null) return `context overflow: the prompt has ${tokens} tokens, more than the study's context limit of ${limit}; the example was not run`;
      return `context overflow: the prompt does not fit the model's context${str(raw.reason) ? ` (${str(raw.reason)})` : ''}`;
    }
    case 'invalid-answer':
      return `invalid answer: the model's answer names none of the task's options${str(raw.reason) ? ` (${str(raw.reason)})` : ''}; counted wrong, not scored for plausibility`;
    case 'excluded-label':
      return "label left out: the study's label mapping leaves this example's gold label out; it was not run";
    case 'wrong-answer':
      return 'wrong answer: the study explains correct answers only, so no explanation was asked for';
    case 'empty-human-rationale':
      return 'no human rationale: the self-explanation asks for as many words as the human rationale has, here none';
    case 'unparsable-self-explanation':
      return `the self-explanation could not be read as a list of words${str(raw.turn2Error) ? ` (${str(raw.turn2Error)})` : ''}`;
    case 'unmatched-self-explanation':
      return "none of the self-explanation's words were found in the text";
    case 'not-explained':
      return 'not explained: the imported run has no self-explanation for this example';
    case 'not-scored':
      return 'not scored: the imported run has no human rationale for this example';
    default:
      // a code (e.g. an importer's "not-run") in words; a sentence (an importer's own reason) as it is
      return /^[a-z]+(-[a-z]+)*$/.test(why) ? why.replace(/-/g, ' ') : why;
  }
}

/** What the model said, turn by turn, as stored with the result (empty when it was never asked). */
export function modelSaid(r: Pick<PlainResult, 'rawOutputs'>): { turn: string; text: string }[] {
  const raw = r.rawOutputs ?? {};
  const out: { turn: string; text: string }[] = [];
  if (typeof raw.turn1 === 'string') out.push({ turn: 'Answer', text: raw.turn1 });
  if (typeof raw.turn2 === 'string') out.push({ turn: 'Self-explanation', text: raw.turn2 });
  return out;
}
