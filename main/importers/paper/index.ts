/** Adapter for the published study's per-example files (Brandl & Eberle, arXiv 2410.03296). */
export { readPaperFile, listPaperRunFiles, PaperFormatError, type PaperRecord, type PaperPerturbation, type WordPiece } from './read';
export { evaluateWordLevel, type MatchingRule, type WordLevelSummary, type ExampleEvaluation, type PlausibilityFigures } from './evaluate';
export { parseAnswer, paperNormalizeResponse, type ParsedAnswer, type SstLabel } from './answer';
// the paper's matching rule lives with the workbench's in main/protocol (one matching module)
export { paperNormalize, paperOverlapMask, paperGoldPhrases, paperAlignToRawWords, PaperRuleError } from '../../protocol/align-paper';
export { paperItems, robustItems, paperFixSyntax, type PaperState, type PaperItemsResult, type RobustItems } from './selfexplanation';
export {
  parsePythonLiteral,
  parsePythonJson,
  toPlain,
  PyDict,
  PyTuple,
  PyLiteralError,
  type PyValue,
  type PyKey,
  type PyLiteralOptions,
} from './pyliteral';
export {
  importPaperRun,
  importPaperRunWithTokens,
  paperRunFile,
  paperRunNames,
  conventionNotes,
  type PaperImportOptions,
  type PaperImportResult,
  type PaperTokenOptions,
} from './run';
export {
  decodePaperTokens,
  decodePaperRunTokens,
  paperTokenizerCandidates,
  resolveTokenizerArg,
  idOnlyTokens,
  PAPER_VOCAB_DIR,
  PAPER_VOCAB_NAMES,
  type PaperTokenDecoding,
  type TokenDecode,
  type TokenizerCandidate,
} from './tokens';
