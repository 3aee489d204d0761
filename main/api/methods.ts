/**
 * The names of the workbench's operations, one per method of `WorkbenchApi`.
 * Kept free of imports so the sandboxed preload and the renderer can bundle it without zod;
 * catalogue.ts checks at compile time that this list and the request schemas agree.
 */
export const METHOD_NAMES = [
  'appInfo',
  'listDatasets',
  'importDataset',
  'deleteDataset',
  'listExamples',
  'getExample',
  'listModels',
  'inspectModel',
  'registerModel',
  'downloadModel',
  'cancelDownload',
  // model catalogue downloads
  'listCatalogue',
  'pauseDownload',
  'discardDownload',
  'listStudies',
  'getStudy',
  'builtinStudies',
  'validateStudyConfig',
  'saveStudy',
  'previewPrompt',
  'listRuns',
  'getRun',
  'startRun',
  'pauseRun',
  'resumeRun',
  'cancelRun',
  'listResults',
  'getResult',
  'listMetrics',
  'queryMetrics',
  'exportRun',
  // Models: chat templates for template-less GGUFs, hardware and GPU offload (issue 12 items 1, 11)
  'templateFamilies',
  'previewModelTemplate',
  'setModelTemplate',
  'hardwareInfo',
  // housekeeping (issue 12 item 6): rename, and delete with the consequences first (deletion.ts)
  'renameDataset',
  'renameModel',
  'renameStudy',
  'renameRun',
  'deleteModel',
  'deleteStudy',
  'deleteRun',
  // welcome, settings (issue 12 items 9 and 13)
  'firstRunStatus',
  'demoReport',
  'getSettings',
  'saveSettings',
  // import form and study fit (issue 12, items 3 and 5)
  'previewDataset',
  'checkStudyFit',
  // issue 15: workers (studies on queue workers; startRun / resumeRun take a queue address)
  'listQueueRuns',
] as const;

export type MethodName = (typeof METHOD_NAMES)[number];

/** Events pushed from the engine to every window / browser tab. */
export const EVENT_CHANNEL = 'workbench:event';
/** The single IPC channel for calls; the method name travels as the first argument. */
export const CALL_CHANNEL = 'workbench:call';
/** IPC channels for the file dialogs (Electron only; browser mode uploads instead). */
export const PICK_FILE_CHANNEL = 'workbench:pick-file';
export const SAVE_FILE_CHANNEL = 'workbench:save-file';
