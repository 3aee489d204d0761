/**
 * What a study needs before a run of it can exist, checked where a run is asked for (startRun, resumeRun),
 * before anything starts: its dataset (stored, or a built-in whose file is where the catalogue says) and
 * its models registered. A run names its dataset and model (runs.dataset_id and model_id reference them):
 * a study without them cannot make a run to carry the failure, so it is refused at once, every problem
 * named with its field. A model that is registered but whose file is gone or broken does make its runs,
 * which the runner fails with the reason (runner/study.ts): that failure is stored with them.
 */
import type { StudyConfig } from '../config/study-schema';
import type { Store } from '../store';
import { resolveBuiltinDataset } from '../studies/builtins';

/** The problems by field (empty when the study can make its runs). */
export function runPreflight(store: Store, config: StudyConfig): Record<string, string> {
  const fields: Record<string, string> = {};
  const d = config.dataset;
  if (d.id !== undefined) {
    if (!store.datasets.get(d.id)) fields.dataset = `dataset ${d.id} does not exist in ${store.file} (it was deleted): choose another dataset`;
  } else if (d.builtin !== undefined) {
    try {
      resolveBuiltinDataset(d.builtin);
    } catch (e) {
      fields.dataset = e instanceof Error ? e.message : String(e);
    }
  }
  config.models.forEach((m, i) => {
    if (m.id !== undefined && !store.models.get(m.id)) fields[`models.${i}.id`] = `model ${m.id} is not registered (it was deleted): choose another model`;
  });
  return fields;
}

/** The problems in one line (each names its dataset or model). */
export function describePreflight(fields: Record<string, string>): string {
  return Object.values(fields).join('; ');
}
