/**
 * Errors that cross the API boundary. They travel as plain data (IPC and HTTP both lose class
 * identity), so every transport wraps results in an `Envelope`.
 */
export type ApiErrorCode = 'invalid' | 'not_found' | 'failed' | 'unavailable' | 'conflict';

export interface ApiErrorData {
  code: ApiErrorCode;
  message: string;
  /** Messages per input field (dotted path, e.g. "models.0.path"), for showing next to the field. */
  fields?: Record<string, string>;
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  toData(): ApiErrorData {
    return this.fields ? { code: this.code, message: this.message, fields: this.fields } : { code: this.code, message: this.message };
  }
}

export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ApiErrorData };
