import { CsvSyntaxError, parseCsv } from './csv';
import { decodeUtf8, readSource } from './source';
import { DatasetError, type ParsedExample } from './types';

/**
 * A separate gold-label file: CSV with a header holding `id` and `label` columns (other columns
 * ignored), one row per example. IDs are compared after normalising numbers written as "12.0"
 * to "12", so a file with "12" matches mSST's ID cell 12.0.
 *
 * Applying it is strict, because a silently unlabelled or mislabelled example would bias every
 * metric: every example must get exactly one label, and every ID in the file must name an example.
 */
export function readLabelsFile(file: string): { file: string; labels: Map<string, { label: string; row: number }> } {
  const src = readSource(file);
  const text = decodeUtf8(src.bytes, file);
  let records;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new DatasetError(file, e.message, e.line);
    throw e;
  }
  if (records.length === 0) throw new DatasetError(file, 'the file is empty');
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const idCol = header.indexOf('id');
  const labelCol = header.indexOf('label');
  if (idCol < 0 || labelCol < 0) {
    throw new DatasetError(file, `missing column "${idCol < 0 ? 'id' : 'label'}" (a labels file needs a header "id,label")`, records[0].line);
  }
  const labels = new Map<string, { label: string; row: number }>();
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.length) throw new DatasetError(file, `has ${r.fields.length} fields but the header has ${header.length}`, r.line);
    const id = normaliseId(r.fields[idCol]);
    const label = r.fields[labelCol];
    if (id === '') throw new DatasetError(file, 'is empty', r.line, 'id');
    if (label.trim() === '') throw new DatasetError(file, 'is empty', r.line, 'label');
    const prev = labels.get(id);
    if (prev) throw new DatasetError(file, `duplicate id "${id}" (also on row ${prev.row})`, r.line, 'id');
    labels.set(id, { label, row: r.line });
  }
  if (labels.size === 0) throw new DatasetError(file, 'the file has a header but no rows');
  return { file, labels };
}

/** "12.0" -> "12"; other IDs unchanged (apart from surrounding spaces). */
export function normaliseId(id: string): string {
  const s = id.trim();
  return /^-?\d+\.0*$/.test(s) ? String(Number(s)) : s;
}

export function applyLabels(examples: ParsedExample[], labelsFile: string): string[] {
  const { file, labels } = readLabelsFile(labelsFile);
  const known = new Set(examples.map((e) => normaliseId(e.externalId)));
  const unknown = [...labels.entries()].filter(([id]) => !known.has(id));
  if (unknown.length > 0) {
    const [id, { row }] = unknown[0];
    throw new DatasetError(file, `id "${id}" is not in the dataset (${unknown.length} unknown id${unknown.length > 1 ? 's' : ''} in all)`, row, 'id');
  }
  const missing = examples.filter((e) => !labels.has(normaliseId(e.externalId)));
  if (missing.length > 0) {
    const ids = missing.slice(0, 5).map((e) => e.externalId).join(', ');
    throw new DatasetError(file, `${missing.length} example${missing.length > 1 ? 's have' : ' has'} no label (ids ${ids}${missing.length > 5 ? ', ...' : ''})`);
  }
  for (const e of examples) e.labels = [labels.get(normaliseId(e.externalId))!.label];
  return [...new Set(examples.map((e) => e.labels[0]))].sort();
}
