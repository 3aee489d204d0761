/**
 * The one rule for the names people give datasets, models, studies and runs (rename, import, save): trimmed,
 * 1 to NAME_MAX characters, no control characters (a name is shown in one line of a list and in reports).
 * The API's schemas refuse a bad name with this message at the boundary; the store checks it again.
 */
export const NAME_MAX = 200;

/** What is wrong with `name` (after trimming), or null when it is a good name. */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'must be a string';
  const t = name.trim();
  if (t === '') return 'must not be empty';
  if (t.length > NAME_MAX) return `must be at most ${NAME_MAX} characters, got ${t.length}`;
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f]/.exec(t);
  if (bad) return `must not contain control characters (found U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at ${bad.index + 1})`;
  return null;
}
