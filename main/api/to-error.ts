import { ApiError, type ApiErrorData } from './errors';

/** Any thrown value as transportable error data; engine errors keep their own message (file, row, field). */
export function toErrorData(e: unknown): ApiErrorData {
  if (e instanceof ApiError) return e.toData();
  if (e && typeof e === 'object' && 'code' in e && 'message' in e && typeof (e as ApiErrorData).code === 'string' &&
      ['invalid', 'not_found', 'failed', 'unavailable', 'conflict'].includes((e as ApiErrorData).code)) {
    const d = e as ApiErrorData;
    return d.fields ? { code: d.code, message: d.message, fields: d.fields } : { code: d.code, message: d.message };
  }
  if (e instanceof Error) {
    // Importer and config errors describe bad input; everything else is an engine failure.
    const invalid = ['DatasetError', 'StudyConfigError', 'StoreError', 'GgufError', 'XlsxError', 'CsvSyntaxError', 'ModelRefusedError', 'BuiltinError'].includes(e.name);
    return { code: invalid ? 'invalid' : 'failed', message: e.message };
  }
  return { code: 'failed', message: String(e) };
}
