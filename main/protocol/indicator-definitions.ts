/**
 * The one loader of forced-labour indicator definitions. Every prompt the workbench builds for a
 * forced-labour indicator (runner, study-form preview, CLI `predict`) takes its definition text from
 * an IndicatorDefinitions made here:
 *   - built-in definitions, by name: `ilo-indicators` (studies/data/ilo-indicators.json, the project's
 *     own wording), compiled in, so no path is involved;
 *   - a file (RaFoLa's definitions.json format), read where the user names it: a study file or
 *     `--definitions` on the command line, or a file handle from the GUI's dialog or upload.
 * The result is stored whole in the study configuration (task.definitions), so what ran is on record.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import iloIndicators from '../../studies/data/ilo-indicators.json';
import { canonicalDefinitionsText, indicatorsFromList, type Indicator, type IndicatorDefinitions } from './indicators';

/** The name of the definitions a forced-labour study uses when it names none. */
export const DEFAULT_DEFINITIONS = 'ilo-indicators';

const BUILTIN: Record<string, unknown> = { 'ilo-indicators': iloIndicators };

/** Built-in definitions names, for messages and the study form. */
export const BUILTIN_DEFINITION_NAMES: readonly string[] = Object.keys(BUILTIN);

/** A definitions file larger than this is refused unread (RaFoLa's is 3 KB). */
export const MAX_DEFINITIONS_BYTES = 1 << 20;

export function definitionsSha256(indicators: readonly { label: string; definition: string }[]): string {
  return createHash('sha256').update(canonicalDefinitionsText(indicators)).digest('hex');
}

/** Definitions from a parsed `[{label, definition}]` list; errors name `where`, never the content. */
export function definitionsFromList(raw: unknown, source: IndicatorDefinitions['source'], name: string, where = name): IndicatorDefinitions {
  const indicators = indicatorsFromList(raw, where);
  return { source, name, sha256: definitionsSha256(indicators), indicators };
}

const builtinCache = new Map<string, IndicatorDefinitions>();

/** Built-in definitions by name; undefined for any other string (a path is never looked up). */
export function builtinDefinitions(name: string): IndicatorDefinitions | undefined {
  if (!Object.prototype.hasOwnProperty.call(BUILTIN, name)) return undefined;
  let d = builtinCache.get(name);
  if (!d) builtinCache.set(name, (d = definitionsFromList(BUILTIN[name], 'builtin', name, `built-in definitions ${name}`)));
  // a copy: callers may not change the cached one
  return { ...d, indicators: d.indicators.map((i) => ({ ...i })) };
}

/**
 * Reads a definitions file the user named (CLI path, or a dialog/upload handle's file). `shownAs` is how
 * errors name it (an upload's own name rather than our private copy's path). Errors say what is wrong
 * and where, never what the file contains (not even a JSON parser's excerpt of it).
 */
export function readDefinitionsFile(path: string, shownAs = path): IndicatorDefinitions {
  let text: string;
  let fd: number | undefined;
  try {
    // non-blocking: a FIFO named by mistake is refused below instead of waiting for a writer
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_DEFINITIONS_BYTES) throw new Error(`${st.size} bytes, more than the ${MAX_DEFINITIONS_BYTES} a definitions file may have`);
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    text = buf.subarray(0, at).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : code === 'EISDIR' ? 'is a directory' : code ? `cannot be read (${code})` : (e as Error).message;
    throw new Error(`indicator definitions ${shownAs}: ${why}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error: not repeated here
    throw new Error(`indicator definitions ${shownAs}: not valid JSON (expected a list of {"label", "definition"} objects, RaFoLa's definitions.json format)`);
  }
  const base = shownAs.split(/[\\/]/).pop() || shownAs;
  return definitionsFromList(raw, 'file', base, `indicator definitions ${shownAs}`);
}

/** The 11 indicators of a definitions file, in ILO order (CLI and tests). */
export function loadIndicators(path: string): Indicator[] {
  return readDefinitionsFile(path).indicators;
}
