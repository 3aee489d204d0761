import { DatasetError } from './types';

/**
 * Every problem of a dataset file at once: the importers note each row's problems and go on, and refuse the
 * file at the end (store nothing) with all of them, so the user fixes the file in one go instead of one
 * problem per try. A problem that makes the rest unreadable (a header without its columns, a CSV quote never
 * closed) ends the reading there, with the problems found before it.
 */

/** Problems named in a refusal (the rest are counted: "and N more"). */
export const PROBLEM_CAP = 50;

/** One problem of a file: where (row, field) and what. */
export interface DatasetProblem {
  row?: number;
  field?: string;
  detail: string;
}

/** Where a problem is in the file, as the message names it: "row 3, field "label"". */
export function problemPlace(p: DatasetProblem): string {
  return `${p.row !== undefined ? `row ${p.row}` : ''}${p.field !== undefined ? `${p.row !== undefined ? ', ' : ''}field "${p.field}"` : ''}`;
}

/** A problem as one line without the file name ("row 3, field "label": is empty"). */
export function problemText(p: DatasetProblem): string {
  const place = problemPlace(p);
  return place ? `${place}: ${p.detail}` : p.detail;
}

/**
 * A file refused for one or more problems. With one problem it is exactly that problem's DatasetError (same
 * message, row and field); with more, the message lists the first PROBLEM_CAP and counts the rest.
 */
export class DatasetProblems extends DatasetError {
  constructor(
    file: string,
    /** The first PROBLEM_CAP problems, in file order. */
    readonly problems: DatasetProblem[],
    /** All problems found, listed or not. */
    readonly total: number,
  ) {
    if (total === 1) super(file, problems[0].detail, problems[0].row, problems[0].field);
    else {
      const more = total - problems.length;
      super(file, `${total} problems: ${problems.map(problemText).join('; ')}${more > 0 ? `; and ${more} more` : ''}`);
    }
  }
}

/** The problems of one file as they are found. */
export class ProblemList {
  readonly listed: DatasetProblem[] = [];
  count = 0;
  constructor(readonly file: string) {}

  add(detail: string, row?: number, field?: string): void {
    this.count++;
    if (this.listed.length < PROBLEM_CAP) this.listed.push({ detail, ...(row !== undefined ? { row } : {}), ...(field !== undefined ? { field } : {}) });
  }

  /** A problem after which nothing more can be read: refuses the file now, with the problems found so far. */
  fatal(detail: string, row?: number, field?: string): never {
    this.add(detail, row, field);
    throw this.error();
  }

  error(): DatasetProblems {
    return new DatasetProblems(this.file, this.listed, this.count);
  }

  /** Refuses the file if any problem was found. */
  throwIfAny(): void {
    if (this.count > 0) throw this.error();
  }
}
