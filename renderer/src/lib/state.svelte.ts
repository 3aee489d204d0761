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

export type ScreenId = (typeof SCREENS)[number]['id'];

export const ui = $state({
  screen: 'datasets' as ScreenId,
  runId: null as number | null,
  exampleId: null as number | null,
});

export function go(screen: ScreenId) {
  ui.screen = screen;
}
