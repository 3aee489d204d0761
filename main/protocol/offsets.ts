import type { LlamaModel, Token } from 'node-llama-cpp';

/** A token with its character span (UTF-16 offsets, end-exclusive) in the string the tokens decode to. */
export interface TokenCharSpan {
  id: number;
  /** The token's own decoded text as it appears in the full string: `full.slice(start, end)`. */
  text: string;
  start: number;
  end: number;
}

type Detokenizer = Pick<LlamaModel, 'detokenize'>;

/**
 * Character spans of `tokens` in `detokenize(tokens)`. llama.cpp has no offsets API, so the end offset of
 * token i is the length of the decoded prefix tokens[0..i]. A prefix that ends inside a multi-byte character
 * decodes to U+FFFD and is not a prefix of the full string: such a byte-fallback token gets an empty span
 * and the token that completes the character takes all of it.
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
  let prev = 0;
  for (let i = 0; i < tokens.length; i++) {
    const decoded = i === tokens.length - 1 ? full : model.detokenize(tokens.slice(0, i + 1), specialTokens);
    let end = prev;
    if (decoded.length >= prev && full.startsWith(decoded)) end = decoded.length;
    else {
      // Incomplete character at the end: keep what is a real prefix (drop trailing replacement chars).
      const trimmed = decoded.replace(/\uFFFD+$/u, '');
      if (trimmed.length > prev && full.startsWith(trimmed)) end = trimmed.length;
    }
    spans.push({ id: tokens[i] as number, text: full.slice(prev, end), start: prev, end });
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
