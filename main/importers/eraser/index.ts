/** ERASER's format (DeYoung et al. 2020): export of a run, import of a dataset. */
export * from './format';
export { toEraser, writeEraser, type EraserExport } from './export';
export { ERASER_SPLITS, importEraser, type EraserImportOptions } from './import';
