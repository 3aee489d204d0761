/** The study protocol: one interface for the runner, the CLI and the GUI. */
export { accentFoldNote, alignItems, alignSelfExplanation, splitItems, spansToMask, type AlignedSpan, type Alignment, type MatchingRule, type Occurrences } from './align';
export { paperAlignItems } from './align-paper';
export { rationaleMasks, tokenMaskOfWords, type RationaleMasks } from './rationale-mask';
export { chatTemplateOf, renderChat, thinkingOf, textTokens, type ChatTurn, type PromptToken, type RenderedChat } from './chat';
export { classify, type AnswerToken, type ClassifyMode, type ClassifyOptions, type ClassifyResult, type ProtocolRuntime } from './classify';
export { selfExplain, selfExplanationTurns, extractiveGrammar, extractJson, itemsOf, type SelfExplanationOptions, type SelfExplanation, type SelfExplanationShape } from './self-explanation';
export { fold } from './fold';
export { type Indicator, type IndicatorDefinitions, type IndicatorName } from './indicators';
export { loadIndicators } from './indicator-definitions';
export { defaultSampling, generate, nextTokenDistribution, PAPER_SEEDS, reusePrefix, type SamplingOptions } from './infer';
export { fillerToken, maskedAnswerProb, maskedAnswerProbFull, parsePositionsKey, positionsKey, type Filler } from './mask';
export { tokenCharSpans, textTokenSpans, type TokenCharSpan } from './offsets';
export { parseAnswer, type AnswerEvidence, type ParsedAnswer } from './parse';
export { buildTaskPrompt, placeholderProblem, TASK_PLACEHOLDERS, templatePlaceholders, templateTurn1, templateTurn2, TURN1_PLACEHOLDERS, TURN2_PLACEHOLDERS, type PromptTemplates, type AnswerOption, type Language, type PromptPiece, type Segment, type TaskPrompt, type TaskSpec } from './prompts';
export { humanK, runExample, type ExampleInput, type ExampleResult, type OutputToken, type ProtocolOptions } from './run';
export { promptFor, taskFor } from './task';
