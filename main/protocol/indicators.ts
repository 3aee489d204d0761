import { readFileSync } from 'node:fs';

/** An ILO forced-labour indicator as RaFoLa numbers them (1-based, in definitions.json order). */
export interface Indicator {
  number: number;
  label: string;
  definition: string;
}

/**
 * Read RaFoLa's definitions.json. The released file spells the key of indicators 9-11 as ",definition"
 * (a stray comma inside the quotes); that spelling is accepted, anything else missing is an error.
 */
export function loadIndicators(path: string): Indicator[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read indicator definitions: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new Error(`${path}: expected a JSON list of {label, definition}`);
  return raw.map((item, i) => {
    const o = item as Record<string, unknown>;
    const definition = o.definition ?? o[',definition'];
    if (typeof o.label !== 'string' || typeof definition !== 'string') {
      throw new Error(`${path}: entry ${i + 1}: needs string fields "label" and "definition"`);
    }
    return { number: i + 1, label: o.label, definition };
  });
}
