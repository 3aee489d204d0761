/**
 * The 11 ILO indicators of forced labour: their one list, their numbers, and how other sources
 * number them. Pure (no file access), so the renderer's indicator picker imports the same list.
 *
 * Numbers are the ILO's everywhere the workbench shows or accepts one: ILO, "ILO Indicators of Forced
 * Labour" (Special Action Programme to Combat Forced Labour, 2012), which lists them in this order.
 * Names are what the workbench stores (study configs, example labels, rationale span labels, metric
 * scopes): a name cannot be read in the wrong numbering.
 *
 * RaFoLa (Mendez Guzman et al. 2022) and the paper built on it (Brandl & Eberle) use another order:
 * alphabetical, as in RaFoLa's definitions.json. RaFoLa's 11-element `labels` vectors and its rationale
 * headers ("05. Excessive overtime") follow that order, and so do the paper's indicator numbers (its
 * code indexes `labels` and definitions.json with them: the paper's indicators 1, 2, 5, 8 are abuse of
 * vulnerability, abusive working and living conditions, excessive overtime, physical and sexual
 * violence). RAFOLA_ORDER maps those positions to names; everything else maps by name.
 */

export const ILO_INDICATORS = [
  'Abuse of vulnerability',
  'Deception',
  'Restriction of movement',
  'Isolation',
  'Physical and sexual violence',
  'Intimidation and threats',
  'Retention of identity documents',
  'Withholding of wages',
  'Debt bondage',
  'Abusive working and living conditions',
  'Excessive overtime',
] as const;

export type IndicatorName = (typeof ILO_INDICATORS)[number];

/**
 * RaFoLa's order (= its definitions.json, alphabetical): position k (0-based) of an article's `labels`
 * vector, and rationale header number k + 1, is RAFOLA_ORDER[k].
 */
export const RAFOLA_ORDER: readonly IndicatorName[] = [
  'Abuse of vulnerability',
  'Abusive working and living conditions',
  'Debt bondage',
  'Deception',
  'Excessive overtime',
  'Intimidation and threats',
  'Isolation',
  'Physical and sexual violence',
  'Restriction of movement',
  'Retention of identity documents',
  'Withholding of wages',
];

/** An indicator with the definition text a study's prompts use; `number` is the ILO's (1..11). */
export interface Indicator {
  number: number;
  /** The indicator's name (an IndicatorName in every definitions the workbench loads). */
  label: string;
  definition: string;
}

/**
 * The definitions a forced-labour study runs with: all 11 indicators in ILO order, their exact text,
 * and where the text came from. A study stores this whole (task.definitions), so its runs, reports and
 * re-runs use the same words even when a built-in file or the user's file changes later.
 */
export interface IndicatorDefinitions {
  /** 'builtin': one of the workbench's own files (by name); 'file': a file the user chose. */
  source: 'builtin' | 'file';
  /** The built-in name, or the chosen file's name (display only: never opened again). */
  name: string;
  /** SHA-256 (hex) of canonicalDefinitionsText(indicators): the same words give the same hash. */
  sha256: string;
  indicators: Indicator[];
}

const fold = (s: string) => s.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
const BY_NAME = new Map<string, IndicatorName>(ILO_INDICATORS.map((n) => [fold(n), n]));

/** The ILO name for a name in any case and spacing; undefined when it is not one of the 11. */
export function indicatorNamed(name: string): IndicatorName | undefined {
  return BY_NAME.get(fold(name));
}

/** The ILO number (1..11) of an indicator name. */
export function iloNumber(name: IndicatorName): number {
  return ILO_INDICATORS.indexOf(name) + 1;
}

/** The indicator with ILO number n (1..11); undefined outside that range. */
export function iloIndicator(n: number): IndicatorName | undefined {
  return Number.isInteger(n) && n >= 1 && n <= 11 ? ILO_INDICATORS[n - 1] : undefined;
}

/** How the workbench shows an indicator: "11. Excessive overtime" (ILO number and name). */
export function indicatorTitle(name: IndicatorName): string {
  return `${iloNumber(name)}. ${name}`;
}

/** "1 Abuse of vulnerability, 2 Deception, ..." for messages that list the choices. */
export const ILO_LIST = ILO_INDICATORS.map((n, i) => `${i + 1} ${n}`).join(', ');

/**
 * The indicator of a rationale span label: a name (what the RaFoLa importer stores), or a two-digit
 * RaFoLa header number ("05") as datasets imported before names were stored carry.
 */
export function spanIndicator(label: string): IndicatorName | undefined {
  if (/^\d{1,2}$/.test(label)) return RAFOLA_ORDER[Number(label) - 1];
  return indicatorNamed(label);
}

/**
 * The text a definitions hash covers: each indicator's name and definition, in ILO order, as JSON.
 * (Not the file's bytes: the same words from a file in another order or layout hash the same.)
 */
export function canonicalDefinitionsText(indicators: readonly { label: string; definition: string }[]): string {
  return JSON.stringify(indicators.map((i) => [i.label, i.definition]));
}

/**
 * A definitions list (RaFoLa's definitions.json format: `[{label, definition}]`, in any order) as the
 * 11 indicators in ILO order, mapped by name. RaFoLa's released file spells the key of three entries
 * ",definition" (a stray comma inside the quotes); that spelling is accepted.
 * Problems are reported all at once, naming `where` and the entry, and never quoting the input:
 * a file's content does not travel in error messages.
 */
export function indicatorsFromList(raw: unknown, where: string): Indicator[] {
  if (!Array.isArray(raw)) throw new Error(`${where}: expected a JSON list of 11 {"label", "definition"} objects (RaFoLa's definitions.json format)`);
  const problems: string[] = [];
  const found = new Map<IndicatorName, { entry: number; definition: string }>();
  raw.forEach((item, i) => {
    const entry = i + 1;
    const o = item && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : null;
    const definition = o ? (o.definition ?? o[',definition']) : undefined;
    if (!o || typeof o.label !== 'string' || typeof definition !== 'string') {
      problems.push(`entry ${entry}: needs string fields "label" and "definition"`);
      return;
    }
    const name = indicatorNamed(o.label);
    if (!name) {
      problems.push(`entry ${entry}: its label (${o.label.length} characters) is not the name of an ILO indicator`);
      return;
    }
    if (!definition.trim()) problems.push(`entry ${entry} (${name}): empty definition`);
    const prev = found.get(name);
    if (prev) problems.push(`entry ${entry}: ${name} is given twice (also entry ${prev.entry})`);
    else found.set(name, { entry, definition });
  });
  const missing = ILO_INDICATORS.filter((n) => !found.has(n));
  if (missing.length) problems.push(`missing ${missing.join(', ')} (all 11 ILO indicators are needed)`);
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
  return ILO_INDICATORS.map((label, i) => ({ number: i + 1, label, definition: found.get(label)!.definition }));
}
