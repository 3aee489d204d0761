import type { LlamaModel, Token } from 'node-llama-cpp';

/**
 * A token with its character span (UTF-16 offsets, end-exclusive) in the string the tokens decode to.
 *
 * `start`/`end` cover every character the token holds bytes of. A byte-fallback token (one UTF-8 byte of
 * "ø", "å", "ò", an emoji ...) spans the whole character it helps encode, so the tokens of one character
 * share its span and belong to its word together: a mask can never hold half a character. `text` is the
 * token's own share of the decoded string (the characters it completes; "" for a byte that does not
 * complete one), so the `text`s of consecutive tokens concatenate to the decoded string exactly.
 */
export interface TokenCharSpan {
  id: number;
  /** The characters this token completes: for whole-character tokens `full.slice(start, end)`. */
  text: string;
  start: number;
  end: number;
}

type Detokenizer = Pick<LlamaModel, 'detokenize'>;

/** UTF-16 length of the code point at `i` (1 or 2), 0 at the end. */
const cpLength = (s: string, i: number): number => (i >= s.length ? 0 : String.fromCodePoint(s.codePointAt(i)!).length);

/**
 * Character spans of `tokens` in `detokenize(tokens)`. llama.cpp has no offsets API, so the end offset of
 * token i is the length of the decoded prefix tokens[0..i]. A prefix that ends inside a multi-byte
 * character decodes to U+FFFD and is not a prefix of the full string: the token then holds bytes of the
 * character that starts where the real prefix ends, and its span reaches that character's end; the next
 * token starts at that character too (it holds the remaining bytes), since its own text starts there.
 *
 * Decoding prefixes is quadratic in the token count but native and cheap (a 500-token prompt decodes in
 * well under 50 ms); it is done once per prompt.
 */
export function tokenCharSpans(
  model: Detokenizer,
  tokens: readonly Token[],
  specialTokens = true,
): { full: string; spans: TokenCharSpan[] } {
  const full = model.detokenize(tokens, specialTokens);
  const spans: TokenCharSpan[] = [];
  // prev: where the previous token's own text ended (the start of an unfinished character, if it left one)
  let prev = 0;
  for (let i = 0; i < tokens.length; i++) {
    const decoded = i === tokens.length - 1 ? full : model.detokenize(tokens.slice(0, i + 1), specialTokens);
    let end = prev;
    let partial = false;
    if (decoded.length >= prev && full.startsWith(decoded)) end = decoded.length;
    else if (/\uFFFD$/u.test(decoded)) {
      // Incomplete character at the end: keep what is a real prefix (drop trailing replacement chars).
      const trimmed = decoded.replace(/\uFFFD+$/u, '');
      if (trimmed.length >= prev && full.startsWith(trimmed)) {
        end = trimmed.length;
        partial = cpLength(full, end) > 0;
      }
    }
    const start = prev;
    spans.push({ id: tokens[i] as number, text: full.slice(start, end), start, end: partial ? end + cpLength(full, end) : end });
    prev = end;
  }
  return { full, spans };
}

/**
 * Tokenize `text` alone (no BOS, no special-token parsing) and give each token its span in `text`.
 * Throws when the tokenizer does not round-trip the text, since offsets would then be meaningless.
 */
export function textTokenSpans(model: LlamaModel, text: string): TokenCharSpan[] {
  const tokens = model.tokenize(text, false);
  const { full, spans } = tokenCharSpans(model, tokens, false);
  if (full !== text) {
    throw new Error(`tokenizer does not round-trip the text: ${JSON.stringify(text.slice(0, 60))} decodes to ${JSON.stringify(full.slice(0, 60))}`);
  }
  return spans;
}
