/**
 * ERASER's file formats (DeYoung et al. 2020, github.com/jayded/eraserbenchmark, rationale_benchmark/utils.py
 * and metrics.py), as written and read here.
 *
 * A dataset is a directory: `docs.jsonl` ({docid, document}: sentences separated by "\n", tokens by " ")
 * or a `docs/` folder of such files named by docid, and annotation files `train.jsonl`, `val.jsonl`,
 * `test.jsonl`, one Annotation a line. Token indices count the document's tokens over all sentences;
 * an Evidence's start_token is inclusive, end_token exclusive. A prediction file holds one
 * EraserPrediction a line (what ERASER's metrics.py scores).
 *
 * ERASER's tokens are the document's whitespace-separated tokens: here, an example's words.
 */

export interface EraserEvidence {
  text: string;
  docid: string;
  start_token: number;
  end_token: number;
  start_sentence: number;
  end_sentence: number;
}

export interface EraserAnnotation {
  annotation_id: string;
  query: string;
  /** Evidence groups: each group is sufficient on its own; here every contiguous human span is a group. */
  evidences: EraserEvidence[][];
  classification: string;
  query_type: string | null;
  docids: string[] | null;
}

export interface EraserDoc {
  docid: string;
  document: string;
}

export interface EraserRationale {
  docid: string;
  hard_rationale_predictions: { start_token: number; end_token: number }[];
  soft_rationale_predictions?: number[];
}

export interface EraserThresholdedScore {
  threshold: number;
  comprehensiveness_classification_scores: Record<string, number>;
  sufficiency_classification_scores: Record<string, number>;
}

export interface EraserPrediction {
  annotation_id: string;
  rationales: EraserRationale[];
  classification: string;
  classification_scores: Record<string, number>;
  comprehensiveness_classification_scores?: Record<string, number>;
  sufficiency_classification_scores?: Record<string, number>;
  thresholded_scores?: EraserThresholdedScore[];
}

/** Contiguous runs of 1 in a 0/1 mask, as [start, end) token ranges. */
export function maskRuns(mask: readonly number[]): { start_token: number; end_token: number }[] {
  const out: { start_token: number; end_token: number }[] = [];
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 1) continue;
    let j = i;
    while (j + 1 < mask.length && mask[j + 1] === 1) j++;
    out.push({ start_token: i, end_token: j + 1 });
    i = j;
  }
  return out;
}

/**
 * A document as ERASER writes it: the words joined by single spaces, a line break wherever the original
 * text had one between two words (ERASER's sentences).
 */
export function documentOf(text: string, words: readonly { text: string; start: number; end: number }[]): string {
  let out = '';
  words.forEach((w, i) => {
    if (i > 0) out += text.slice(words[i - 1].end, w.start).includes('\n') ? '\n' : ' ';
    out += w.text;
  });
  return out;
}

/**
 * ERASER's tokens of a document with their character offsets in it and their sentence (line) index:
 * each line stripped of surrounding whitespace and split on single spaces. From docs.jsonl ERASER keeps
 * empty tokens (two spaces in a row, an empty line): they are returned with start === end so the caller
 * can refuse the document; from a docs/ folder ERASER drops empty lines and empty tokens (`dropEmpty`).
 */
export function documentTokens(document: string, dropEmpty = false): { text: string; start: number; end: number; sentence: number }[] {
  const out: { text: string; start: number; end: number; sentence: number }[] = [];
  let offset = 0;
  let sentence = 0;
  for (const line of document.split('\n')) {
    const lead = line.length - line.trimStart().length;
    const body = line.trim();
    if (!(dropEmpty && body.length === 0)) {
      let i = offset + lead;
      for (const tok of body.split(' ')) {
        if (!(dropEmpty && tok.length === 0)) out.push({ text: tok, start: i, end: i + tok.length, sentence });
        i += tok.length + 1;
      }
      sentence++;
    }
    offset += line.length + 1;
  }
  return out;
}
