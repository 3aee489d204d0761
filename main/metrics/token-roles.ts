/**
 * The special-token mask: what each prompt token is, finer than the prompt segment the runner stores
 * (store TokenInfo.segment: text, instruction, options, template, answer), so a report can say how much
 * relevance lands on BOS and the chat format rather than on the text (the study's final version: "BOS and
 * chat-format tokens absorb post-hoc relevance").
 *
 * Roles, from the stored tokens alone (runs made here and imported ones alike):
 *   - bos: the first token, when it is template and is a beginning-of-sequence token (BOS_TEXTS);
 *   - chat-format: every other template token (role markers, [INST], <|start_header_id|>, ...);
 *   - option-letter: the options' letters with their brackets, "(a)" or "a)" at a line start;
 *   - option-label: the rest of the options ("This review is overall rather positive");
 *   - instruction, text, answer: as their segment.
 */
export const TOKEN_ROLES = ['bos', 'chat-format', 'instruction', 'option-letter', 'option-label', 'text', 'answer'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** How BOS tokens read: Llama 2 / Mistral, Llama 3, Gemma, GPT-style. */
export const BOS_TEXTS: readonly string[] = ['<s>', '<|begin_of_text|>', '<bos>', '<|startoftext|>', '<|endoftext|>'];

/** "(a)", "( b )", or "a)" at a line start: an option's letter or number. */
const LETTER = /\(\s*[A-Za-z0-9]\s*\)|^[ \t]*[A-Za-z0-9]\)/gm;

export function tokenRoles(tokens: readonly { text: string; segment: string }[]): TokenRole[] {
  const roles = tokens.map((t, i): TokenRole => {
    if (t.segment === 'template') return i === 0 && BOS_TEXTS.includes(t.text) ? 'bos' : 'chat-format';
    if (t.segment === 'options') return 'option-label';
    if (t.segment === 'text' || t.segment === 'instruction' || t.segment === 'answer') return t.segment;
    return 'chat-format';
  });
  // option letters: within each run of consecutive option tokens, the tokens that cover a letter pattern
  for (let i = 0; i < tokens.length; ) {
    if (tokens[i].segment !== 'options') {
      i++;
      continue;
    }
    let j = i;
    const starts: number[] = [];
    let joined = '';
    for (; j < tokens.length && tokens[j].segment === 'options'; j++) {
      starts.push(joined.length);
      joined += tokens[j].text;
    }
    for (const m of joined.matchAll(LETTER)) {
      const a = m.index! + (m[0].length - m[0].trimStart().length);
      const b = m.index! + m[0].length;
      for (let k = i; k < j; k++) {
        const s = starts[k - i];
        const e = s + tokens[k].text.length;
        // a token covering only spaces or the newline before the letter stays a label token
        if (s < b && e > a && tokens[k].text.trim() !== '') roles[k] = 'option-letter';
      }
    }
    i = j;
  }
  return roles;
}

/**
 * The structural roles: every prompt token that is neither the text nor the answer (BOS, chat format, the
 * instruction, the options' letters and labels). A study's `binarisation.includeStructural` lets top-k, top-p
 * and one-over-n select among these beside the text's tokens (metrics/levels.ts); the default, as the study's
 * authors do, selects among the text's tokens only.
 */
export const STRUCTURAL_ROLES: readonly TokenRole[] = ['bos', 'chat-format', 'instruction', 'option-letter', 'option-label'];

/** The prompt positions of the structural tokens (STRUCTURAL_ROLES), ascending. */
export function structuralPositions(tokens: readonly { text: string; segment: string }[]): number[] {
  return tokenRoles(tokens).flatMap((r, i) => (STRUCTURAL_ROLES.includes(r) ? [i] : []));
}
