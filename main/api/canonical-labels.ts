import { taskOptionLabels } from '../protocol/gold';
import { TASK_KINDS } from './vocabulary';

/**
 * The labels a dataset's label can be mapped to in the import form: the answer options of the built-in
 * tasks, as protocol/gold.ts names them (sentiment positive/negative, forced-labour yes/no, claims
 * supports/refutes/not-enough-info). A study's task.labelMap starts from the entries whose target is one of
 * its task's options; gold.ts applies the mapping, the one rule.
 */
export function canonicalLabels(): string[] {
  const out: string[] = [];
  for (const kind of TASK_KINDS) {
    if (kind === 'custom') continue;
    for (const l of taskOptionLabels({ kind })) if (!out.includes(l)) out.push(l);
  }
  return out;
}

/** The dataset's stored mapping kept to what fits a task with these options (targets among them, or null). */
export function labelMapForTask(map: Record<string, string | null> | undefined, options: readonly string[]): Record<string, string | null> | undefined {
  if (!map) return undefined;
  const kept = Object.fromEntries(Object.entries(map).filter(([, to]) => to === null || options.includes(to)));
  return Object.keys(kept).length ? kept : undefined;
}
