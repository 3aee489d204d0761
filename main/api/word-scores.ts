/**
 * Token relevance pooled per word, as the metrics pool it (main/metrics/plausibility.ts): the Inspector's
 * word heatmaps use the same function the scores are computed with, through the API contract.
 */
export { tokenScoresToWordScores, type Span } from '../metrics/plausibility';
