/**
 * The token budget of turn 2 (the self-explanation), derived from k.
 *
 * Every token the model can emit under a grammar decodes to at least one byte (end-of-generation ends the
 * turn and control tokens are not admitted by a grammar), so a grammar whose every complete output has at
 * most B bytes always completes within B new tokens. For the extractive grammars (explain.ts) B is known
 * exactly: a fixed frame per item plus the longest admissible item, times k, plus the list's frame. That is
 * the budget; generation then ends on its own before it, and a budget-limited output cannot exist unless a
 * caller asks for less (SelfExplanationOptions.maxNewTokens), in which case the output is recorded as 'truncated'
 * with the budget in its reason, never parsed into items.
 *
 * The JSON-schema (free-text) grammar admits escapes and free whitespace, so it has no such bound; there the
 * budget counts one token per character of each item (maxItemChars, the schema's maxLength) plus a frame per
 * item, and an output that reaches it is likewise 'truncated'.
 */
import type { SelfExplanationShape } from './self-explanation';

/** Bytes of the paper-list item frame `{ "rationales": "` + `" }`, each optional space (one byte) counted. */
const PAPER_ITEM_FRAME = 20;
/** Bytes of an 'object' item frame: the two quotes. */
const OBJECT_ITEM_FRAME = 2;
/** Between items: "," and an optional space. */
const ITEM_SEPARATOR = 2;
/** "[" ws ... ws "]". */
const LIST_FRAME = 4;
/** 'object' shape: `{ "rationales": ` + ` }` around the list. */
const OBJECT_FRAME = 18;
/** JSON-schema items: frame tokens per item (the schema grammar's whitespace is free, so this is a margin). */
const FREE_ITEM_FRAME = 24;
const FREE_LIST_FRAME = 16;

/** Bytes of `s` as it appears inside a JSON string (escapes included), UTF-8 encoded. */
export function jsonStringBytes(s: string): number {
  return Buffer.byteLength(JSON.stringify(s), 'utf8') - 2;
}

/**
 * Longest output, in bytes, of the extractive grammar with at most `maxItems` items whose longest
 * admissible item is `maxItemBytes` bytes (JSON-escaped). A tight bound: the grammar can reach it.
 */
export function extractiveMaxBytes(shape: SelfExplanationShape, maxItems: number, maxItemBytes: number): number {
  const items = maxItems * ((shape === 'paper-list' ? PAPER_ITEM_FRAME : OBJECT_ITEM_FRAME) + maxItemBytes) + (maxItems - 1) * ITEM_SEPARATOR;
  return LIST_FRAME + items + (shape === 'object' ? OBJECT_FRAME : 0);
}

/** Budget of the JSON-schema (free) grammar: one token per character of each item plus a frame per item. */
export function freeBudget(maxItems: number, maxItemChars: number): number {
  return FREE_LIST_FRAME + maxItems * (maxItemChars + FREE_ITEM_FRAME);
}
