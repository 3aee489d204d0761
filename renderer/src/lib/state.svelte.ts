import { noFilter, parseFilterChoice, type FilterChoice } from './filters';

/** App-wide selection shared by the screens (which run the inspector shows, which screen is open). */
export const SCREENS = [
  { id: 'datasets', label: 'Datasets' },
  { id: 'models', label: 'Models' },
  { id: 'study', label: 'Study' },
  { id: 'runs', label: 'Run monitor' },
  { id: 'results', label: 'Results' },
  { id: 'inspector', label: 'Inspector' },
  { id: 'export', label: 'Export' },
] as const;

/** Screens reached from the header's buttons rather than the tabs (issue 12: first run, help, settings). */
export const EXTRA_SCREENS = [
  { id: 'welcome', label: 'Welcome' },
  { id: 'glossary', label: 'Glossary' },
  { id: 'settings', label: 'Settings' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'] | (typeof EXTRA_SCREENS)[number]['id'];

/**
 * What the Results screen shows: one study (all its runs, models and seeds), one run, or every run.
 * Not a filter of examples (filters.ts): it chooses runs. `studyId` is used when `f.run` is ''.
 */
export interface ResultsChoice {
  studyId: number | null;
  /** The user asked for every run at once (the long page). */
  all: boolean;
  /**
   * The app's current run when Results last showed: another screen that moves to another run (the Run
   * monitor's "Results") makes Results open that run's study instead of the one chosen before.
   */
  seenRunId?: number | null;
}

/**
 * The chosen run and the Results filters outlive a reload of the page (browser mode) the way the
 * access token does: in this tab's session storage. The screen itself starts afresh, as before.
 */
const STORAGE_KEY = 'workbench-selection';

function restore(): { runId: number | null; filter: FilterChoice } {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as { runId?: unknown; filter?: unknown } | null;
    const runId = typeof saved?.runId === 'number' && Number.isSafeInteger(saved.runId) && saved.runId > 0 ? saved.runId : null;
    return { runId, filter: parseFilterChoice(saved?.filter) ?? noFilter() };
  } catch {
    return { runId: null, filter: noFilter() };
  }
}

const saved = restore();

export const ui = $state({
  screen: 'datasets' as ScreenId,
  runId: saved.runId,
  exampleId: null as number | null,
  /** The Results screen's filters; the Inspector shows only the examples they choose. */
  filter: saved.filter,
  /** The Results screen's study choice (when no single run is chosen); see ResultsChoice. */
  results: { studyId: null, all: false } as ResultsChoice,
});

$effect.root(() => {
  $effect(() => {
    const snapshot = JSON.stringify({ runId: ui.runId, filter: { ...ui.filter } });
    try {
      sessionStorage.setItem(STORAGE_KEY, snapshot);
    } catch {
      // Storage refused (private mode, quota): the selection then lasts until the page reloads.
    }
  });
});

export function go(screen: ScreenId) {
  ui.screen = screen;
}
