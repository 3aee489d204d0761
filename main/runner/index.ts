/**
 * The study runner's public face: what the API, the CLI, reports and benchmarks use. Everything else in
 * runner/ (the per-example pipeline, the resumable loop, progress lines) is the runner's own business.
 */
export { runStudies, builtinDatasetId, modelPathFor, indicatorDefinitionsFor, withDefinitions, type StudyRunOptions, type StudyRunReport, type PhaseTimings, type ModelRuns, type ModelRunsExecutor } from './study';
export { openModelSession, processorFor, type ModelSession } from './model-session';
export { finalizeRun } from './finalize';
export { ensureDemoModel, demoModelDir, DEMO_MODEL_OPTIONS } from './demo-model';
export { RunLeaseLostError, type LoopOutcome } from './loop';
